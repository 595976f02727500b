/**
 * Reads a list of target residents from a CSV file staff upload: one common ID per row, in the
 * column headed `common_id` (or `共通ID`), else the first column. A first row that is not a common
 * ID is taken as the header. The IDs are ASCII, so a file saved by Excel in Shift_JIS or UTF-8 (with
 * or without BOM) reads the same. Blank rows are skipped; any other value fails the whole file with
 * the row numbers, so a half-right file adds nobody.
 */
import { parse } from 'csv-parse/sync';
import { ProblemError } from '../../core/index.ts';
import { COMMON_ID } from './service_registry.ts';

export function parseTargetsCsv(bytes: Buffer): string[] {
  let text = bytes.toString('latin1');
  if (text.startsWith('\u00ef\u00bb\u00bf')) text = text.slice(3);
  let rows: string[][];
  try {
    rows = parse(text, { relax_column_count: true, skip_empty_lines: true, trim: true }) as string[][];
  } catch {
    throw new ProblemError('validation-failed', { detail: 'The file is not a CSV file.' });
  }
  if (rows.length === 0) throw new ProblemError('validation-failed', { detail: 'The file has no rows.' });
  let column = 0;
  let first = 0;
  const head = rows[0]!;
  if (!head.some((c) => COMMON_ID.test(c))) {
    first = 1;
    const named = head.findIndex(
      (c) => /^common_?id$/i.test(c) || c === Buffer.from('共通ID').toString('latin1'),
    );
    column = named === -1 ? 0 : named;
  }
  const ids: string[] = [];
  const bad: number[] = [];
  rows.slice(first).forEach((row, i) => {
    const value = (row[column] ?? '').toLowerCase();
    if (!value) return;
    if (COMMON_ID.test(value)) ids.push(value);
    else bad.push(i + first + 1);
  });
  if (bad.length)
    throw new ProblemError('validation-failed', {
      detail: `Rows ${bad.slice(0, 10).join(', ')}${bad.length > 10 ? ', …' : ''} are not common IDs; nobody was added.`,
    });
  if (ids.length === 0)
    throw new ProblemError('validation-failed', { detail: 'The file has no common IDs.' });
  return ids;
}
