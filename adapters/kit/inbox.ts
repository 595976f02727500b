/**
 * The inbox: each outside event is acted on once. `receive` runs the adapter's effect and inserts
 * (source, event id) with its outcome in the same transaction; when the row exists already (a replay,
 * or a concurrent redelivery that committed first: the insert waits for it) the transaction rolls
 * back, so the replay changes nothing. An effect that throws leaves no row, and the outside system's
 * redelivery gets a fresh try. (Effect first, row last: one round trip less per event.)
 *
 * Effects in other modules (a `points.grant`) run in their own transaction: pass them an
 * idempotency key derived from the event id (`inboxKey(event)`), so a crash between that call and
 * the inbox commit is healed by the redelivery, which replays the same ledger answer.
 *
 * @example
 *   const { duplicate } = await kit.inbox.receive(
 *     { adapter: 'line', source: 'line:U123', eventId: ev.webhookEventId, kind: ev.type },
 *     async (tx) => { await tx.query('UPDATE adapters.line_user …'); return { followed: true }; },
 *   );
 */
import type pg from 'pg';
import type { Database } from '../../core/index.ts';

export interface InboxEvent {
  /** The adapter acting on it (`line`, `health`). */
  adapter: string;
  /** The outside system that issued the event id (`line:<bot user id>`, `health:file`). */
  source: string;
  /** The outside system's id for the event (LINE's `webhookEventId`, a file hash). */
  eventId: string;
  /** What kind of event (`follow`, `message`, `file`): for staff views. */
  kind: string;
}

/** What the effect returns: ids and codes only, never personal values (staff see it). */
export type Outcome = Record<string, string | number | boolean | null>;

export type InboxResult<T extends Outcome> =
  { duplicate: false; outcome: T } | { duplicate: true; outcome: Outcome; receivedAt: string };

export interface InboxEntry {
  adapter: string;
  source: string;
  eventId: string;
  kind: string;
  receivedAt: string;
  outcome: Outcome;
}

export interface Inbox {
  receive<T extends Outcome>(
    event: InboxEvent,
    effect: (tx: pg.PoolClient) => Promise<T>,
  ): Promise<InboxResult<T>>;
  /** Whether an event was already acted on (without acting). */
  seen(source: string, eventId: string): Promise<boolean>;
  list(query: { adapter?: string; limit?: number; before?: string }): Promise<InboxEntry[]>;
  /** Deletes entries older than `before` (outside systems no longer redeliver them). */
  prune(before: Date): Promise<number>;
}

/** An idempotency key for calls the effect makes to other modules. */
export function inboxKey(event: Pick<InboxEvent, 'source' | 'eventId'>): string {
  return `${event.source}/${event.eventId}`;
}

const DUPLICATE = new Error('inbox: duplicate event');

export function createInbox(deps: { db: Database; now: () => Date; afterCommit?: () => void }): Inbox {
  const { db, now } = deps;
  return {
    async receive<T extends Outcome>(
      event: InboxEvent,
      effect: (tx: pg.PoolClient) => Promise<T>,
    ): Promise<InboxResult<T>> {
      let result: InboxResult<T>;
      try {
        result = await db.transaction(async (tx) => {
          const outcome = await effect(tx);
          const inserted = await tx.query(
            `INSERT INTO adapters.inbox (source, event_id, adapter, kind, received_at, outcome)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (source, event_id) DO NOTHING`,
            [event.source, event.eventId, event.adapter, event.kind, now(), JSON.stringify(outcome)],
          );
          // Seen before (or a concurrent twin committed first): undo this run's effect.
          if (inserted.rowCount === 0) throw DUPLICATE;
          return { duplicate: false as const, outcome };
        });
      } catch (error) {
        if (error !== DUPLICATE) throw error;
        const { rows } = await db.query<{ outcome: Outcome; receivedAt: Date }>(
          `SELECT outcome, received_at AS "receivedAt" FROM adapters.inbox WHERE source = $1 AND event_id = $2`,
          [event.source, event.eventId],
        );
        return {
          duplicate: true,
          outcome: rows[0]?.outcome ?? {},
          receivedAt: (rows[0]?.receivedAt ?? now()).toISOString(),
        };
      }
      deps.afterCommit?.();
      return result;
    },

    async seen(source, eventId) {
      const { rowCount } = await db.query(
        'SELECT 1 FROM adapters.inbox WHERE source = $1 AND event_id = $2',
        [source, eventId],
      );
      return (rowCount ?? 0) > 0;
    },

    async list(query) {
      const limit = Math.min(Math.max(query.limit ?? 50, 1), 500);
      const { rows } = await db.query<{
        adapter: string;
        source: string;
        eventId: string;
        kind: string;
        receivedAt: Date;
        outcome: Outcome;
      }>(
        `SELECT adapter, source, event_id AS "eventId", kind, received_at AS "receivedAt", outcome
           FROM adapters.inbox
          WHERE ($1::text IS NULL OR adapter = $1) AND ($2::timestamptz IS NULL OR received_at < $2)
          ORDER BY received_at DESC, event_id DESC LIMIT $3`,
        [query.adapter ?? null, query.before ?? null, limit],
      );
      return rows.map((r) => ({ ...r, receivedAt: r.receivedAt.toISOString() }));
    },

    async prune(before) {
      const { rowCount } = await db.query('DELETE FROM adapters.inbox WHERE received_at < $1', [before]);
      return rowCount ?? 0;
    },
  };
}
