/**
 * Turns a chart definition into one aggregate query over its view. With `k`, the rows are prepared
 * for publication: every base row whose individuals count is under k is left out of every cell
 * before aggregating, and a cell left with no base row shows no value. Because the same base rows
 * are left out of every publication, subtracting two published figures (differencing) only ever
 * yields sums of rows that were themselves publishable.
 */
import type { Database } from '../core/index.ts';
import type { ChartDefinition, Filter } from './chart_definition.ts';
import { chooseSource } from './choose_source.ts';
import type { AnalyticsView } from './views.ts';

export type Row = Record<string, string | number | null | boolean>;

export interface QueryResult {
  columns: string[];
  rows: Row[];
  /** The table that answered: the view's own or its monthly rollup. */
  source?: string;
  /** Present on published results: the threshold and how many cells were hidden entirely. */
  suppression?: { k: number; suppressedCells: number; rowsLeftOut: number };
}

/** SQL and parameters of the filters; identifiers come from the checked definition. */
export function whereClause(filters: Filter[], params: unknown[]): string {
  const parts = filters.map((f) => {
    const col = `"${f.column}"`;
    if (f.op === 'in') {
      params.push((f.value as Array<string | number>).map(String));
      return `${col}::text = ANY($${params.length}::text[])`;
    }
    params.push(String(f.value));
    const op = { eq: '=', gte: '>=', lte: '<=' }[f.op];
    return `${col} ${op} $${params.length}`;
  });
  return parts.length > 0 ? `WHERE ${parts.join(' AND ')}` : '';
}

function dimensionSelect(view: AnalyticsView, dim: string): string {
  return view.dimensions[dim] === 'date' ? `to_char("${dim}", 'YYYY-MM-DD') AS "${dim}"` : `"${dim}"`;
}

/** A map chart over a view with several boundary layers reads only its own layer's areas. */
function withLayer(view: AnalyticsView, d: ChartDefinition, filters: Filter[]): Filter[] {
  return d.layer !== undefined && 'layer' in view.dimensions
    ? [...filters, { column: 'layer', op: 'eq', value: d.layer }]
    : filters;
}

export async function runQuery(
  db: Database,
  view: AnalyticsView,
  d: ChartDefinition,
  options: { k?: number } = {},
): Promise<QueryResult> {
  const params: unknown[] = [];
  const source = chooseSource(view, d);
  const where = whereClause(withLayer(view, d, source.filters), params);
  const dims = d.dimensions.map((dim) => dimensionSelect(view, dim));
  const groupBy = d.dimensions.length > 0 ? `GROUP BY ${d.dimensions.map((_, i) => i + 1).join(', ')}` : '';
  const orderBy = d.dimensions.length > 0 ? `ORDER BY ${d.dimensions.map((_, i) => i + 1).join(', ')}` : '';
  const suppress = options.k !== undefined && view.individuals !== undefined;
  let keep = '';
  if (suppress) {
    params.push(options.k);
    keep = `"${view.individuals}" >= $${params.length}`;
  }
  const measures = d.measures.map(
    (m) =>
      `(${m.aggregate}("${m.column}")${suppress ? ` FILTER (WHERE ${keep})` : ''})::float8 AS "${m.column}"`,
  );
  const extra = suppress
    ? [
        `count(*) FILTER (WHERE ${keep})::int AS "__kept"`,
        `count(*) FILTER (WHERE NOT (${keep}))::int AS "__left_out"`,
      ]
    : [];
  const sql = `SELECT ${[...dims, ...measures, ...extra].join(', ')} FROM ${source.table} ${where} ${groupBy} ${orderBy}`;
  const { rows } = await db.query<Row>(sql, params);
  const columns = [...d.dimensions, ...d.measures.map((m) => m.column)];
  if (!suppress) return { columns, rows, source: source.table };
  let suppressedCells = 0;
  let rowsLeftOut = 0;
  const published = rows.map((r) => {
    rowsLeftOut += Number(r['__left_out']);
    const hidden = Number(r['__kept']) === 0;
    if (hidden) suppressedCells++;
    const out: Row = {};
    for (const c of columns) out[c] = hidden && c in view.measures ? null : (r[c] ?? null);
    out['suppressed'] = hidden;
    return out;
  });
  return {
    columns: [...columns, 'suppressed'],
    rows: published,
    source: source.table,
    suppression: { k: options.k!, suppressedCells, rowsLeftOut },
  };
}
