/**
 * Which campaigns reward a payment, and how much: rate × amount, capped per transaction and by what
 * is left of the resident's cap for the period. Runs inside the payment's transaction; the accrual
 * row is locked so two concurrent payments of one resident cannot both use the same headroom.
 */
import type pg from 'pg';
import type { Database } from '../core/index.ts';
import { jstDate, jstMidnightAfter } from './time.ts';

export interface ActiveCampaign {
  id: number;
  kind: 'permanent' | 'limited';
  merchant: string | null;
  pointTypeId: number;
  validityDays: number | null;
  rateBp: number;
  perTxnCap: number | null;
  perResidentCap: number | null;
  startsAt: Date;
  endsAt: Date | null;
}

export interface Reward {
  campaign: ActiveCampaign;
  period: string;
  amount: number;
  expiresAt: string | null;
}

const TTL_MS = 10_000;

/** Campaign lists per currency, cached briefly: payments ask on every call. */
export function createCampaignCache(db: Database) {
  const cache = new Map<number, { at: number; list: ActiveCampaign[] }>();
  return {
    invalidate(currencyId: number) {
      cache.delete(currencyId);
    },
    async active(currencyId: number, merchant: string, at: Date): Promise<ActiveCampaign[]> {
      let entry = cache.get(currencyId);
      if (!entry || Date.now() - entry.at > TTL_MS) {
        const { rows } = await db.query<ActiveCampaign>(
          `SELECT c.id, c.kind, c.merchant, c.point_type_id AS "pointTypeId", t.validity_days AS "validityDays",
                  c.rate_bp AS "rateBp", c.per_txn_cap::float8 AS "perTxnCap",
                  c.per_resident_cap::float8 AS "perResidentCap", c.starts_at AS "startsAt", c.ends_at AS "endsAt"
             FROM points.campaign c JOIN points.point_type t ON t.id = c.point_type_id
            WHERE c.currency_id = $1 AND c.settled_at IS NULL ORDER BY c.id`,
          [currencyId],
        );
        entry = { at: Date.now(), list: rows };
        cache.set(currencyId, entry);
      }
      return entry.list.filter(
        (c) =>
          c.startsAt <= at &&
          (c.endsAt === null || at < c.endsAt) &&
          (c.merchant === null ? c.kind === 'limited' : c.merchant === merchant),
      );
    },
  };
}

export async function computeRewards(
  tx: pg.PoolClient,
  campaigns: ActiveCampaign[],
  resident: string,
  amount: number,
  at: Date,
): Promise<Reward[]> {
  const rewards: Reward[] = [];
  for (const c of campaigns) {
    let reward = Math.floor((amount * c.rateBp) / 10_000);
    if (c.perTxnCap !== null) reward = Math.min(reward, c.perTxnCap);
    const period = c.kind === 'limited' ? 'campaign' : jstDate(at).slice(0, 7);
    await tx.query(
      `INSERT INTO points.campaign_accrual (campaign_id, resident, period, amount, cap) VALUES ($1, $2, $3, 0, $4)
       ON CONFLICT DO NOTHING`,
      [c.id, resident, period, c.perResidentCap],
    );
    const { rows } = await tx.query<{ amount: string }>(
      `SELECT amount FROM points.campaign_accrual WHERE campaign_id = $1 AND resident = $2 AND period = $3 FOR UPDATE`,
      [c.id, resident, period],
    );
    if (c.perResidentCap !== null) reward = Math.min(reward, c.perResidentCap - Number(rows[0]!.amount));
    if (reward <= 0) continue;
    const expiresAt = c.validityDays === null ? null : jstMidnightAfter(at, c.validityDays).toISOString();
    rewards.push({ campaign: c, period, amount: reward, expiresAt });
  }
  return rewards;
}

export async function recordRewards(tx: pg.PoolClient, resident: string, rewards: Reward[]): Promise<void> {
  for (const r of rewards) {
    await tx.query(
      `UPDATE points.campaign_accrual SET amount = amount + $4 WHERE campaign_id = $1 AND resident = $2 AND period = $3`,
      [r.campaign.id, resident, r.period, r.amount],
    );
  }
}
