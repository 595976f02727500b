/**
 * One card touch, once (the kit's inbox keyed by terminal and touch id). After the terminal's
 * signature held (verify_terminal.ts) and the body parsed (parse_touch.ts):
 *
 *   facility       the terminal's own facility; the body must name it             403 otherwise
 *   card           city ID (keyed hash) or JPKI user-certificate serial (idp)     422 card-unknown
 *   action         the facility kind's actions; nursery and shelter toggle when   422 touch-invalid
 *                  the terminal does not say
 *   visit          one row; shelters open/close the resident's presence (the live roster);
 *                  the bus looks up a fare-discount category valid that JST day
 *   points         the rule of (facility kind, action), once per JST day if so set
 *   guardians      nursery arrival/departure: a notice row per guardian and, when a notifier is
 *                  wired, an outbox message per guardian (pushed with retries)
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { canonicalJson, type Database, ProblemError } from '../../core/index.ts';
import type { PointsService } from '../../points/index.ts';
import { type Inbox, inboxKey, type Kit, type Outcome } from '../kit/index.ts';
import type { CardTouch, TouchAction } from './parse_touch.ts';
import { receiveOnce } from './receive_once.ts';
import type { Terminal } from './verify_terminal.ts';
import './problems.ts';

export type FacilityKind =
  | 'nursery'
  | 'library'
  | 'bus'
  | 'children_hall'
  | 'childcare_support'
  | 'gym'
  | 'hall'
  | 'shelter'
  | 'registration';

export const ACTIONS_BY_KIND: Record<FacilityKind, readonly TouchAction[]> = {
  nursery: ['arrival', 'departure'],
  shelter: ['check-in', 'check-out'],
  bus: ['ride'],
  library: ['entry'],
  children_hall: ['entry'],
  childcare_support: ['entry'],
  gym: ['entry'],
  hall: ['entry'],
  registration: [],
};

export interface TouchOutcome extends Outcome {
  touchId: string;
  facility: string;
  kind: string;
  action: string;
  visitId: string;
  points: number;
  journalId: string | null;
  /** Community bus: the fare-discount category, or null when not eligible (other kinds: null). */
  discount: string | null;
  request: string;
}

const HOUR = 3_600_000;
const jstDay = (at: Date) => new Date(at.getTime() + 9 * HOUR).toISOString().slice(0, 10);

export function touchHash(touch: CardTouch): string {
  return createHash('sha256').update(canonicalJson(touch)).digest('hex').slice(0, 32);
}

export interface TouchDeps {
  db: Database;
  inbox: Inbox;
  kit: Kit;
  now: () => Date;
  points: () => PointsService;
  /** Whether guardian notices are pushed (a notifier is wired); the feed is kept either way. */
  pushNotices: boolean;
}

async function chooseAction(
  tx: pg.PoolClient,
  kind: FacilityKind,
  facility: string,
  resident: string,
  touch: CardTouch,
  day: string,
): Promise<TouchAction> {
  const allowed = ACTIONS_BY_KIND[kind];
  if (touch.action) {
    if (!allowed.includes(touch.action))
      throw new ProblemError('touch-invalid', {
        detail: `A ${kind} terminal records ${allowed.join(' or ')}.`,
      });
    return touch.action;
  }
  if (kind === 'nursery') {
    const { rows } = await tx.query<{ action: string }>(
      `SELECT action FROM adapters.card_visit WHERE resident = $1 AND facility = $2 AND jst_day = $3
        ORDER BY at DESC, id DESC LIMIT 1`,
      [resident, facility, day],
    );
    return rows[0]?.action === 'arrival' ? 'departure' : 'arrival';
  }
  if (kind === 'shelter') {
    const { rows } = await tx.query(
      'SELECT 1 FROM adapters.card_shelter_presence WHERE resident = $1 AND shelter = $2 AND checked_out_at IS NULL',
      [resident, facility],
    );
    return rows.length > 0 ? 'check-out' : 'check-in';
  }
  if (!allowed[0])
    throw new ProblemError('touch-invalid', { detail: `A ${kind} terminal records no visits.` });
  return allowed[0];
}

