/**
 * Reads a staff CSV of residents (UTF-8, with or without BOM, or Shift_JIS — strictly decoded: a
 * byte sequence valid in neither is refused, never guessed) and validates every row before
 * anything is written. Headers may be English or Japanese:
 *
 *   email|メールアドレス, name|氏名, birthdate|生年月日, postal_code|郵便番号, category|区分,
 *   legacy_id|旧会員番号|会員番号 (required for a migration import)
 *
 * Row numbers in the report are the file's line numbers (the header is line 1).
 */
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import {
  type Category,
  isCategory,
  normaliseEmail,
  type Profile,
  type ProfileField,
  validateProfile,
} from '../signup/profile_fields.ts';

export interface RowIssue {
  row: number;
  field: string;
  code: 'missing' | 'invalid' | 'duplicate';
}

export interface ResidentRow {
  row: number;
  email: string;
  profile: Profile;
  category: Category;
  legacyId?: string;
}

export interface ParsedResidents {
  encoding: 'utf-8' | 'shift_jis';
  rows: ResidentRow[];
  issues: RowIssue[];
  /** A problem with the file itself (encoding, no header, missing columns). */
  fileProblem?: string;
}

const HEADERS: Record<string, string> = {
  email: 'email',
  メールアドレス: 'email',
  name: 'name',
  氏名: 'name',
  birthdate: 'birthdate',
  生年月日: 'birthdate',
  postal_code: 'postal_code',
  郵便番号: 'postal_code',
  address: 'address',
  住所: 'address',
  phone: 'phone',
  電話番号: 'phone',
  category: 'category',
  区分: 'category',
  legacy_id: 'legacy_id',
  旧会員番号: 'legacy_id',
  会員番号: 'legacy_id',
};

const CATEGORY_WORDS: Record<string, Category> = {
  在住: 'resident',
  市民: 'resident',
  在勤: 'worker',
  在学: 'student',
  来訪: 'visitor',
  観光: 'visitor',
};

export function decodeCsv(bytes: Uint8Array): { text: string; encoding: 'utf-8' | 'shift_jis' } | undefined {
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    return { text, encoding: 'utf-8' };
  } catch {
    // not UTF-8: Shift_JIS (CP932), refused when it does not round-trip
  }
  const text = iconv.decode(Buffer.from(bytes), 'cp932');
  if (text.includes('\uFFFD') || !iconv.encode(text, 'cp932').equals(Buffer.from(bytes))) return undefined;
  return { text, encoding: 'shift_jis' };
}

export function parseResidentCsv(
  bytes: Uint8Array,
  fields: ProfileField[],
  options: { requireLegacyId: boolean; today: Date },
): ParsedResidents {
  const decoded = decodeCsv(bytes);
  if (!decoded) return { encoding: 'utf-8', rows: [], issues: [], fileProblem: 'encoding' };
  let records: string[][];
  try {
    records = parse(decoded.text, { bom: true, skip_empty_lines: true, relax_column_count: true });
  } catch {
    return { encoding: decoded.encoding, rows: [], issues: [], fileProblem: 'csv-syntax' };
  }
  const header = (records[0] ?? []).map((h) => HEADERS[h.trim().normalize('NFKC')] ?? h.trim());
  const required = ['email', 'category', ...fields.filter((f) => f.required).map((f) => f.name)];
  if (options.requireLegacyId) required.push('legacy_id');
  const missing = required.filter((c) => !header.includes(c));
  if (missing.length > 0)
    return {
      encoding: decoded.encoding,
      rows: [],
      issues: [],
      fileProblem: `missing-columns:${missing.join(',')}`,
    };

  const rows: ResidentRow[] = [];
  const issues: RowIssue[] = [];
  const seenEmail = new Set<string>();
  const seenLegacy = new Set<string>();
  records.slice(1).forEach((record, index) => {
    const row = index + 2;
    const value = (column: string) => (record[header.indexOf(column)] ?? '').trim();
    const rowIssues: RowIssue[] = [];
    const email = normaliseEmail(value('email'));
    if (!value('email')) rowIssues.push({ row, field: 'email', code: 'missing' });
    else if (!email) rowIssues.push({ row, field: 'email', code: 'invalid' });
    else if (seenEmail.has(email)) rowIssues.push({ row, field: 'email', code: 'duplicate' });
    const rawCategory = value('category').normalize('NFKC');
    const category = isCategory(rawCategory) ? rawCategory : CATEGORY_WORDS[rawCategory];
    if (!rawCategory) rowIssues.push({ row, field: 'category', code: 'missing' });
    else if (!category) rowIssues.push({ row, field: 'category', code: 'invalid' });
    const checked = validateProfile(
      fields,
      Object.fromEntries(fields.map((f) => [f.name, value(f.name)])),
      options.today,
    );
    if (!checked.ok)
      for (const f of checked.invalid)
        rowIssues.push({ row, field: f, code: value(f) ? 'invalid' : 'missing' });
    const legacyId = header.includes('legacy_id') ? value('legacy_id') : '';
    if (options.requireLegacyId && !legacyId) rowIssues.push({ row, field: 'legacy_id', code: 'missing' });
    else if (legacyId && seenLegacy.has(legacyId))
      rowIssues.push({ row, field: 'legacy_id', code: 'duplicate' });
    if (email) seenEmail.add(email);
    if (legacyId) seenLegacy.add(legacyId);
    if (rowIssues.length > 0 || !email || !category || !checked.ok) {
      issues.push(...rowIssues);
      return;
    }
    rows.push({ row, email, profile: checked.profile, category, ...(legacyId ? { legacyId } : {}) });
  });
  return { encoding: decoded.encoding, rows, issues };
}
