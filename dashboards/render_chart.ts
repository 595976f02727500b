/**
 * A chart's figure as server-rendered HTML: SVG for every chart type (bar, line, area, pie, heat
 * map, and maps drawn from the GeoJSON boundary layer — no tile server, no script) followed by the
 * same figures as a table, suppressed cells marked. Used by the builder's preview, the dashboard
 * page and published charts, so what an analyst previews is what residents see.
 */
import type { ChartDefinition } from './chart_definition.ts';
import type { BoundaryCollection, Position } from './geo.ts';
import { chartSvg, COLOURS, escapeHtml, formatNumber } from './render_svg.ts';
import type { QueryResult, Row } from './run_query.ts';

const W = 640;
const H = 360;

function value(row: Row, column: string): number | null {
  const v = row[column];
  return typeof v === 'number' ? v : null;
}

/** Sequential blues, light to dark; the lightest still contrasts 3:1 with the no-data grey hatch. */
const SCALE = ['#c6dbef', '#9ecae1', '#6baed6', '#3182bd', '#08519c'];

function shade(v: number | null, max: number): string {
  if (v === null) return '#e0e0e0';
  if (max <= 0) return SCALE[0]!;
  return SCALE[Math.min(SCALE.length - 1, Math.floor((v / max) * SCALE.length))]!;
}

function legend(max: number): string {
  return SCALE.map((c, i) => {
    const lo = (max / SCALE.length) * i;
    return `<rect x="${8 + i * 90}" y="${H - 22}" width="14" height="14" fill="${c}" stroke="#555"/><text x="${26 + i * 90}" y="${H - 10}" font-size="11">${formatNumber(Math.round(lo))}–</text>`;
  }).join('');
}

function pieSvg(title: string, rows: Row[], dim: string, measure: string): string {
  const values = rows.map((r) => Math.max(0, value(r, measure) ?? 0));
  const total = values.reduce((a, b) => a + b, 0);
  const cx = 180;
  const cy = 170;
  const radius = 140;
  let angle = -Math.PI / 2;
  const parts: string[] = [];
  rows.forEach((row, i) => {
    const v = values[i]!;
    if (v <= 0 || total <= 0) return;
    const next = angle + (v / total) * Math.PI * 2;
    const large = next - angle > Math.PI ? 1 : 0;
    const [x1, y1] = [cx + radius * Math.cos(angle), cy + radius * Math.sin(angle)];
    const [x2, y2] = [cx + radius * Math.cos(next), cy + radius * Math.sin(next)];
    const label = `${String(row[dim] ?? '')}: ${formatNumber(v)}`;
    const d =
      v === total
        ? `M ${cx - radius} ${cy} a ${radius} ${radius} 0 1 0 ${radius * 2} 0 a ${radius} ${radius} 0 1 0 ${-radius * 2} 0`
        : `M ${cx} ${cy} L ${x1.toFixed(1)} ${y1.toFixed(1)} A ${radius} ${radius} 0 ${large} 1 ${x2.toFixed(1)} ${y2.toFixed(1)} Z`;
    parts.push(
      `<path class="mark" d="${d}" fill="${COLOURS[i % COLOURS.length]}" stroke="#fff"><title>${escapeHtml(label)}</title></path>`,
    );
    angle = next;
  });
  rows.forEach((row, i) => {
    parts.push(
      `<rect x="360" y="${20 + i * 22}" width="14" height="14" fill="${COLOURS[i % COLOURS.length]}"/><text x="380" y="${32 + i * 22}" font-size="12">${escapeHtml(String(row[dim] ?? ''))}</text>`,
    );
  });
  return svg(title, parts.join(''));
}

function svg(title: string, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${escapeHtml(title)}"><title>${escapeHtml(title)}</title>${body}</svg>`;
}

function heatmapSvg(title: string, rows: Row[], dx: string, dy: string, measure: string): string {
  const xs = [...new Set(rows.map((r) => String(r[dx] ?? '')))];
  const ys = [...new Set(rows.map((r) => String(r[dy] ?? '')))];
  const left = 90;
  const top = 10;
  const cw = (W - left - 10) / Math.max(1, xs.length);
  const ch = (H - top - 60) / Math.max(1, ys.length);
  const max = Math.max(0, ...rows.map((r) => value(r, measure) ?? 0));
  const parts: string[] = [];
  for (const row of rows) {
    const x = left + xs.indexOf(String(row[dx] ?? '')) * cw;
    const y = top + ys.indexOf(String(row[dy] ?? '')) * ch;
    const v = value(row, measure);
    const label = `${String(row[dx] ?? '')} × ${String(row[dy] ?? '')}: ${v === null ? '秘匿 / suppressed' : formatNumber(v)}`;
    parts.push(
      `<rect class="mark" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${cw.toFixed(1)}" height="${ch.toFixed(1)}" fill="${shade(v, max)}" stroke="#fff"><title>${escapeHtml(label)}</title></rect>`,
    );
  }
  ys.forEach((label, i) =>
    parts.push(
      `<text x="${left - 4}" y="${(top + ch * (i + 0.5) + 4).toFixed(1)}" text-anchor="end" font-size="11">${escapeHtml(label)}</text>`,
    ),
  );
  const every = Math.max(1, Math.ceil(xs.length / 8));
  xs.forEach((label, i) => {
    if (i % every === 0)
      parts.push(
        `<text x="${(left + cw * (i + 0.5)).toFixed(1)}" y="${H - 40}" text-anchor="middle" font-size="11">${escapeHtml(label)}</text>`,
      );
  });
  return svg(title, parts.join('') + legend(max));
}

