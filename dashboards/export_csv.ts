/**
 * Streams a view's rows, with filters, as CSV (UTF-8 with BOM so spreadsheet software in Japan
 * opens it as UTF-8). Rows are read through a server-side cursor in pages, so memory stays flat
 * however many rows the view holds.
 */
import type { Response } from 'express';
import type { Database } from '../core/index.ts';
import type { Filter } from './chart_definition.ts';
import { whereClause } from './run_query.ts';
import type { AnalyticsView } from './views.ts';

const PAGE = 5000;

export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const s = value instanceof Date ? value.toISOString() : String(value);
  return /[",\r\n]/.test(s) || /^[=+@]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(values: unknown[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

export async function streamViewCsv(
  db: Database,
  view: AnalyticsView,
  filters: Filter[],
  res: Response,
): Promise<number> {
  const columns = [...Object.keys(view.dimensions), ...Object.keys(view.measures)];
  const select = columns.map((c) =>
    view.dimensions[c] === 'date' ? `to_char("${c}", 'YYYY-MM-DD') AS "${c}"` : `"${c}"::text AS "${c}"`,
  );
  const params: unknown[] = [];
  const where = whereClause(filters, params);
  const client = await db.pool.connect();
  let count = 0;
  try {
    await client.query('BEGIN READ ONLY');
    await client.query(
      `DECLARE export_cursor NO SCROLL CURSOR FOR SELECT ${select.join(', ')} FROM ${view.table} ${where} ORDER BY ${columns
        .slice(0, Object.keys(view.dimensions).length)
        .map((c) => `"${c}"`)
        .join(', ')}`,
      params,
    );
    res.status(200).type('text/csv; charset=utf-8');
    res.setHeader('content-disposition', `attachment; filename="${view.name}.csv"`);
    res.write(`\uFEFF${csvLine(columns)}`);
    for (;;) {
      const { rows } = await client.query<Record<string, string | null>>(`FETCH ${PAGE} FROM export_cursor`);
      if (rows.length === 0) break;
      count += rows.length;
      const ok = res.write(rows.map((r) => csvLine(columns.map((c) => r[c]))).join(''));
      if (!ok) await new Promise((resolve) => res.once('drain', resolve));
    }
    await client.query('COMMIT');
    res.end();
    return count;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
