/**
 * Reads a health-app CSV file: UTF-8 (a BOM is fine), a header row, then one row per resident and
 * day. Columns, in any order, by English or Japanese header:
 *
 *   email | メールアドレス        the resident's e-mail address in the health app (required)
 *   date  | 日付                  YYYY-MM-DD or YYYY/MM/DD (required)
 *   steps | 歩数   or  points | 健康ポイント | ポイント   the value (exactly one of them)
 *   record_id | レコードID        the app's own row id (optional; makes the row's identity)
 *
 * A row's identity (`key`) is its record id, or else (metric, e-mail, date): the same row in a later
 * file is recognised and never paid twice. Bad rows are reported by line, never fatal; a bad header
 * fails the whole file.
 */
import { parse } from 'csv-parse/sync';
import { ProblemError } from '../../core/index.ts';
import '../kit/problems.ts';

export interface HealthRow {
  line: number;
  email: string;
  date: string;
  value: number;
  recordId: string | undefined;
}

export interface ParsedHealthCsv {
  metric: 'steps' | 'points';
  rows: HealthRow[];
  invalid: Array<{ line: number; reason: string }>;
}

const HEADERS: Record<string, 'email' | 'date' | 'steps' | 'points' | 'recordId'> = {
  email: 'email',
  'e-mail': 'email',
  メールアドレス: 'email',
  date: 'date',
  日付: 'date',
  steps: 'steps',
  歩数: 'steps',
  points: 'points',
  ポイント: 'points',
  健康ポイント: 'points',
  record_id: 'recordId',
  レコードid: 'recordId',
};

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;
const DATE = /^(\d{4})[-/](\d{2})[-/](\d{2})$/;

export function normaliseEmail(email: string): string {
  return email.normalize('NFKC').trim().toLowerCase();
}

/**
 * Records with their physical line. A file without any double quote has no quoted fields, so lines
 * and commas are exactly its records and fields (five times faster than a full CSV parser on 100k
 * rows); anything else goes through csv-parse.
 */
function readRecords(text: string): Array<{ record: string[]; info: { lines: number } }> {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (!body.includes('"')) {
    const out: Array<{ record: string[]; info: { lines: number } }> = [];
    const lines = body.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.endsWith('\r') ? lines[i]!.slice(0, -1) : lines[i]!;
      if (line.trim() === '') continue;
      out.push({ record: line.split(',').map((c) => c.trim()), info: { lines: i + 1 } });
    }
    return out;
  }
  try {
    return parse(body, {
      skip_empty_lines: true,
      relax_column_count: true,
      trim: true,
      info: true,
    }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
  } catch (error) {
    throw new ProblemError('import-invalid', {
      detail: `Not a readable CSV file: ${(error as Error).message}`,
    });
  }
}

export function parseHealthCsv(text: string): ParsedHealthCsv {
  const records = readRecords(text);
  const header = records[0]?.record.map((h) => HEADERS[h.normalize('NFKC').trim().toLowerCase()]);
  if (!header) throw new ProblemError('import-invalid', { detail: 'The file is empty.' });
  const at = (name: string) => header.indexOf(name as never);
  const email = at('email');
  const date = at('date');
  const steps = at('steps');
  const points = at('points');
  const recordId = at('recordId');
  if (email < 0 || date < 0)
    throw new ProblemError('import-invalid', { detail: 'The header needs email and date columns.' });
  if (steps < 0 === points < 0)
    throw new ProblemError('import-invalid', { detail: 'The header needs exactly one of steps or points.' });
  const metric = steps >= 0 ? 'steps' : 'points';
  const valueAt = steps >= 0 ? steps : points;

  const rows: HealthRow[] = [];
  const invalid: ParsedHealthCsv['invalid'] = [];
  for (let i = 1; i < records.length; i++) {
    const { record, info } = records[i]!;
    const line = info.lines;
    const e = normaliseEmail(record[email] ?? '');
    const d = DATE.exec(record[date] ?? '');
    const raw = record[valueAt] ?? '';
    const value = /^[0-9]{1,9}$/.test(raw) ? Number(raw) : NaN;
    if (!EMAIL.test(e)) invalid.push({ line, reason: 'email' });
    else if (!d || Number.isNaN(Date.parse(`${d[1]}-${d[2]}-${d[3]}T00:00:00Z`)))
      invalid.push({ line, reason: 'date' });
    else if (Number.isNaN(value)) invalid.push({ line, reason: metric });
    else
      rows.push({
        line,
        email: e,
        date: `${d[1]}-${d[2]}-${d[3]}`,
        value,
        recordId: recordId >= 0 && record[recordId] ? record[recordId] : undefined,
      });
  }
  return { metric, rows, invalid };
}