/** Web Mercator y for a latitude (degrees), unscaled. */
function mercatorY(lat: number): number {
  const r = (lat * Math.PI) / 180;
  return Math.log(Math.tan(Math.PI / 4 + r / 2));
}

function mapSvg(title: string, rows: Row[], dim: string, measure: string, layer: BoundaryCollection): string {
  const byArea = new Map(rows.map((r) => [String(r[dim] ?? ''), value(r, measure)]));
  const all: Position[] = layer.features.flatMap((f) =>
    (f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates).flat(2),
  );
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => mercatorY(p[1]));
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const lonScale = Math.PI / 180;
  const scale = Math.min((W - 20) / ((maxX - minX) * lonScale || 1), (H - 50) / (maxY - minY || 1));
  const project = ([lon, lat]: Position) =>
    `${(10 + (lon - minX) * lonScale * scale).toFixed(1)},${(10 + (maxY - mercatorY(lat)) * scale).toFixed(1)}`;
  const max = Math.max(0, ...[...byArea.values()].map((v) => v ?? 0));
  const paths = layer.features.map((f) => {
    const polygons = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates;
    const d = polygons
      .map((poly) => poly.map((ring) => `M${ring.map(project).join('L')}Z`).join(''))
      .join('');
    const v = byArea.has(f.properties.area) ? byArea.get(f.properties.area)! : null;
    const shown = byArea.has(f.properties.area) ? (v === null ? '秘匿 / suppressed' : formatNumber(v)) : '—';
    return `<path class="mark" data-area="${escapeHtml(f.properties.area)}" d="${d}" fill="${shade(v, max)}" fill-rule="evenodd" stroke="#333" stroke-width="0.8"><title>${escapeHtml(`${f.properties.name}: ${shown}`)}</title></path>`;
  });
  return svg(title, paths.join('') + legend(max));
}

function cell(row: Row, column: string, measures: Set<string>): string {
  const v = row[column];
  if (measures.has(column) && row['suppressed'] === true)
    return '<td class="suppressed">秘匿 <span class="en">/ suppressed</span></td>';
  if (typeof v === 'number') return `<td>${formatNumber(v)}</td>`;
  return `<td>${escapeHtml(String(v ?? ''))}</td>`;
}

/** The SVG of a chart (empty for tables). */
export function chartFigure(
  title: string,
  d: Pick<ChartDefinition, 'chartType' | 'dimensions' | 'measures'>,
  rows: Row[],
  layer?: BoundaryCollection,
): string {
  const dims = d.dimensions;
  const measures = d.measures.map((m) => m.column);
  switch (d.chartType) {
    case 'bar':
    case 'line':
    case 'area': {
      if (dims.length === 2) {
        // Second dimension as series.
        const labels = [...new Set(rows.map((r) => String(r[dims[0]!] ?? '')))];
        const groups = [...new Set(rows.map((r) => String(r[dims[1]!] ?? '')))];
        return chartSvg({
          title,
          labels,
          kind: d.chartType,
          series: groups.map((g) => ({
            name: g,
            values: labels.map((l) => {
              const row = rows.find(
                (r) => String(r[dims[0]!] ?? '') === l && String(r[dims[1]!] ?? '') === g,
              );
              return row ? value(row, measures[0]!) : null;
            }),
          })),
        });
      }
      return chartSvg({
        title,
        labels: rows.map((r) => String(r[dims[0]!] ?? '')),
        kind: d.chartType,
        series: measures.map((m) => ({ name: m, values: rows.map((r) => value(r, m)) })),
      });
    }
    case 'pie':
      return pieSvg(title, rows, dims[0]!, measures[0]!);
    case 'heatmap':
      return heatmapSvg(title, rows, dims[0]!, dims[1]!, measures[0]!);
    case 'map':
      return layer ? mapSvg(title, rows, dims[0]!, measures[0]!, layer) : '';
    default:
      return '';
  }
}

/** Figure and data table, with the suppression note when the result is a published one. */
export function chartHtml(
  title: string,
  d: Pick<ChartDefinition, 'chartType' | 'dimensions' | 'measures'>,
  result: QueryResult,
  layer?: BoundaryCollection,
): string {
  const figure = chartFigure(title, d, result.rows, layer);
  const columns = [...d.dimensions, ...d.measures.map((m) => m.column)];
  const measureSet = new Set(d.measures.map((m) => m.column));
  const k = result.suppression?.k;
  return `${figure ? `<figure class="chart">${figure}</figure>` : ''}
<div class="scroll"><table class="data">
<caption>データ表 <span class="en">/ Data table</span>: ${escapeHtml(title)}</caption>
<thead><tr>${columns.map((c) => `<th scope="col">${escapeHtml(c)}</th>`).join('')}</tr></thead>
<tbody>${result.rows.map((r) => `<tr>${columns.map((c) => cell(r, c, measureSet)).join('')}</tr>`).join('')}</tbody>
</table></div>
${
  k === undefined
    ? ''
    : `<p class="note">${k}人未満の集計は秘匿し、他の集計からも除いています。<span class="en">Figures about fewer than ${k} people are suppressed and left out of every other figure.</span></p>`
}`;
}
