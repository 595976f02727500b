/**
 * Read-only facts the public site and the merchant directory show: currencies with their point
 * types, registered merchants, and campaigns that have not ended. No balances, no residents.
 *
 * A merchant accepts every currency of its municipality (the ledger opens its account in those
 * currencies only) and, within a currency, every point type (payments spend any type).
 *
 * @example
 *   const d = await points.directory();
 *   d.currencies.filter((c) => c.municipality === merchant.municipality); // what the shop accepts
 */
import type { Database } from '../core/index.ts';

export interface DirectoryCurrency {
  code: string;
  municipality: string;
  name: string;
  pointTypes: Array<{ code: string; name: string; validityDays: number | null; cashCharged: boolean }>;
}

export interface DirectoryMerchant {
  id: string;
  municipality: string;
  name: string;
  place: string | null;
  active: boolean;
}

export interface DirectoryCampaign {
  currency: string;
  code: string;
  kind: 'permanent' | 'limited';
  /** The funding merchant (permanent), the one merchant covered, or null for every merchant. */
  merchant: string | null;
  pointType: string;
  rateBp: number;
  perTxnCap: number | null;
  perResidentCap: number | null;
  startsAt: string;
  endsAt: string | null;
}

export interface Directory {
  currencies: DirectoryCurrency[];
  merchants: DirectoryMerchant[];
  /** Campaigns not yet ended at `at` (running or upcoming). */
  campaigns: DirectoryCampaign[];
}

export function createDirectoryService(deps: { db: Database; now: () => Date }) {
  return {
    async directory(at: Date = deps.now()): Promise<Directory> {
      const [currencies, merchants, campaigns] = await Promise.all([
        deps.db.query<DirectoryCurrency>(
          `SELECT c.code, c.municipality, c.name,
                  COALESCE(jsonb_agg(jsonb_build_object('code', t.code, 'name', t.name,
                    'validityDays', t.validity_days, 'cashCharged', t.cash_charged) ORDER BY t.spend_priority, t.id)
                    FILTER (WHERE t.id IS NOT NULL), '[]') AS "pointTypes"
             FROM points.currency c LEFT JOIN points.point_type t ON t.currency_id = c.id
            GROUP BY c.id ORDER BY c.id`,
        ),
        deps.db.query<DirectoryMerchant>(
          `SELECT id, municipality, name, place, active FROM points.merchant ORDER BY id`,
        ),
        deps.db.query<
          Omit<DirectoryCampaign, 'startsAt' | 'endsAt'> & { startsAt: Date; endsAt: Date | null }
        >(
          `SELECT cur.code AS currency, c.code, c.kind, c.merchant, t.code AS "pointType", c.rate_bp AS "rateBp",
                  c.per_txn_cap::float8 AS "perTxnCap", c.per_resident_cap::float8 AS "perResidentCap",
                  c.starts_at AS "startsAt", c.ends_at AS "endsAt"
             FROM points.campaign c JOIN points.currency cur ON cur.id = c.currency_id
             JOIN points.point_type t ON t.id = c.point_type_id
            WHERE c.ends_at IS NULL OR c.ends_at > $1 ORDER BY c.starts_at, c.id`,
          [at],
        ),
      ]);
      return {
        currencies: currencies.rows,
        merchants: merchants.rows,
        campaigns: campaigns.rows.map((c) => ({
          ...c,
          startsAt: c.startsAt.toISOString(),
          endsAt: c.endsAt?.toISOString() ?? null,
        })),
      };
    },
  };
}

export type DirectoryService = ReturnType<typeof createDirectoryService>;
