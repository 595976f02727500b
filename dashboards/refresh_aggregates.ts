/**
 * Fills the aggregate tables from the services the points and broker modules export — never from
 * their tables. Incremental: each call replaces only the JST days (or broker tenants) it is given,
 * in one transaction per day, so a nightly run refreshes yesterday and a backfill any range.
 */

import type { BrokerServices } from '../broker/index.ts';
import type { AuditLog, Database } from '../core/index.ts';
import { defineProblem, ProblemError } from '../core/index.ts';
import type { PointsService } from '../points/index.ts';

defineProblem('source-unavailable', { status: 409, title: 'The module this view reads from is not running' });
defineProblem('invalid-range', { status: 400, title: 'Date range is invalid' });

interface Deps {
  db: Database;
  audit: AuditLog;
  now: () => Date;
  services: Readonly<Record<string, unknown>>;
}

const MAX_DAYS = 366;

/** The JST calendar days from `from` to `to`, both included. */
export function jstDays(from: string, to: string): string[] {
  const day = /^\d{4}-\d{2}-\d{2}$/;
  if (!day.test(from) || !day.test(to))
    throw new ProblemError('invalid-range', { detail: 'Days are YYYY-MM-DD.' });
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`);
  if (Number.isNaN(start) || Number.isNaN(end) || end < start)
    throw new ProblemError('invalid-range', { detail: 'from must not be after to.' });
  const count = (end - start) / 86_400_000 + 1;
  if (count > MAX_DAYS)
    throw new ProblemError('invalid-range', { detail: `At most ${MAX_DAYS} days at once.` });
  return Array.from({ length: count }, (_, i) => new Date(start + i * 86_400_000).toISOString().slice(0, 10));
}

export function jstDate(at: Date): string {
  return new Date(at.getTime() + 9 * 3_600_000).toISOString().slice(0, 10);
}

export function dayBefore(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
}

function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

export function createRefresher({ db, audit, now, services }: Deps) {
  function points(): PointsService {
    const p = services['points'] as PointsService | undefined;
    if (!p) throw new ProblemError('source-unavailable', { detail: 'The points module is not assembled.' });
    return p;
  }
  function broker(): BrokerServices {
    const b = services['broker'] as BrokerServices | undefined;
    if (!b) throw new ProblemError('source-unavailable', { detail: 'The broker module is not assembled.' });
    return b;
  }

  const refresher = {
    /**
     * The nightly run: the days given (those that ended since the last run) for every configured
     * currency, and the broker counts.
     * A currency that fails does not stop the others; the first failure is rethrown at the end.
     */
    async nightly(input: { from: string; to: string; currencies: string[]; brokerServices: string[] }) {
      const failures: unknown[] = [];
      for (const currency of input.currencies)
        await refresher
          .refreshPoints({ currency, from: input.from, to: input.to }, 'system:dashboards')
          .catch((e: unknown) => failures.push(e));
      if (input.brokerServices.length > 0 && services['broker'])
        await refresher
          .refreshBroker({ services: input.brokerServices }, 'system:dashboards')
          .catch((e: unknown) => failures.push(e));
      if (failures.length > 0) throw failures[0];
    },

    /** Recomputes the points views of one currency for the given JST days. */
    async refreshPoints(input: { currency: string; from: string; to: string }, actor: string) {
      const ledger = points();
      const days = jstDays(input.from, input.to);
      let rows = 0;
      for (const day of days) {
        const period = {
          currency: input.currency,
          from: `${day}T00:00:00+09:00`,
          to: `${nextDay(day)}T00:00:00+09:00`,
        };
        const [totals, kpis] = await Promise.all([ledger.totals(period), ledger.kpis(period)]);
        const flows: unknown[][] = [
          ...totals.issued.map((r) => [r.pointType, r.issuer, 'issued', '', '', r.amount]),
          ...totals.used.map((r) => [
            r.pointType,
            r.issuer,
            'used',
            r.merchant ?? '',
            r.place ?? '',
            r.amount,
          ]),
          ...totals.expired.map((r) => [r.pointType, r.issuer, 'expired', '', '', r.amount]),
        ];
        rows += flows.length;
        await db.transaction(async (tx) => {
          await tx.query('DELETE FROM analytics.points_flow_daily WHERE currency = $1 AND day = $2', [
            input.currency,
            day,
          ]);
          if (flows.length > 0) {
            const col = (i: number) => flows.map((f) => f[i]);
            await tx.query(
              `INSERT INTO analytics.points_flow_daily (day, currency, point_type, issuer, flow, merchant, place, amount)
               SELECT $1, $2, * FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::numeric[])`,
              [day, input.currency, col(0), col(1), col(2), col(3), col(4), col(5)],
            );
          }
          await tx.query(
            `INSERT INTO analytics.points_kpi_daily (day, currency, active_residents, active_merchants, payments, issued, used, expired)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (currency, day) DO UPDATE SET active_residents = EXCLUDED.active_residents,
               active_merchants = EXCLUDED.active_merchants, payments = EXCLUDED.payments,
               issued = EXCLUDED.issued, used = EXCLUDED.used, expired = EXCLUDED.expired`,
            [
              day,
              input.currency,
              kpis.activeResidents,
              kpis.activeMerchants,
              kpis.payments,
              kpis.issued,
              kpis.used,
              kpis.expired,
            ],
          );
        });
      }
      await db.query(
        `INSERT INTO analytics.refresh (source, scope, refreshed_at) VALUES ('points', $1, $2)
         ON CONFLICT (source, scope) DO UPDATE SET refreshed_at = EXCLUDED.refreshed_at`,
        [input.currency, now()],
      );
      await audit.record({
        actor,
        action: 'dashboards.refresh',
        target: `currency:${input.currency}`,
        details: { source: 'points', from: input.from, to: input.to, days: days.length },
      });
      return { source: 'points', currency: input.currency, days: days.length, flowRows: rows };
    },

    /** Recounts the broker's entities per type for each tenant ('' is the default tenant). */
    async refreshBroker(input: { services: string[] }, actor: string) {
      const b = broker();
      const counts: Array<{ service: string; type: string; count: number }> = [];
      for (const service of input.services) {
        const types = await b.client(service ? { service } : {}).listTypes();
        for (const t of types) counts.push({ service, type: t.type, count: t.count });
      }
      await db.transaction(async (tx) => {
        await tx.query('DELETE FROM analytics.broker_entity_types WHERE service = ANY($1::text[])', [
          input.services,
        ]);
        await tx.query(
          `INSERT INTO analytics.broker_entity_types (service, entity_type, entities)
           SELECT * FROM unnest($1::text[], $2::text[], $3::int[])`,
          [counts.map((c) => c.service), counts.map((c) => c.type), counts.map((c) => c.count)],
        );
        await tx.query(
          `INSERT INTO analytics.refresh (source, scope, refreshed_at) SELECT 'broker', s, $2 FROM unnest($1::text[]) s
           ON CONFLICT (source, scope) DO UPDATE SET refreshed_at = EXCLUDED.refreshed_at`,
          [input.services, now()],
        );
        await audit.recordInTransaction(tx, {
          actor,
          action: 'dashboards.refresh',
          target: 'broker',
          details: { source: 'broker', services: input.services.length, types: counts.length },
        });
      });
      return { source: 'broker', services: input.services.length, types: counts.length };
    },
  };
  return refresher;
}

export type Refresher = ReturnType<typeof createRefresher>;
