/**
 * The page residents and partners see for a published chart: the chart as SVG and the same figures
 * as a table, suppressed cells marked as such, and the threshold stated. Only the suppressed
 * result of the publication reaches this page.
 */

import { chartSvg, escapeHtml, formatNumber } from './render_svg.ts';
import type { QueryResult, Row } from './run_query.ts';

const STYLE = `
body{font-family:system-ui,"Hiragino Sans","Noto Sans JP",sans-serif;margin:0;color:#1a1a1a;line-height:1.6}
main{padding:1rem;max-width:48rem;margin:auto}h1{font-size:1.3rem}.en{color:#555;font-size:.9em}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:.3rem;text-align:right}
th:first-child,td:first-child{text-align:left}.scroll{overflow-x:auto}.note{font-size:.9rem}
`;

function cell(row: Row, column: string, measures: Set<string>): string {
  const v = row[column];
  if (measures.has(column) && row['suppressed'] === true)
    return '<td class="suppressed">秘匿 <span class="en">/ suppressed</span></td>';
  if (typeof v === 'number') return `<td>${formatNumber(v)}</td>`;
  return `<td>${escapeHtml(String(v ?? ''))}</td>`;
}

export function publicChartHtml(
  p: QueryResult & { title: string; vegaLite: Record<string, unknown> },
): string {
  const meta = (
    p.vegaLite['usermeta'] as {
      tsunagu: { dimensions: string[]; measures: Array<{ column: string }>; chartType: string };
    }
  ).tsunagu;
  const dims = meta.dimensions;
  const measures = meta.measures.map((m) => m.column);
  const measureSet = new Set(measures);
  const chart =
    dims.length === 1 && ['bar', 'line', 'area'].includes(meta.chartType)
      ? chartSvg({
          title: p.title,
          labels: p.rows.map((r) => String(r[dims[0]!] ?? '')),
          series: measures.map((m) => ({
            name: m,
            values: p.rows.map((r) => (typeof r[m] === 'number' ? (r[m] as number) : null)),
          })),
          kind: meta.chartType === 'bar' ? 'bar' : 'line',
        })
      : '';
  const k = p.suppression?.k;
  return `<!doctype html>
<html lang="ja">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(p.title)} — Tsunagu</title><style>${STYLE}</style></head>
<body><main>
<h1>${escapeHtml(p.title)}</h1>
${chart ? `<figure style="margin:0">${chart}</figure>` : ''}
<div class="scroll"><table>
<caption>データ表 <span class="en">/ Data table</span></caption>
<thead><tr>${[...dims, ...measures].map((c) => `<th scope="col">${escapeHtml(c)}</th>`).join('')}</tr></thead>
<tbody>${p.rows.map((r) => `<tr>${[...dims, ...measures].map((c) => cell(r, c, measureSet)).join('')}</tr>`).join('')}</tbody>
</table></div>
${
  k === undefined
    ? ''
    : `<p class="note">${k}人未満の集計は秘匿し、他の集計からも除いています。<span class="en">Figures about fewer than ${k} people are suppressed and left out of every other figure.</span></p>`
}
</main></body></html>`;
}
