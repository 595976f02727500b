/**
 * Reads a view's rows, with filters, in pages through a server-side cursor inside one read-only
 * transaction, so an export's memory stays flat however many rows the view holds. Dates come as
 * days since 1970-01-01 (integers) when `daysAsNumbers` is set (Arrow's DateDay), else as
 * YYYY-MM-DD; measures as float8; text as text. Stopping the iteration early (a client went away)
 * closes the cursor and releases the connection.
 */
import type { Database } from '../core/index.ts';
import type { Filter } from './chart_definition.ts';
import { whereClause } from './run_query.ts';
import type { AnalyticsView } from './views.ts';

export const PAGE_ROWS = 5000;

export type PageRow = Record<string, string | number | null>;

export function viewColumns(view: AnalyticsView): string[] {
  return [...Object.keys(view.dimensions), ...Object.keys(view.measures)];
}

export async function* readViewPages(
  db: Database,
  view: AnalyticsView,
  filters: Filter[],
  options: { daysAsNumbers?: boolean; pageRows?: number } = {},
): AsyncGenerator<PageRow[]> {
  const columns = viewColumns(view);
  const select = columns.map((c) => {
    if (view.dimensions[c] === 'date')
      return options.daysAsNumbers
        ? `("${c}" - date '1970-01-01')::int AS "${c}"`
        : `to_char("${c}", 'YYYY-MM-DD') AS "${c}"`;
    return c in view.measures ? `"${c}"::float8 AS "${c}"` : `"${c}"::text AS "${c}"`;
  });
  const params: unknown[] = [];
  const where = whereClause(filters, params);
  const order = Object.keys(view.dimensions)
    .map((c) => `"${c}"`)
    .join(', ');
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN READ ONLY');
    await client.query(
      `DECLARE export_cursor NO SCROLL CURSOR FOR SELECT ${select.join(', ')} FROM ${view.table} ${where} ORDER BY ${order}`,
      params,
    );
    for (;;) {
      const { rows } = await client.query<PageRow>(
        `FETCH ${options.pageRows ?? PAGE_ROWS} FROM export_cursor`,
      );
      if (rows.length === 0) break;
      yield rows;
    }
    await client.query('COMMIT');
  } finally {
    // Still inside the transaction when the consumer stopped early or a query failed.
    await client.query('ROLLBACK').catch(() => {});
    client.release();
  }
}
