/**
 * Reads a previous system's export into records: CSV (UTF-8 with or without BOM, or Shift_JIS,
 * strictly decoded) or JSON (an array of objects, or `{ "rows": [...] }`). A mapping renames the
 * source's columns to ours (`{ "user_id": "会員番号", "amount": "残高" }`); unmapped columns keep their
 * names. Record numbers are line numbers for CSV (header = 1) and 1-based indexes for JSON.
 */
import { createHash } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';

export interface SourceRecord {
  /** Line number (CSV) or index (JSON) for the report. */
  at: number;
  get(field: string): string;
}

export type Mapping = Record<string, string>;

export interface Source {
  format: 'csv' | 'json';
  records: SourceRecord[];
  sha256: string;
}

export class SourceError extends Error {
  override name = 'SourceError';
}

function decode(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const text = iconv.decode(Buffer.from(bytes), 'cp932');
    if (text.includes('\uFFFD') || !iconv.encode(text, 'cp932').equals(Buffer.from(bytes)))
      throw new SourceError('the file is neither UTF-8 nor Shift_JIS');
    return text;
  }
}

export function readSource(bytes: Uint8Array, mapping: Mapping = {}): Source {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const text = decode(bytes).replace(/^\uFEFF/, '');
  const column = (field: string) => mapping[field] ?? field;
  if (/^\s*[[{]/.test(text)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new SourceError('the JSON cannot be parsed');
    }
    const rows = Array.isArray(parsed) ? parsed : (parsed as { rows?: unknown }).rows;
    if (!Array.isArray(rows))
      throw new SourceError('the JSON must be an array of objects or { "rows": [...] }');
    return {
      format: 'json',
      sha256,
      records: rows.map((row, index) => ({
        at: index + 1,
        get: (field) => {
          const value = (row as Record<string, unknown>)?.[column(field)];
          return value === undefined || value === null ? '' : String(value).trim();
        },
      })),
    };
  }
  let lines: string[][];
  try {
    lines = parse(text, { skip_empty_lines: true, relax_column_count: true });
  } catch {
    throw new SourceError('the CSV cannot be parsed');
  }
  const header = (lines[0] ?? []).map((h) => h.trim().normalize('NFKC'));
  return {
    format: 'csv',
    sha256,
    records: lines.slice(1).map((cells, index) => ({
      at: index + 2,
      get: (field) => {
        const i = header.indexOf(column(field).normalize('NFKC'));
        return i < 0 ? '' : (cells[i] ?? '').trim();
      },
    })),
  };
}

/** `YYYY-MM-DD` (a JST day: its start, or with `endOfDay` the next JST midnight) or an ISO date-time. */
export function parseInstant(value: string, options: { endOfDay?: boolean } = {}): Date | undefined {
  const v = value.normalize('NFKC').trim().replaceAll('/', '-');
  const day = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(v);
  if (day) {
    const [y, m, d] = [Number(day[1]), Number(day[2]), Number(day[3])];
    const utc = Date.UTC(y, m - 1, d + (options.endOfDay ? 1 : 0)) - 9 * 3600_000;
    const check = new Date(Date.UTC(y, m - 1, d));
    if (check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) return undefined;
    return new Date(utc);
  }
  if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(v)) return undefined;
  // A date-time without an offset is JST, as the previous systems recorded it.
  const iso = /(Z|[+-]\d{2}:?\d{2})$/.test(v) ? v.replace(' ', 'T') : `${v.replace(' ', 'T')}+09:00`;
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** A stable key for a record: its own id column when it has one, else a hash of its content. */
export function rowKey(idValue: string, content: unknown[], seen: Map<string, number>): string {
  if (idValue) return `id:${idValue}`;
  const hash = createHash('sha256').update(JSON.stringify(content)).digest('base64url').slice(0, 32);
  const n = (seen.get(hash) ?? 0) + 1;
  seen.set(hash, n);
  return `h:${hash}:${n}`;
}
