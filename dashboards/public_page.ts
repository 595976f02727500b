/**
 * The page residents and partners see for a published chart: the chart as SVG and the same figures
 * as a table, suppressed cells marked as such, and the threshold stated. Only the suppressed
 * result of the publication reaches this page. The embed variant is the same figure without the
 * page chrome, for partner sites to show in a frame (DASHBOARDS_EMBED_ORIGINS).
 */
import type { ChartDefinition } from './chart_definition.ts';
import type { BoundaryCollection } from './geo.ts';
import { chartHtml } from './render_chart.ts';
import { escapeHtml } from './render_svg.ts';
import type { QueryResult } from './run_query.ts';

export const CHART_STYLE = `
body{font-family:system-ui,"Hiragino Sans","Noto Sans JP",sans-serif;margin:0;color:#1a1a1a;line-height:1.6}
main{padding:1rem;max-width:48rem;margin:auto}h1{font-size:1.3rem}.en{color:#555;font-size:.9em}
figure.chart{margin:0}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:.3rem;text-align:right}
th:first-child,td:first-child{text-align:left}.scroll{overflow-x:auto}.note{font-size:.9rem}
caption{text-align:left;font-weight:600}
`;

export type Published = QueryResult & { title: string; vegaLite: Record<string, unknown> };

export function definitionOf(p: Published): ChartDefinition {
  return (p.vegaLite['usermeta'] as { tsunagu: ChartDefinition }).tsunagu;
}

export function publicChartHtml(
  p: Published,
  layer?: BoundaryCollection,
  options: { embed?: boolean } = {},
): string {
  const body = chartHtml(p.title, definitionOf(p), p, layer);
  return `<!doctype html>
<html lang="ja">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(p.title)} — Tsunagu</title><style>${CHART_STYLE}${options.embed ? 'main{padding:.25rem}h1{font-size:1rem;margin:0}' : ''}</style></head>
<body><main>
<h1>${escapeHtml(p.title)}</h1>
${body}
</main></body></html>`;
}