export async function recordTouch(
  deps: TouchDeps,
  terminal: Terminal,
  touch: CardTouch,
  resident: string,
  cardType: string,
): Promise<{ outcome: TouchOutcome; replayed: boolean }> {
  const source = `card:${terminal.id}`;
  const request = touchHash(touch);
  const result = await receiveOnce(
    deps.db,
    deps.inbox,
    { adapter: 'card_readers', source, eventId: touch.touchId, kind: 'touch' },
    async (tx): Promise<TouchOutcome> => {
      const at = new Date(touch.at);
      const day = jstDay(at);
      const { rows: facilities } = await tx.query<{ kind: FacilityKind }>(
        'SELECT kind FROM adapters.card_facility WHERE code = $1',
        [terminal.facility],
      );
      const kind = facilities[0]!.kind;
      // One resident's touches are recorded one at a time (presence, toggles, once-per-day points).
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`adapters/card_readers/${resident}`]);
      const action = await chooseAction(tx, kind, terminal.facility, resident, touch, day);

      let discount: string | null = null;
      if (kind === 'bus') {
        const { rows } = await tx.query<{ category: string }>(
          `SELECT category FROM adapters.card_bus_eligibility
            WHERE resident = $1 AND valid_from <= $2::date AND valid_until >= $2::date ORDER BY category LIMIT 1`,
          [resident, day],
        );
        discount = rows[0]?.category ?? null;
      }
      if (kind === 'shelter') {
        if (action === 'check-in') {
          // Checking in here closes a stay elsewhere: a person is in one shelter at a time.
          await tx.query(
            `UPDATE adapters.card_shelter_presence SET checked_out_at = $2
              WHERE resident = $1 AND checked_out_at IS NULL AND shelter <> $3`,
            [resident, at, terminal.facility],
          );
          await tx.query(
            `INSERT INTO adapters.card_shelter_presence (shelter, resident, checked_in_at)
             VALUES ($1, $2, $3) ON CONFLICT (resident) WHERE checked_out_at IS NULL DO NOTHING`,
            [terminal.facility, resident, at],
          );
        } else {
          const closed = await tx.query(
            `UPDATE adapters.card_shelter_presence SET checked_out_at = $3
              WHERE resident = $1 AND shelter = $2 AND checked_out_at IS NULL`,
            [resident, terminal.facility, at],
          );
          if (closed.rowCount === 0)
            throw new ProblemError('touch-invalid', {
              detail: 'This card is not checked in at this shelter.',
            });
        }
      }

      let points = 0;
      let journalId: string | null = null;
      const { rows: rules } = await tx.query<{
        points: number;
        currency: string;
        pool: string;
        pointType: string;
        oncePerDay: boolean;
      }>(
        `SELECT points, currency, pool, point_type AS "pointType", once_per_day AS "oncePerDay"
           FROM adapters.card_rule WHERE facility_kind = $1 AND action = $2 AND active`,
        [kind, action],
      );
      const rule = rules[0];
      if (rule) {
        const earlier = rule.oncePerDay
          ? await tx.query(
              `SELECT 1 FROM adapters.card_visit
                WHERE resident = $1 AND kind = $2 AND action = $3 AND jst_day = $4 AND points > 0 LIMIT 1`,
              [resident, kind, action, day],
            )
          : { rowCount: 0 };
        if ((earlier.rowCount ?? 0) === 0) {
          try {
            const answer = await deps.points().grant({
              currency: rule.currency,
              pool: rule.pool,
              resident,
              amount: rule.points,
              pointType: rule.pointType,
              reason: `card: ${kind} ${action}`,
              meta: { adapter: 'card_readers', facility: terminal.facility, action },
              idempotency: {
                scope: 'adapters/card_readers',
                key: inboxKey({ source, eventId: touch.touchId }),
              },
              actor: 'adapter:card_readers',
            });
            points = rule.points;
            journalId = answer.journalId;
          } catch (error) {
            if (!(error instanceof ProblemError) || error.code !== 'pool-exhausted') throw error;
          }
        }
      }

      const { rows: visits } = await tx.query<{ id: string }>(
        `INSERT INTO adapters.card_visit (terminal, touch_id, facility, kind, action, resident, card_type, at, jst_day,
                points, journal_id, discount, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id::text`,
        [
          terminal.id,
          touch.touchId,
          terminal.facility,
          kind,
          action,
          resident,
          cardType,
          at,
          day,
          points,
          journalId,
          discount,
          deps.now(),
        ],
      );
      const visitId = visits[0]!.id;
      await tx.query('UPDATE adapters.card_terminal SET last_seen_at = $2 WHERE id = $1', [
        terminal.id,
        deps.now(),
      ]);

      if (kind === 'nursery') {
        const { rows: guardians } = await tx.query<{ guardian: string }>(
          `INSERT INTO adapters.card_notice (guardian, child, facility, action, at, visit_id)
           SELECT guardian, child, $2, $3, $4, $5 FROM adapters.card_guardian WHERE child = $1
           RETURNING guardian`,
          [resident, terminal.facility, action, at, visitId],
        );
        if (deps.pushNotices)
          for (const { guardian } of guardians)
            await deps.kit.outbox.enqueue(tx, {
              adapter: 'card_readers',
              kind: 'guardian-notice',
              key: `card_readers:notice:${visitId}:${guardian}`,
              payload: {
                guardian,
                child: resident,
                facility: terminal.facility,
                action,
                at: at.toISOString(),
              },
            });
      }
      return {
        touchId: touch.touchId,
        facility: terminal.facility,
        kind,
        action,
        visitId,
        points,
        journalId,
        discount,
        request,
      };
    },
  );
  if (!result.duplicate) return { outcome: result.outcome, replayed: false };
  const stored = result.outcome as TouchOutcome;
  if (stored.request !== request)
    throw new ProblemError('idempotency-key-reused', {
      detail: 'This touch id was sent with another touch.',
    });
  return { outcome: stored, replayed: true };
}
