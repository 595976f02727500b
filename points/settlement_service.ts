/**
 * Merchant redemption and settlement. For a period, each merchant's net is what it received as
 * payments minus the cashback it paid out in those payments (reversals included); the net is
 * claimed in a `claim` journal that retires only circulated points (received from residents, never
 * points granted to the merchant itself) to the issuer, and the period's nets are exported as a
 * 全銀 transfer file. Settling the same period twice returns the first result.
 *
 * @example
 *   await points.settle({ currency: 'saijo-lsp', from: '2026-04-01T00:00:00+09:00', to: '2026-05-01T00:00:00+09:00', actor });
 *   const file = await points.exportZengin({ currency: 'saijo-lsp', from, to, requester });
 */
import type { AuditLog, Database } from '../core/index.ts';
import { ProblemError } from '../core/index.ts';
import type { LedgerService } from './ledger_service.ts';
import { requestHash, runCommand } from './run_command.ts';
import { type BankAccount, type Requester, zenginTransferFile } from './zengin_transfer.ts';

export interface Settlement {
  merchant: string;
  received: number;
  cashback: number;
  net: number;
  claimJournalId: string | null;
}

interface Deps {
  db: Database;
  audit: AuditLog;
  now: () => Date;
  ledger: LedgerService;
}

function period(from: string, to: string): { from: Date; to: Date } {
  const f = new Date(from);
  const t = new Date(to);
  if (Number.isNaN(f.getTime()) || Number.isNaN(t.getTime()) || t <= f)
    throw new ProblemError('invalid-ledger-request', { detail: 'period must be from < to' });
  return { from: f, to: t };
}

