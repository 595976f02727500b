/**
 * Fills the aggregate tables from the services the points and broker modules export — never from
 * their tables. Incremental: each call replaces only the JST days (or broker tenants) it is given,
 * in one transaction per day, so a nightly run refreshes yesterday and a backfill any range.
 */

import type { BrokerServices } from '../broker/index.ts';
import type { AuditLog, Database } from '../core/index.ts';
import { defineProblem, ProblemError } from '../core/index.ts';
import type { PointsService } from '../points/index.ts';
import type { BoundaryLayers } from './boundary_layers.ts';
import { countEntitiesPerArea } from './entity_features.ts';
import { findVisitsSource, type VisitsSource } from './visits_port.ts';

defineProblem('source-unavailable', { status: 409, title: 'The module this view reads from is not running' });
defineProblem('invalid-range', { status: 400, title: 'Date range is invalid' });

interface Deps {
  db: Database;
  audit: AuditLog;
  now: () => Date;
  services: Readonly<Record<string, unknown>>;
  layers: BoundaryLayers;
  /** An explicit visits source (else the card-reader adapter's, when assembled). */
  visits?: VisitsSource;
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

export function createRefresher({ db, audit, now, services, layers, visits }: Deps) {
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
      if (findVisitsSource(visits, services))
        await refresher
          .refreshVisits({ from: input.from, to: input.to }, 'system:dashboards')
          .catch((e: unknown) => failures.push(e));
      if (input.brokerServices.length > 0 && services['broker'])
        await refresher
          .refreshBroker({ services: input.brokerServices }, 'system:dashboards')
          .catch((e: unknown) => failures.push(e));
      if (input.brokerServices.length > 0 && services['broker'])
        for (const layer of await layers.list())
          await refresher
            .refreshEntityAreas({ layer: layer.name, services: input.brokerServices }, 'system:dashboards')
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
      await refresher.rollUpMonths(input.currency, days);
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

    /**
     * Rebuilds the monthly rollup of one currency for the months holding the given days (every
     * month of the currency when none are given), one transaction per month.
     */
    async rollUpMonths(currency: string, days?: string[]): Promise<number> {
      const months = days
        ? [...new Set(days.map((d) => `${d.slice(0, 7)}-01`))]
        : (
            await db.query<{ month: string }>(
              `SELECT DISTINCT to_char(date_trunc('month', day), 'YYYY-MM-DD') AS month
                 FROM analytics.points_flow_daily WHERE currency = $1`,
              [currency],
            )
          ).rows.map((r) => r.month);
      for (const month of months)
        await db.transaction(async (tx) => {
          await tx.query('DELETE FROM analytics.points_flow_monthly WHERE currency = $1 AND month = $2', [
            currency,
            month,
          ]);
          await tx.query(
            `INSERT INTO analytics.points_flow_monthly (month, currency, point_type, issuer, flow, merchant, place, amount)
             SELECT $2::date, currency, point_type, issuer, flow, merchant, place, sum(amount)
               FROM analytics.points_flow_daily
              WHERE currency = $1 AND day >= $2::date AND day < ($2::date + interval '1 month')
              GROUP BY currency, point_type, issuer, flow, merchant, place`,
            [currency, month],
          );
        });
      return months.length;
    },

    /** Recounts the located NGSIv2 entities per area of a boundary layer, per tenant and type. */
    async refreshEntityAreas(input: { layer: string; services: string[] }, actor: string) {
      const b = broker();
      const layer = await layers.get(input.layer);
      const rows: Array<[string, string, string, number]> = [];
      for (const service of input.services)
        for (const [key, count] of await countEntitiesPerArea(b, service, layer)) {
          const [area, type] = JSON.parse(key) as [string, string];
          rows.push([area, service, type, count]);
        }
      await db.transaction(async (tx) => {
        await tx.query(
          'DELETE FROM analytics.broker_entities_area WHERE layer = $1 AND service = ANY($2::text[])',
          [input.layer, input.services],
        );
        await tx.query(
          `INSERT INTO analytics.broker_entities_area (layer, area, service, entity_type, entities)
           SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::int[])`,
          [input.layer, ...[0, 1, 2, 3].map((i) => rows.map((r) => r[i]))],
        );
        await audit.recordInTransaction(tx, {
          actor,
          action: 'dashboards.refresh',
          target: `layer:${input.layer}`,
          details: { source: 'broker-areas', services: input.services.length, rows: rows.length },
        });
      });
      return { source: 'broker-areas', layer: input.layer, rows: rows.length };
    },

    /** Replaces the visits of the given JST days from the visits port (card readers). */
    async refreshVisits(input: { from: string; to: string }, actor: string) {
      const source = findVisitsSource(visits, services);
      if (!source)
        throw new ProblemError('source-unavailable', {
          detail:
            'No visits source: the card-reader adapter is not assembled (see dashboards/visits_port.ts).',
        });
      const days = jstDays(input.from, input.to);
      let total = 0;
      for (const day of days) {
        const rows = await source.visitsPerDay(day);
        total += rows.length;
        await db.transaction(async (tx) => {
          await tx.query('DELETE FROM analytics.visits_daily WHERE day = $1', [day]);
          await tx.query(
            `INSERT INTO analytics.visits_daily (day, facility, facility_kind, area, age_band, visitors, visits)
             SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[])`,
            [
              day,
              rows.map((r) => r.facility),
              rows.map((r) => r.facilityKind),
              rows.map((r) => r.area),
              rows.map((r) => r.ageBand),
              rows.map((r) => r.visitors),
              rows.map((r) => r.visits),
            ],
          );
        });
      }
      await audit.record({
        actor,
        action: 'dashboards.refresh',
        target: 'visits',
        details: { source: 'visits', from: input.from, to: input.to, days: days.length },
      });
      return { source: 'visits', days: days.length, rows: total };
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
