/**
 * Campaign administration: create permanent (merchant-funded, immediate) or limited (city-funded,
 * posted at period end) cashback campaigns, fund a limited campaign from a pool, and post the
 * accruals of ended limited campaigns in one journal each.
 *
 * @example
 *   await points.createCampaign({ currency: 'saijo-lsp', code: 'summer', kind: 'limited', pointType: 'event',
 *     rateBp: 1000, perTxnCap: 500, perResidentCap: 3000, startsAt, endsAt }, actor);
 */
import type { AuditLog, Database } from '../core/index.ts';
import { ProblemError } from '../core/index.ts';
import type { LedgerService } from './ledger_service.ts';
import { requestHash, runCommand } from './run_command.ts';

export interface CampaignInput {
  currency: string;
  code: string;
  kind: 'permanent' | 'limited';
  merchant?: string;
  pointType: string;
  rateBp: number;
  perTxnCap?: number;
  perResidentCap?: number;
  startsAt: string;
  endsAt?: string;
}

interface Deps {
  db: Database;
  audit: AuditLog;
  now: () => Date;
  ledger: LedgerService;
}

export function createCampaignService(deps: Deps) {
  const { db, audit, now, ledger } = deps;

  const service = {
    async createCampaign(input: CampaignInput, actor: string) {
      const c = await ledger.currency(input.currency);
      const type = await ledger.pointType(input.currency, input.pointType);
      if (input.kind === 'permanent' && !input.merchant)
        throw new ProblemError('invalid-ledger-request', {
          detail: 'a permanent campaign is funded by a merchant',
        });
      if (input.kind === 'limited' && !input.endsAt)
        throw new ProblemError('invalid-ledger-request', { detail: 'a limited campaign needs endsAt' });
      try {
        await db.transaction(async (tx) => {
          await tx.query(
            `INSERT INTO points.campaign (currency_id, code, kind, merchant, point_type_id, rate_bp, per_txn_cap,
                    per_resident_cap, starts_at, ends_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
            [
              c.id,
              input.code,
              input.kind,
              input.merchant ?? null,
              type.id,
              input.rateBp,
              input.perTxnCap ?? null,
              input.perResidentCap ?? null,
              input.startsAt,
              input.endsAt ?? null,
              now(),
            ],
          );
          if (input.kind === 'limited')
            await tx.query(
              `INSERT INTO points.account (currency_id, kind, holder, allow_negative) VALUES ($1, 'campaign', $2, false)`,
              [c.id, input.code],
            );
          await audit.recordInTransaction(tx, {
            actor,
            action: 'points.campaign.create',
            target: `points.campaign:${input.currency}/${input.code}`,
            details: {
              kind: input.kind,
              rateBp: input.rateBp,
              perTxnCap: input.perTxnCap ?? null,
              perResidentCap: input.perResidentCap ?? null,
            },
          });
        });
      } catch (error) {
        if ((error as { code?: string }).code === '23505')
          throw new ProblemError('already-exists', { detail: `Campaign ${input.code} already exists.` });
        if ((error as { code?: string }).code === '23503')
          throw new ProblemError('unknown-account', { detail: `No merchant ${input.merchant}.` });
        throw error;
      }
      ledger.campaignCache.invalidate(c.id);
      return { ...input };
    },

    /** Moves value from a pool into a limited campaign's account (its budget). */
    async fundCampaign(input: {
      currency: string;
      code: string;
      pool: string;
      amount: number;
      idempotency: { scope: string; key: string };
      actor: string;
    }) {
      const c = await ledger.currency(input.currency);
      const at = now();
      const moves = [
        {
          currency: c.id,
          currencyCode: c.code,
          from: { kind: 'pool', holder: input.pool },
          to: { kind: 'campaign', holder: input.code },
          amount: input.amount,
        },
      ];
      return runCommand(
        db,
        input.idempotency,
        requestHash({
          op: 'fund-campaign',
          currency: input.currency,
          code: input.code,
          pool: input.pool,
          amount: input.amount,
        }),
        'points.post',
        ['fund', input.actor, null, { campaign: input.code, pool: input.pool }, JSON.stringify(moves), at],
        at,
        (tx, answer) =>
          audit
            .recordInTransaction(tx, {
              actor: input.actor,
              action: 'points.campaign.fund',
              target: `points.journal:${answer.journalId}`,
              details: { campaign: input.code, pool: input.pool, amount: input.amount },
            })
            .then(() => {}),
      );
    },

    /** Posts every ended, unsettled limited campaign's accruals from its account to the residents. */
    async settleCampaigns(at: Date = now(), actor = 'system:campaigns') {
      const { rows } = await db.query<{
        id: number;
        code: string;
        currency: string;
        currencyId: number;
        type: number;
      }>(
        `SELECT c.id, c.code, cur.code AS currency, c.currency_id AS "currencyId", c.point_type_id AS type
           FROM points.campaign c JOIN points.currency cur ON cur.id = c.currency_id
          WHERE c.kind = 'limited' AND c.settled_at IS NULL AND c.ends_at <= $1 ORDER BY c.id`,
        [at],
      );
      const settled: Array<{ campaign: string; residents: number; total: number; journalId: string | null }> =
        [];
      for (const campaign of rows) {
        const accruals = await db.query<{ resident: string; amount: string }>(
          `SELECT resident, amount FROM points.campaign_accrual WHERE campaign_id = $1 AND amount > 0 ORDER BY resident`,
          [campaign.id],
        );
        const expiresAt = await ledger.expiryForType(campaign.type, at);
        const moves = accruals.rows.map((a) => ({
          currency: campaign.currencyId,
          currencyCode: campaign.currency,
          from: { kind: 'campaign', holder: campaign.code },
          to: { kind: 'resident', holder: a.resident },
          amount: Number(a.amount),
          pointType: campaign.type,
          expiresAt,
        }));
        const total = moves.reduce((s, m) => s + m.amount, 0);
        if (moves.length === 0) {
          await db.query(`UPDATE points.campaign SET settled_at = $2 WHERE id = $1`, [campaign.id, at]);
          settled.push({ campaign: campaign.code, residents: 0, total: 0, journalId: null });
          continue;
        }
        const answer = await runCommand(
          db,
          { scope: 'campaign', key: String(campaign.id) },
          requestHash({ op: 'settle-campaign', id: campaign.id, total }),
          'points.post',
          [
            'campaign',
            actor,
            'campaign period ended',
            { campaign: campaign.code },
            JSON.stringify(moves),
            at,
          ],
          at,
          async (tx, a) => {
            await tx.query(
              `UPDATE points.campaign SET settled_at = $2, settle_journal_id = $3 WHERE id = $1`,
              [campaign.id, at, a.journalId],
            );
            await audit.recordInTransaction(tx, {
              actor,
              action: 'points.campaign.settle',
              target: `points.campaign:${campaign.currency}/${campaign.code}`,
              details: { residents: moves.length, total, journal: a.journalId },
            });
          },
        );
        ledger.campaignCache.invalidate(campaign.currencyId);
        settled.push({
          campaign: campaign.code,
          residents: moves.length,
          total,
          journalId: answer.journalId,
        });
      }
      return settled;
    },
  };
  return service;
}

export type CampaignService = ReturnType<typeof createCampaignService>;
