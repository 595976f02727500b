/**
 * 全銀協 総合振込 (Zengin general transfer) file: fixed 120-byte records in Shift_JIS, CRLF-separated —
 * header (1), one data record (2) per payee, trailer (8), end (9). Text fields are left-aligned and
 * space-padded half-width kana/ASCII; numbers are right-aligned and zero-padded. Only characters
 * that Shift_JIS encodes in one byte are accepted (ASCII and half-width katakana U+FF61–U+FF9F).
 */
import { ProblemError } from '../core/index.ts';

export interface BankAccount {
  bankCode: string;
  bankName: string;
  branchCode: string;
  branchName: string;
  /** 1 普通, 2 当座, 4 貯蓄, 9 その他 */
  accountType: string;
  accountNumber: string;
  holderKana: string;
}

export interface Requester {
  /** 委託者コード (10 digits) */
  code: string;
  nameKana: string;
  /** 取組日 (transfer date) as YYYY-MM-DD */
  transferDate: string;
  account: BankAccount;
}

function sjisByte(ch: string): number {
  const c = ch.codePointAt(0)!;
  if (c >= 0x20 && c <= 0x7e) return c;
  if (c >= 0xff61 && c <= 0xff9f) return c - 0xfec0;
  throw new ProblemError('invalid-ledger-request', {
    detail: 'Zengin text fields take only ASCII and half-width katakana.',
  });
}

function text(value: string, width: number): number[] {
  const bytes = [...value].map(sjisByte).slice(0, width);
  while (bytes.length < width) bytes.push(0x20);
  return bytes;
}

function num(value: number | string, width: number): number[] {
  const s = String(value);
  if (!/^[0-9]*$/.test(s) || s.length > width)
    throw new ProblemError('invalid-ledger-request', { detail: `Zengin numeric field overflow: ${s}` });
  return [...s.padStart(width, '0')].map((c) => c.charCodeAt(0));
}

function record(fields: number[][]): number[] {
  const bytes = fields.flat();
  if (bytes.length !== 120) throw new Error(`Zengin record is ${bytes.length} bytes, not 120`);
  return bytes;
}

export function zenginTransferFile(
  requester: Requester,
  payees: Array<{ account: BankAccount; amount: number; customerCode: string }>,
): Buffer {
  const [, mm, dd] = requester.transferDate.split('-');
  const a = requester.account;
  const records = [
    record([
      text('1', 1),
      text('21', 2),
      text('0', 1),
      num(requester.code, 10),
      text(requester.nameKana, 40),
      num(`${mm}${dd}`, 4),
      num(a.bankCode, 4),
      text(a.bankName, 15),
      num(a.branchCode, 3),
      text(a.branchName, 15),
      num(a.accountType, 1),
      num(a.accountNumber, 7),
      text('', 17),
    ]),
  ];
  let total = 0;
  for (const p of payees) {
    total += p.amount;
    records.push(
      record([
        text('2', 1),
        num(p.account.bankCode, 4),
        text(p.account.bankName, 15),
        num(p.account.branchCode, 3),
        text(p.account.branchName, 15),
        text('', 4),
        num(p.account.accountType, 1),
        num(p.account.accountNumber, 7),
        text(p.account.holderKana, 30),
        num(p.amount, 10),
        text('0', 1),
        text(p.customerCode, 10),
        text('', 10),
        text('7', 1),
        text('', 1),
        text('', 7),
      ]),
    );
  }
  records.push(record([text('8', 1), num(payees.length, 6), num(total, 12), text('', 101)]));
  records.push(record([text('9', 1), text('', 119)]));
  const out: number[] = [];
  for (const r of records) out.push(...r, 0x0d, 0x0a);
  return Buffer.from(out);
}
