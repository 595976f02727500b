/**
 * Streams a view's rows, with filters, as CSV (UTF-8 with BOM so spreadsheet software in Japan
 * opens it as UTF-8). Rows come page by page through a server-side cursor, so memory stays flat
 * however many rows the view holds.
 */
import type { Response } from 'express';
import type { Database } from '../core/index.ts';
import type { Filter } from './chart_definition.ts';
import { readViewPages, viewColumns } from './read_view_pages.ts';
import type { AnalyticsView } from './views.ts';
import { writeWithBackpressure } from './write_with_backpressure.ts';

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
  const columns = viewColumns(view);
  let count = 0;
  const pages = readViewPages(db, view, filters);
  // The first page is read before any header goes out, so a failing query still answers problem+json.
  try {
    const first = await pages.next();
    res.status(200).type('text/csv; charset=utf-8');
    res.setHeader('content-disposition', `attachment; filename="${view.name}.csv"`);
    await writeWithBackpressure(res, `\uFEFF${csvLine(columns)}`);
    if (!first.done) {
      const write = async (rows: typeof first.value) => {
        count += rows.length;
        await writeWithBackpressure(res, rows.map((r) => csvLine(columns.map((c) => r[c]))).join(''));
      };
      await write(first.value);
      for await (const rows of pages) await write(rows);
    }
    res.end();
    return count;
  } finally {
    await pages.return(undefined);
  }
}
