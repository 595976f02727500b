/**
 * The validation report as a CSV for Excel: UTF-8 with BOM, CRLF, Japanese first.
 */
import type { Issue } from './analyse_upload.ts';
import { ruleText } from './messages.ts';

const SEVERITY_JA = { error: 'エラー', warning: '警告', info: '情報' } as const;

function cell(v: string | number | null | undefined): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function reportCsv(issues: Issue[]): Buffer {
  const rows = [['行', '列', '重要度', 'ルール', '内容', '変更前', '変更後', 'message']];
  for (const i of issues) {
    const t = ruleText(i.rule);
    rows.push([
      String(i.line),
      i.column ?? '',
      SEVERITY_JA[i.severity],
      i.rule,
      t.ja,
      i.before ?? '',
      i.after ?? '',
      t.en,
    ]);
  }
  const text = rows.map((r) => r.map(cell).join(',')).join('\r\n');
  return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${text}\r\n`)]);
}
