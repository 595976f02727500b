/**
 * Checks one typed cell and, where it is safe, repairs it. A repair is always reported by the caller
 * (row, column, before → after, rule); a value that cannot be recovered is an error and the row is
 * not registered. Free text (`text`) is never touched: normalising it would, among other things,
 * turn （） into () that Orion rejects.
 */
import type { ColumnKind } from './standard_datasets.ts';

export type RuleId =
  | 'code6.leading-zero'
  | 'code6.check-digit-added'
  | 'code6.invalid'
  | 'width.halfwidth'
  | 'kana.halfwidth'
  | 'date.format'
  | 'date.wareki'
  | 'date.excel-serial'
  | 'date.sentinel'
  | 'date.invalid'
  | 'time.format'
  | 'time.free-text'
  | 'number.format'
  | 'number.invalid'
  | 'excel.exponent'
  | 'flag.mark'
  | 'flag.invalid'
  | 'umu.word'
  | 'umu.invalid'
  | 'phone.parentheses'
  | 'list.separator'
  | 'coord.invalid'
  | 'corporate.invalid';

export interface ValueOutcome {
  value: string;
  /** Set when `value` differs from the input because of this rule. */
  repair?: RuleId;
  error?: RuleId;
  warning?: RuleId;
}

const ok = (value: string): ValueOutcome => ({ value });
const repaired = (value: string, rule: RuleId): ValueOutcome => ({ value, repair: rule });
const error = (value: string, rule: RuleId): ValueOutcome => ({ value, error: rule });

const FULL_WIDTH = /[\uff01-\uff5e\u3000]/;

/** Full-width ASCII (digits, letters, ：－（）) to half-width, nothing else. */
export function toHalfWidthAscii(s: string): string {
  if (!FULL_WIDTH.test(s)) return s;
  return s
    .replace(/[\uff01-\uff5e]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) - 0xfee0))
    .replace(/\u3000/g, ' ');
}

/** JIS X 0402 check digit of a 5-digit code. */
export function checkDigit(five: string): number {
  const d = [...five].map(Number);
  const sum = 6 * d[0]! + 5 * d[1]! + 4 * d[2]! + 3 * d[3]! + 2 * d[4]!;
  return (11 - (sum % 11)) % 10;
}

export function isValidCode6(code: string): boolean {
  return /^\d{6}$/.test(code) && checkDigit(code.slice(0, 5)) === Number(code[5]);
}

const EXPONENT = /^[+-]?\d+(\.\d+)?E[+-]?\d+$/i;

function code6(raw: string): ValueOutcome {
  const v = toHalfWidthAscii(raw).trim();
  if (EXPONENT.test(v)) return error(raw, 'excel.exponent');
  if (isValidCode6(v)) return v === raw ? ok(v) : repaired(v, 'width.halfwidth');
  if (/^\d{5}$/.test(v)) {
    if (isValidCode6(`0${v}`)) return repaired(`0${v}`, 'code6.leading-zero');
    return repaired(`${v}${checkDigit(v)}`, 'code6.check-digit-added');
  }
  if (/^\d{4}$/.test(v) && isValidCode6(`0${v}${checkDigit(`0${v}`)}`)) {
    return repaired(`0${v}${checkDigit(`0${v}`)}`, 'code6.check-digit-added');
  }
  return error(raw, 'code6.invalid');
}

const ERAS: Record<string, number> = {
  令和: 2018,
  R: 2018,
  平成: 1988,
  H: 1988,
  昭和: 1925,
  S: 1925,
  大正: 1911,
  T: 1911,
};
const pad = (n: number) => String(n).padStart(2, '0');

function ymd(y: number, m: number, d: number): string | null {
  const t = new Date(Date.UTC(y, m - 1, d));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== m - 1 || t.getUTCDate() !== d) return null;
  return `${y}-${pad(m)}-${pad(d)}`;
}

function date(raw: string): ValueOutcome {
  const v = toHalfWidthAscii(raw).trim();
  let m = /^(\d{4})-(\d{2})-(\d{2})(T00:00(:00(\.0+)?)?(Z|\+09:00)?)?$/.exec(v);
  if (m) {
    if (m[1] === '1899' || m[1] === '1900') return error(raw, 'date.sentinel');
    const d = ymd(Number(m[1]), Number(m[2]), Number(m[3]));
    if (!d) return error(raw, 'date.invalid');
    return d === raw ? ok(d) : repaired(d, 'date.format');
  }
  m = /^(\d{4})[/.年-](\d{1,2})[/.月-](\d{1,2})日?$/.exec(v);
  if (m) {
    if (m[1] === '1899' || m[1] === '1900') return error(raw, 'date.sentinel');
    const d = ymd(Number(m[1]), Number(m[2]), Number(m[3]));
    return d ? repaired(d, 'date.format') : error(raw, 'date.invalid');
  }
  m = /^(令和|平成|昭和|大正|R|H|S|T)\s*(元|\d{1,2})[年.](\d{1,2})[月.](\d{1,2})日?$/i.exec(v);
  if (m) {
    const era = ERAS[m[1]!.toUpperCase()] ?? ERAS[m[1]!]!;
    const d = ymd(era + (m[2] === '元' ? 1 : Number(m[2])), Number(m[3]), Number(m[4]));
    return d ? repaired(d, 'date.wareki') : error(raw, 'date.invalid');
  }
  if (/^\d{5}$/.test(v) && Number(v) >= 20000 && Number(v) <= 80000) {
    // Excel's 1900 date system: serial 25569 is 1970-01-01.
    const t = new Date((Number(v) - 25569) * 86_400_000);
    return repaired(t.toISOString().slice(0, 10), 'date.excel-serial');
  }
  return error(raw, 'date.invalid');
}

