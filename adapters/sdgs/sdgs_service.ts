/**
 * The SDGs site's activities become points and the SDGs meter. One activity event, once (the kit's
 * inbox, keyed by the site's event id):
 *
 *   resolve the resident   the pairwise subject the site got at sign-in → common ID (idp)
 *   find the rule          per activity: goals it serves, points per unit, caps, pool
 *   compute the points     floor(amount × points per unit), capped per event and per JST day
 *   grant                  points.grant from the rule's pool (idempotency key from the event id)
 *   record + meter         the activity row and the meter rows per resident and per city per goal,
 *                          in the inbox's transaction
 *
 * @example
 *   const sdgs = (ctx.services['adapters'] as AdaptersServices).adapters['sdgs'] as SdgsServices;
 *   const meter = await sdgs.meter(commonId, `resident:${commonId}`);
 *   // { total: { points: 120, activities: 4 }, goals: [{ goal: 14, ja: '海の豊かさを守ろう', points: 80, … }] }
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { AuditLog, Database, Queryable } from '../../core/index.ts';
import { canonicalJson, ProblemError } from '../../core/index.ts';
import type { PointsService } from '../../points/index.ts';
import { type Inbox, inboxKey } from '../kit/index.ts';
import { SDGS_GOALS } from './sdgs_goals.ts';
import './problems.ts';

export interface SdgsRule {
  activity: string;
  name: string;
  municipality: string;
  goals: number[];
  currency: string;
  pool: string;
  pointType: string;
  pointsPerUnit: number;
  maxPointsPerEvent: number | null;
  dailyCap: number | null;
  active: boolean;
}

/** What the SDGs site posts (see README, "Activity events"). */
export interface ActivityEvent {
  eventId: string;
  subject: string;
  activity: string;
  goals: number[];
  amount: number;
  occurredAt: string;
}

export interface ActivityOutcome {
  [key: string]: string | number | boolean | null;
  eventId: string;
  activity: string;
  goals: string;
  points: number;
  journalId: string | null;
  limitedBy: string | null;
  request: string;
}

export interface MeterGoal {
  goal: number;
  ja: string;
  en: string;
  points: number;
  activities: number;
}

export interface Meter {
  total: { points: number; activities: number };
  goals: MeterGoal[];
}

/** Resolves the subject a partner service knows a resident by to the resident's common ID. */
export interface SubjectResolver {
  commonIdForSubject(clientId: string, subject: string): Promise<string | undefined>;
}

interface Deps {
  db: Database;
  audit: AuditLog;
  inbox: Inbox;
  now: () => Date;
  points: () => PointsService;
  residents: () => SubjectResolver;
}

const HOUR = 3_600_000;

export function jstDay(at: Date): string {
  return new Date(at.getTime() + 9 * HOUR).toISOString().slice(0, 10);
}

function requestHash(event: ActivityEvent): string {
  const { eventId: _ignored, ...rest } = event;
  return createHash('sha256')
    .update(canonicalJson({ ...rest, goals: [...rest.goals].sort((a, b) => a - b) }))
    .digest('hex')
    .slice(0, 32);
}

function meterOf(rows: Array<{ goal: number; points: string; activities: number }>): Meter {
  const goals = SDGS_GOALS.map((g) => {
    const row = rows.find((r) => Number(r.goal) === g.goal);
    return { ...g, points: row ? Number(row.points) : 0, activities: row?.activities ?? 0 };
  });
  return {
    total: {
      points: goals.reduce((s, g) => s + g.points, 0),
      activities: goals.reduce((s, g) => s + g.activities, 0),
    },
    goals,
  };
}

const RULE_COLUMNS = `activity, name, municipality, goals::int[] AS goals, currency, pool, point_type AS "pointType",
  points_per_unit AS "pointsPerUnit", max_points_per_event AS "maxPointsPerEvent", daily_cap AS "dailyCap", active`;

