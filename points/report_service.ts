/**
 * Reports for staff: totals per issuer, point type, merchant and place of use, and service, over a
 * period; KPIs; and the unused balance of cash-charged value per issuer on a base date, which the
 * Payment Services Act (資金決済法) asks for on 31 March and 30 September. Reversed journals and
 * their reversals are left out of the totals (their net effect is nil).
 */
import type { Database } from '../core/index.ts';
import { ProblemError } from '../core/index.ts';
import type { LedgerService } from './ledger_service.ts';
import { jstMidnightAfter } from './time.ts';

interface Deps {
  db: Database;
  ledger: LedgerService;
}

const LIVE = `j.kind <> 'reversal' AND NOT EXISTS (SELECT 1 FROM points.journal r WHERE r.reverses_id = j.id)`;

function period(from: string, to: string): [Date, Date] {
  const f = new Date(from);
  const t = new Date(to);
  if (Number.isNaN(f.getTime()) || Number.isNaN(t.getTime()) || t <= f)
    throw new ProblemError('invalid-ledger-request', { detail: 'period must be from < to' });
  return [f, t];
}

export function createReportService({ db, ledger }: Deps) {
  return {
    async totals(input: { currency: string; from: string; to: string }) {
      const c = await ledger.currency(input.currency);
      const [from, to] = period(input.from, input.to);
      const params = [c.id, from, to];
      const issued = await db.query<{ pointType: string; issuer: string; kind: string; amount: number }>(
        `SELECT t.code AS "pointType", t.issuer, j.kind, sum(l.original)::float8 AS amount
           FROM points.lot l JOIN points.point_type t ON t.id = l.point_type_id JOIN points.journal j ON j.id = l.journal_id
          WHERE t.currency_id = $1 AND NOT l.circulated AND j.created_at >= $2 AND j.created_at < $3 AND ${LIVE}
          GROUP BY 1, 2, 3 ORDER BY 1, 3`,
        params,
      );
      const used = await db.query<{
        pointType: string;
        issuer: string;
        merchant: string;
        place: string | null;
        amount: number;
      }>(
        `SELECT t.code AS "pointType", t.issuer, j.meta ->> 'merchant' AS merchant, m.place, (-sum(mv.amount))::float8 AS amount
           FROM points.journal j
           JOIN points.lot_move mv ON mv.journal_id = j.id AND mv.amount < 0
           JOIN points.lot l ON l.id = mv.lot_id
           JOIN points.account a ON a.id = l.account_id AND a.kind = 'resident'
           JOIN points.point_type t ON t.id = l.point_type_id
           LEFT JOIN points.merchant m ON m.id = j.meta ->> 'merchant'
          WHERE j.kind = 'payment' AND t.currency_id = $1 AND j.created_at >= $2 AND j.created_at < $3 AND ${LIVE}
          GROUP BY 1, 2, 3, 4 ORDER BY 3, 1`,
        params,
      );
      const expired = await db.query<{ pointType: string; issuer: string; amount: number }>(
        `SELECT t.code AS "pointType", t.issuer, (-sum(mv.amount))::float8 AS amount
           FROM points.journal j JOIN points.lot_move mv ON mv.journal_id = j.id
           JOIN points.lot l ON l.id = mv.lot_id JOIN points.point_type t ON t.id = l.point_type_id
          WHERE j.kind = 'expiry' AND t.currency_id = $1 AND j.created_at >= $2 AND j.created_at < $3 AND ${LIVE}
          GROUP BY 1, 2 ORDER BY 1`,
        params,
      );
      const exchanged = await db.query<{
        service: string;
        source: string;
        target: string;
        count: number;
        sourceAmount: number;
        targetAmount: number;
      }>(
        `SELECT e.service, s.code AS source, t.code AS target, count(*)::int AS count,
                sum(e.source_amount)::float8 AS "sourceAmount", sum(e.target_amount)::float8 AS "targetAmount"
           FROM points.exchange e JOIN points.currency s ON s.id = e.source_currency_id
           JOIN points.currency t ON t.id = e.target_currency_id
          WHERE (e.source_currency_id = $1 OR e.target_currency_id = $1) AND e.status = 'posted'
            AND e.created_at >= $2 AND e.created_at < $3
          GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
        params,
      );
      return {
        currency: c.code,
        from: from.toISOString(),
        to: to.toISOString(),
        issued: issued.rows,
        used: used.rows,
        expired: expired.rows,
        exchanged: exchanged.rows,
      };
    },

    /** Active residents (paid at least once), payments, circulation (used ÷ issued), expiry rate (expired ÷ issued). */
    async kpis(input: { currency: string; from: string; to: string }) {
      const c = await ledger.currency(input.currency);
      const [from, to] = period(input.from, input.to);
      const { rows } = await db.query<{
        activeResidents: number;
        activeMerchants: number;
        payments: number;
        used: number;
        issued: number;
        expired: number;
      }>(
        `WITH pay AS (
           SELECT j.id, j.meta ->> 'merchant' AS merchant, p.account_id, -p.amount AS amount
             FROM points.journal j JOIN points.posting p ON p.journal_id = j.id
             JOIN points.account a ON a.id = p.account_id AND a.kind = 'resident'
            WHERE j.kind = 'payment' AND p.amount < 0 AND p.currency_id = $1
              AND j.created_at >= $2 AND j.created_at < $3 AND ${LIVE})
         SELECT (SELECT count(DISTINCT account_id) FROM pay)::int AS "activeResidents",
                (SELECT count(DISTINCT merchant) FROM pay)::int AS "activeMerchants",
                (SELECT count(DISTINCT id) FROM pay)::int AS payments,
                (SELECT coalesce(sum(amount), 0) FROM pay)::float8 AS used,
                (SELECT coalesce(sum(l.original), 0) FROM points.lot l JOIN points.journal j ON j.id = l.journal_id
                  JOIN points.account a ON a.id = l.account_id
                  WHERE a.currency_id = $1 AND NOT l.circulated AND j.created_at >= $2 AND j.created_at < $3
                    AND ${LIVE})::float8 AS issued,
                (SELECT coalesce(sum(p.amount), 0) FROM points.journal j JOIN points.posting p ON p.journal_id = j.id
                  JOIN points.account a ON a.id = p.account_id AND a.kind = 'expiry'
                  WHERE j.kind = 'expiry' AND p.currency_id = $1 AND j.created_at >= $2 AND j.created_at < $3)::float8 AS expired`,
        [c.id, from, to],
      );
      const k = rows[0]!;
      const ratio = (a: number, b: number) => (b === 0 ? null : Math.round((a / b) * 10_000) / 10_000);
      return { ...k, circulationRate: ratio(k.used, k.issued), expiryRate: ratio(k.expired, k.issued) };
    },

    /**
     * 基準日未使用残高: per issuer, the residents' unused cash-charged value at the end of the base
     * date (JST), reconstructed from lot moves so it can be asked after the date.
     */
    async unusedCashBalance(input: { currency: string; baseDate: string }) {
      const c = await ledger.currency(input.currency);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(input.baseDate))
        throw new ProblemError('invalid-ledger-request', { detail: 'baseDate is YYYY-MM-DD' });
      const end = jstMidnightAfter(new Date(`${input.baseDate}T00:00:00+09:00`), 0);
      const { rows } = await db.query<{ issuer: string; pointType: string; unused: number }>(
        `SELECT t.issuer, t.code AS "pointType", coalesce(sum(mv.amount), 0)::float8 AS unused
           FROM points.point_type t
           LEFT JOIN points.lot l ON l.point_type_id = t.id
                AND l.account_id IN (SELECT id FROM points.account WHERE kind = 'resident' AND currency_id = $1)
           LEFT JOIN points.lot_move mv ON mv.lot_id = l.id
                AND mv.journal_id IN (SELECT id FROM points.journal WHERE created_at < $2)
          WHERE t.currency_id = $1 AND t.cash_charged
          GROUP BY 1, 2 ORDER BY 1, 2`,
        [c.id, end],
      );
      const statutory = /-(03-31|09-30)$/.test(input.baseDate);
      return {
        currency: c.code,
        baseDate: input.baseDate,
        asOf: end.toISOString(),
        statutoryBaseDate: statutory,
        issuers: rows,
      };
    },
  };
}

export type ReportService = ReturnType<typeof createReportService>;