function time(raw: string): ValueOutcome {
  const v = toHalfWidthAscii(raw).trim();
  if (/^([01]\d|2[0-4]):[0-5]\d$/.test(v)) return v === raw ? ok(v) : repaired(v, 'time.format');
  const m = /^(\d{1,2})(?::|時)(\d{1,2})?(?::\d{2})?分?$/.exec(v);
  if (m && Number(m[1]) <= 24 && Number(m[2] ?? 0) < 60) {
    return repaired(`${pad(Number(m[1]))}:${pad(Number(m[2] ?? 0))}`, 'time.format');
  }
  return { value: raw, warning: 'time.free-text' };
}

function number(raw: string): ValueOutcome {
  const v = toHalfWidthAscii(raw).trim();
  if (EXPONENT.test(v)) return error(raw, 'excel.exponent');
  if (/^-?\d+(\.\d+)?$/.test(v)) return v === raw ? ok(v) : repaired(v, 'number.format');
  const stripped = v
    .replace(/,/g, '')
    .replace(/\s*(人|名|円|床|台|m)$/u, '')
    .trim();
  if (/^-?\d+(\.\d+)?$/.test(stripped)) return repaired(stripped, 'number.format');
  return error(raw, 'number.invalid');
}

function corporate(raw: string): ValueOutcome {
  const v = toHalfWidthAscii(raw).trim();
  if (EXPONENT.test(v)) return error(raw, 'excel.exponent');
  if (/^\d{13}$/.test(v)) return v === raw ? ok(v) : repaired(v, 'width.halfwidth');
  return error(raw, 'corporate.invalid');
}

const FLAG_MARKS = new Set(['○', '〇', '◯', '●', '◎', '有', 'あり', 'はい', 'true', 'TRUE', 'Yes', 'yes']);

function flag(raw: string): ValueOutcome {
  const v = raw.trim();
  if (v === '1') return ok('1');
  if (v === '0') return repaired('', 'flag.mark');
  if (FLAG_MARKS.has(v)) return repaired('1', 'flag.mark');
  return error(raw, 'flag.invalid');
}

function umu(raw: string): ValueOutcome {
  const v = raw.trim();
  if (v === '有' || v === '無') return ok(v);
  if (['あり', '○', '〇', '◯', 'Yes', 'yes'].includes(v)) return repaired('有', 'umu.word');
  if (['なし', '×', '✕', 'No', 'no', '-'].includes(v)) return repaired('無', 'umu.word');
  return { value: raw, warning: 'umu.invalid' };
}

function phone(raw: string): ValueOutcome {
  const v = toHalfWidthAscii(raw)
    .trim()
    .replace(/[‐－―ー−]/g, '-');
  if (EXPONENT.test(v)) return error(raw, 'excel.exponent');
  const paren =
    /^\((\d{2,5})\)\s*(\d{1,4})-?(\d{3,4})$/.exec(v) ?? /^(\d{2,5})\((\d{1,4})\)(\d{3,4})$/.exec(v);
  if (paren) return repaired(`${paren[1]}-${paren[2]}-${paren[3]}`, 'phone.parentheses');
  return v === raw ? ok(v) : repaired(v, 'width.halfwidth');
}

function kana(raw: string): ValueOutcome {
  if (!/[\uff61-\uff9f]/.test(raw)) return ok(raw);
  const v = raw.replace(/[\uff61-\uff9f]+/g, (s) => s.normalize('NFKC'));
  return repaired(v, 'kana.halfwidth');
}

function list(raw: string): ValueOutcome {
  if (!/[；]/.test(raw)) return ok(raw);
  return repaired(raw.replace(/；/g, ';'), 'list.separator');
}

function coordinate(raw: string): ValueOutcome {
  const v = toHalfWidthAscii(raw).trim();
  if (/^-?\d+(\.\d+)?$/.test(v)) return v === raw ? ok(v) : repaired(v, 'width.halfwidth');
  return error(raw, 'coord.invalid');
}

function identifier(raw: string): ValueOutcome {
  const v = toHalfWidthAscii(raw).trim();
  if (EXPONENT.test(v)) return error(raw, 'excel.exponent');
  return v === raw ? ok(v) : repaired(v, 'width.halfwidth');
}

/** Checks and repairs one non-empty cell of the given kind. */
export function repairValue(kind: ColumnKind, raw: string): ValueOutcome {
  switch (kind) {
    case 'code6':
      return code6(raw);
    case 'id':
      return identifier(raw);
    case 'kana':
      return kana(raw);
    case 'lat':
    case 'lon':
      return coordinate(raw);
    case 'date':
      return date(raw);
    case 'time':
      return time(raw);
    case 'number':
      return number(raw);
    case 'corporate':
      return corporate(raw);
    case 'flag':
      return flag(raw);
    case 'umu':
      return umu(raw);
    case 'phone':
      return phone(raw);
    case 'list':
      return list(raw);
    case 'text':
    case 'url':
      return ok(raw);
  }
}
