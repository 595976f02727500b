/**
 * Parses a bulk grant CSV: a header naming `resident` and `amount` (and optionally `expires_at`, an
 * ISO date or date-time), one grant per row. UTF-8, optional BOM, CRLF or LF, no quoted commas
 * (IDs and amounts never contain them). Every bad row is reported; none is granted then.
 */
import { ProblemError } from '../core/index.ts';

export interface GrantRow {
  resident: string;
  amount: number;
  expiresAt: string | undefined;
}

const MAX_ROWS = 200_000;

export function parseGrantCsv(text: string): GrantRow[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = (lines.shift() ?? '').split(',').map((h) => h.trim().replace(/^"|"$/g, '').toLowerCase());
  const iResident = header.indexOf('resident');
  const iAmount = header.indexOf('amount');
  const iExpires = header.indexOf('expires_at');
  if (iResident < 0 || iAmount < 0) {
    throw new ProblemError('csv-invalid', {
      detail: 'The header must name the columns resident and amount.',
    });
  }
  const rows: GrantRow[] = [];
  const errors: Array<{ line: number; message: string }> = [];
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const cells = line.split(',').map((c) => c.trim().replace(/^"|"$/g, ''));
    const lineNo = index + 2;
    const resident = cells[iResident] ?? '';
    const amount = Number(cells[iAmount]);
    const expires = iExpires >= 0 ? cells[iExpires] || undefined : undefined;
    if (!resident) errors.push({ line: lineNo, message: 'resident is empty' });
    else if (!Number.isSafeInteger(amount) || amount <= 0)
      errors.push({ line: lineNo, message: 'amount must be a positive integer' });
    else if (expires !== undefined && Number.isNaN(Date.parse(expires)))
      errors.push({ line: lineNo, message: 'expires_at is not a date' });
    else rows.push({ resident, amount, expiresAt: expires });
  });
  if (errors.length > 0) {
    throw new ProblemError('csv-invalid', {
      detail: `${errors.length} row(s) are invalid; nothing was granted.`,
      errors: errors.slice(0, 50),
    });
  }
  if (rows.length === 0) throw new ProblemError('csv-invalid', { detail: 'The file has no rows.' });
  if (rows.length > MAX_ROWS)
    throw new ProblemError('csv-invalid', { detail: `At most ${MAX_ROWS} rows per file.` });
  return rows;
}