export function createSdgsService(deps: Deps) {
  const { db, audit, inbox, now } = deps;

  async function rule(q: Queryable, activity: string): Promise<SdgsRule | undefined> {
    const { rows } = await q.query<SdgsRule>(
      `SELECT ${RULE_COLUMNS} FROM adapters.sdgs_rule WHERE activity = $1`,
      [activity],
    );
    return rows[0];
  }

  /** The points the rule gives for `amount`, before the daily cap. */
  function pointsFor(r: SdgsRule, amount: number): number {
    const hundredths = Math.round(amount * 100);
    const points = Math.floor((hundredths * r.pointsPerUnit) / 100);
    return r.maxPointsPerEvent === null ? points : Math.min(points, r.maxPointsPerEvent);
  }

  async function effect(
    tx: pg.PoolClient,
    source: string,
    event: ActivityEvent,
    resident: string,
    r: SdgsRule,
  ): Promise<ActivityOutcome> {
    const occurred = new Date(event.occurredAt);
    const day = jstDay(occurred);
    // One resident's activities are acted on one at a time, so the daily cap holds under concurrency.
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`adapters/sdgs/${resident}`]);
    let points = pointsFor(r, event.amount);
    let limitedBy: string | null = null;
    if (r.dailyCap !== null) {
      const { rows } = await tx.query<{ sum: string }>(
        `SELECT coalesce(sum(points), 0)::text AS sum FROM adapters.sdgs_activity
          WHERE resident = $1 AND activity = $2 AND jst_day = $3`,
        [resident, r.activity, day],
      );
      const left = Math.max(0, r.dailyCap - Number(rows[0]!.sum));
      if (points > left) {
        points = left;
        limitedBy = 'daily-cap';
      }
    }
    let journalId: string | null = null;
    if (points > 0) {
      try {
        const answer = await deps.points().grant({
          currency: r.currency,
          pool: r.pool,
          resident,
          amount: points,
          pointType: r.pointType,
          reason: `SDGs: ${r.activity}`,
          meta: { adapter: 'sdgs', activity: r.activity, goals: event.goals },
          idempotency: { scope: 'adapters/sdgs', key: inboxKey({ source, eventId: event.eventId }) },
          actor: `adapter:sdgs`,
        });
        journalId = answer.journalId;
      } catch (error) {
        if (!(error instanceof ProblemError) || error.code !== 'pool-exhausted') throw error;
        points = 0;
        limitedBy = 'pool-exhausted';
      }
    }
    const at = now();
    await tx.query(
      `INSERT INTO adapters.sdgs_activity (source, event_id, resident, activity, municipality, goals, amount, points,
              journal_id, limited_by, occurred_at, jst_day, received_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
        source,
        event.eventId,
        resident,
        r.activity,
        r.municipality,
        event.goals,
        event.amount,
        points,
        journalId,
        limitedBy,
        occurred,
        day,
        at,
      ],
    );
    // Every goal the activity served counts its points: the meter shows contribution per goal.
    await tx.query(
      `INSERT INTO adapters.sdgs_meter_resident (resident, goal, points, activities)
       SELECT $1, g, $3, 1 FROM unnest($2::smallint[]) AS g
       ON CONFLICT (resident, goal) DO UPDATE SET points = sdgs_meter_resident.points + EXCLUDED.points,
              activities = sdgs_meter_resident.activities + 1`,
      [resident, event.goals, points],
    );
    await tx.query(
      `INSERT INTO adapters.sdgs_meter_city (municipality, goal, points, activities)
       SELECT $1, g, $3, 1 FROM unnest($2::smallint[]) AS g
       ON CONFLICT (municipality, goal) DO UPDATE SET points = sdgs_meter_city.points + EXCLUDED.points,
              activities = sdgs_meter_city.activities + 1`,
      [r.municipality, event.goals, points],
    );
    return {
      eventId: event.eventId,
      activity: r.activity,
      goals: [...event.goals].sort((a, b) => a - b).join(','),
      points,
      journalId,
      limitedBy,
      request: requestHash(event),
    };
  }

  return {
    /** Acts on one activity event from the SDGs site (`clientId`: the site's partner client). */
    async receive(
      clientId: string,
      event: ActivityEvent,
    ): Promise<{ outcome: ActivityOutcome; replayed: boolean }> {
      const source = `sdgs:${clientId}`;
      const at = now();
      const occurred = Date.parse(event.occurredAt);
      if (occurred > at.getTime() + 5 * 60_000)
        throw new ProblemError('sdgs-activity-invalid', { detail: 'occurredAt is in the future.' });
      if (occurred < at.getTime() - 366 * 24 * HOUR)
        throw new ProblemError('sdgs-activity-invalid', { detail: 'occurredAt is more than a year ago.' });
      if (new Set(event.goals).size !== event.goals.length)
        throw new ProblemError('sdgs-activity-invalid', { detail: 'goals must not repeat.' });
      // A redelivery is answered from the inbox before anything else is looked up.
      if (await inbox.seen(source, event.eventId)) return replay(source, event);
      const r = await rule(db, event.activity);
      if (!r || !r.active)
        throw new ProblemError('sdgs-unknown-activity', { detail: `No active rule for ${event.activity}.` });
      const foreign = event.goals.filter((g) => !r.goals.includes(g));
      if (foreign.length > 0)
        throw new ProblemError('sdgs-activity-invalid', {
          detail: `Activity ${r.activity} does not serve goal ${foreign.join(', ')}.`,
        });
      const resident = await deps.residents().commonIdForSubject(clientId, event.subject);
      if (!resident)
        throw new ProblemError('sdgs-unknown-resident', { detail: 'No resident has this subject.' });
      try {
        const result = await inbox.receive(
          { adapter: 'sdgs', source, eventId: event.eventId, kind: 'activity' },
          (tx) => effect(tx, source, event, resident, r),
        );
        if (result.duplicate) return replay(source, event);
        return { outcome: result.outcome, replayed: false };
      } catch (error) {
        // A concurrent twin won the race on the activity row (unique per event): answer its outcome.
        if ((error as { code?: string }).code === '23505' && (await inbox.seen(source, event.eventId)))
          return replay(source, event);
        throw error;
      }
    },

    async rules(): Promise<SdgsRule[]> {
      const { rows } = await db.query<SdgsRule>(
        `SELECT ${RULE_COLUMNS} FROM adapters.sdgs_rule ORDER BY activity`,
      );
      return rows;
    },

    /** Creates or replaces the rule of one activity; audited. */
    async putRule(input: SdgsRule, actor: string): Promise<SdgsRule> {
      await deps.points().pointType(input.currency, input.pointType); // 404 when either is unknown
      await db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO adapters.sdgs_rule (activity, name, municipality, goals, currency, pool, point_type,
                  points_per_unit, max_points_per_event, daily_cap, active, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
           ON CONFLICT (activity) DO UPDATE SET name = EXCLUDED.name, municipality = EXCLUDED.municipality,
             goals = EXCLUDED.goals, currency = EXCLUDED.currency, pool = EXCLUDED.pool,
             point_type = EXCLUDED.point_type, points_per_unit = EXCLUDED.points_per_unit,
             max_points_per_event = EXCLUDED.max_points_per_event, daily_cap = EXCLUDED.daily_cap,
             active = EXCLUDED.active, updated_at = EXCLUDED.updated_at`,
          [
            input.activity,
            input.name,
            input.municipality,
            [...new Set(input.goals)].sort((a, b) => a - b),
            input.currency,
            input.pool,
            input.pointType,
            input.pointsPerUnit,
            input.maxPointsPerEvent,
            input.dailyCap,
            input.active,
            now(),
          ],
        );
        await audit.recordInTransaction(tx, {
          actor,
          action: 'adapters.sdgs.rule.put',
          target: `adapters.sdgs-rule:${input.activity}`,
          details: {
            goals: input.goals.join(','),
            pointsPerUnit: input.pointsPerUnit,
            maxPointsPerEvent: input.maxPointsPerEvent,
            dailyCap: input.dailyCap,
            active: input.active,
          },
        });
      });
      return (await rule(db, input.activity))!;
    },

    /** The resident's SDGs meter: points and activities per goal (all 17, zeros included). */
    async meter(resident: string, actor: string): Promise<Meter> {
      const { rows } = await db.query<{ goal: number; points: string; activities: number }>(
        'SELECT goal, points::text, activities FROM adapters.sdgs_meter_resident WHERE resident = $1',
        [resident],
      );
      await audit.record({ actor, action: 'adapters.sdgs.meter.read', target: `resident:${resident}` });
      return meterOf(rows);
    },

    /** The city's SDGs meter: every resident's activities summed per goal (no personal data). */
    async cityMeter(municipality: string): Promise<Meter> {
      const { rows } = await db.query<{ goal: number; points: string; activities: number }>(
        'SELECT goal, points::text, activities FROM adapters.sdgs_meter_city WHERE municipality = $1',
        [municipality],
      );
      return meterOf(rows);
    },

    /** The resident's activities, newest first. */
    async activities(resident: string, actor: string, limit = 50) {
      const { rows } = await db.query<{
        eventId: string;
        activity: string;
        name: string;
        goals: number[];
        amount: string;
        points: number;
        limitedBy: string | null;
        occurredAt: Date;
      }>(
        `SELECT a.event_id AS "eventId", a.activity, r.name, a.goals::int[] AS goals, a.amount::text, a.points,
                a.limited_by AS "limitedBy", a.occurred_at AS "occurredAt"
           FROM adapters.sdgs_activity a JOIN adapters.sdgs_rule r USING (activity)
          WHERE a.resident = $1 ORDER BY a.occurred_at DESC, a.id DESC LIMIT $2`,
        [resident, Math.min(Math.max(limit, 1), 500)],
      );
      await audit.record({ actor, action: 'adapters.sdgs.activities.read', target: `resident:${resident}` });
      return rows.map((r) => ({ ...r, amount: Number(r.amount), occurredAt: r.occurredAt.toISOString() }));
    },
  };

  async function replay(
    source: string,
    event: ActivityEvent,
  ): Promise<{ outcome: ActivityOutcome; replayed: true }> {
    const { rows } = await db.query<{ outcome: ActivityOutcome }>(
      'SELECT outcome FROM adapters.inbox WHERE source = $1 AND event_id = $2',
      [source, event.eventId],
    );
    const outcome = rows[0]?.outcome;
    if (!outcome) throw new ProblemError('conflict', { detail: 'The event is being processed; retry.' });
    if (outcome.request !== requestHash(event))
      throw new ProblemError('idempotency-key-reused', {
        detail: 'This event id was sent with other content.',
      });
    return { outcome, replayed: true };
  }
}

export type SdgsServices = Omit<ReturnType<typeof createSdgsService>, 'receive'>;