export function createSettlementService(deps: Deps) {
  const { db, audit, now, ledger } = deps;

  async function list(currencyId: number, from: Date, to: Date): Promise<Settlement[]> {
    const { rows } = await db.query<Settlement>(
      `SELECT merchant, received::int, cashback::int, net::int, claim_journal_id::text AS "claimJournalId"
         FROM points.settlement WHERE currency_id = $1 AND period_from = $2 AND period_to = $3 ORDER BY merchant`,
      [currencyId, from, to],
    );
    return rows;
  }

  return {
    async setMerchantBank(merchant: string, bank: BankAccount, actor: string) {
      await db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO points.merchant_bank (merchant, bank_code, bank_name, branch_code, branch_name, account_type,
                  account_number, holder_kana)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (merchant) DO UPDATE SET bank_code = EXCLUDED.bank_code, bank_name = EXCLUDED.bank_name,
             branch_code = EXCLUDED.branch_code, branch_name = EXCLUDED.branch_name,
             account_type = EXCLUDED.account_type, account_number = EXCLUDED.account_number,
             holder_kana = EXCLUDED.holder_kana`,
          [
            merchant,
            bank.bankCode,
            bank.bankName,
            bank.branchCode,
            bank.branchName,
            bank.accountType,
            bank.accountNumber,
            bank.holderKana,
          ],
        );
        await audit.recordInTransaction(tx, {
          actor,
          action: 'points.merchant.bank.set',
          target: `points.merchant:${merchant}`,
          details: { bankCode: bank.bankCode, branchCode: bank.branchCode },
        });
      });
    },

    /** Settles every merchant of the currency for [from, to); idempotent per merchant and period. */
    async settle(input: {
      currency: string;
      from: string;
      to: string;
      actor: string;
    }): Promise<Settlement[]> {
      const c = await ledger.currency(input.currency);
      const p = period(input.from, input.to);
      const { rows } = await db.query<{
        merchant: string;
        received: string;
        cashback: string;
        net: string;
        circulated: string;
      }>(
        `SELECT a.holder AS merchant,
                (SELECT coalesce(sum(remaining), 0) FROM points.lot l
                  WHERE l.account_id = a.id AND l.circulated AND l.remaining > 0) AS circulated,
                coalesce(sum(p.amount) FILTER (WHERE j.kind = 'payment' AND p.amount > 0), 0) AS received,
                coalesce(-sum(p.amount) FILTER (WHERE j.kind = 'payment' AND p.amount < 0), 0) AS cashback,
                coalesce(sum(p.amount), 0) AS net
           FROM points.account a
           JOIN points.posting p ON p.account_id = a.id
           JOIN points.journal j ON j.id = p.journal_id
           LEFT JOIN points.journal o ON o.id = j.reverses_id
          WHERE a.currency_id = $1 AND a.kind = 'merchant' AND j.created_at >= $2 AND j.created_at < $3
            AND (j.kind = 'payment' OR (j.kind = 'reversal' AND o.kind = 'payment'))
          GROUP BY a.id, a.holder ORDER BY a.holder`,
        [c.id, p.from, p.to],
      );
      const at = now();
      for (const row of rows) {
        const received = Number(row.received);
        const cashback = Number(row.cashback);
        // Only circulated points are redeemable; a merchant that spent some of them is paid what is left.
        const net = Math.max(0, Math.min(Number(row.net), Number(row.circulated)));
        const key = {
          scope: 'settlement',
          key: `${c.code}:${row.merchant}:${p.from.toISOString()}:${p.to.toISOString()}`,
        };
        const insert = (tx: { query: Database['query'] }, journalId: string | null) =>
          tx.query(
            `INSERT INTO points.settlement (currency_id, merchant, period_from, period_to, received, cashback, net,
                    claim_journal_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
            [c.id, row.merchant, p.from, p.to, received, cashback, net, journalId, at],
          );
        if (net === 0) {
          await insert(db, null);
          continue;
        }
        const moves = [
          {
            currency: c.id,
            currencyCode: c.code,
            from: { kind: 'merchant', holder: row.merchant },
            to: { kind: 'issuer', holder: 'issuer' },
            amount: net,
            circulatedOnly: true,
          },
        ];
        await runCommand(
          db,
          key,
          requestHash({ op: 'settle', ...key, net }),
          'points.post',
          [
            'claim',
            input.actor,
            'settlement',
            { merchant: row.merchant, from: p.from, to: p.to },
            JSON.stringify(moves),
            at,
          ],
          at,
          async (tx, answer) => {
            await insert(tx, answer.journalId);
            await audit.recordInTransaction(tx, {
              actor: input.actor,
              action: 'points.settlement.claim',
              target: `points.merchant:${row.merchant}`,
              details: { currency: c.code, received, cashback, net, journal: answer.journalId },
            });
          },
        );
      }
      return list(c.id, p.from, p.to);
    },

    async settlements(input: { currency: string; from: string; to: string }): Promise<Settlement[]> {
      const c = await ledger.currency(input.currency);
      const p = period(input.from, input.to);
      return list(c.id, p.from, p.to);
    },

    /** The period's positive nets as a 全銀 総合振込 file; every payee needs bank details. */
    async exportZengin(input: {
      currency: string;
      from: string;
      to: string;
      requester: Requester;
      actor: string;
    }) {
      const c = await ledger.currency(input.currency);
      const p = period(input.from, input.to);
      const { rows } = await db.query<BankAccount & { merchant: string; net: string; hasBank: boolean }>(
        `SELECT s.merchant, s.net, b.merchant IS NOT NULL AS "hasBank", b.bank_code AS "bankCode", b.bank_name AS "bankName",
                b.branch_code AS "branchCode", b.branch_name AS "branchName", b.account_type AS "accountType",
                b.account_number AS "accountNumber", b.holder_kana AS "holderKana"
           FROM points.settlement s LEFT JOIN points.merchant_bank b ON b.merchant = s.merchant
          WHERE s.currency_id = $1 AND s.period_from = $2 AND s.period_to = $3 AND s.net > 0 ORDER BY s.merchant`,
        [c.id, p.from, p.to],
      );
      const missing = rows.filter((r) => !r.hasBank).map((r) => r.merchant);
      if (missing.length > 0)
        throw new ProblemError('invalid-ledger-request', {
          detail: `No bank details for: ${missing.join(', ')}`,
        });
      const file = zenginTransferFile(
        input.requester,
        rows.map((r) => ({ account: r, amount: Number(r.net), customerCode: r.merchant.slice(0, 10) })),
      );
      await audit.record({
        actor: input.actor,
        action: 'points.settlement.export',
        target: `points.currency:${c.code}`,
        details: { from: p.from.toISOString(), to: p.to.toISOString(), payees: rows.length },
      });
      return file;
    },
  };
}

export type SettlementService = ReturnType<typeof createSettlementService>;
