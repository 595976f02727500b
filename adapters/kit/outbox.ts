/**
 * The outbox: outgoing calls to outside systems, stored in PostgreSQL in the same transaction as the
 * change that causes them and delivered by a worker (`outbox_worker.ts`) until the handler succeeds.
 * A handler failure is retried with exponential backoff; past `maxAttempts`, or when the handler
 * throws `PermanentFailure`, the message becomes a dead letter that staff can see and retry.
 * Payloads are sealed (AES-256-GCM) because they may hold personal data; staff views never show them.
 *
 * Delivery is at least once: a handler must make its call idempotent on the outside (LINE's
 * `X-Line-Retry-Key`, the wallet's reference), using `message.id` or its own business key.
 *
 * @example
 *   await db.transaction(async (tx) => {
 *     await tx.query('UPDATE …');
 *     await kit.outbox.enqueue(tx, { adapter: 'line', kind: 'push', payload: { to, text }, key: `notice:${id}` });
 *   });
 *   kit.outbox.kick(); // deliver now rather than at the next poll
 */
import type { Queryable } from '../../core/index.ts';
import { openWith, sealWith } from '../../core/index.ts';

export interface OutboxMessage<P = unknown> {
  id: string;
  adapter: string;
  kind: string;
  payload: P;
  /** 1 on the first delivery. */
  attempt: number;
  maxAttempts: number;
  createdAt: Date;
}

/** Delivers one message; throws to retry later, or throws `PermanentFailure` to give up now. */
export type OutboxHandler = (message: OutboxMessage) => Promise<void>;

/** A failure that retrying cannot fix (the outside system refused the request as invalid). */
export class PermanentFailure extends Error {
  override name = 'PermanentFailure';
}

export interface EnqueueInput {
  adapter: string;
  kind: string;
  payload: unknown;
  /** Business key: a second enqueue with the same key is ignored (`created: false`). */
  key?: string;
  maxAttempts?: number;
  /** First delivery not before now + delay. */
  delayMs?: number;
}

export type OutboxStatus = 'pending' | 'done' | 'dead';

export interface OutboxEntry {
  id: string;
  adapter: string;
  kind: string;
  key: string | null;
  status: OutboxStatus;
  attempts: number;
  maxAttempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  createdAt: string;
  doneAt: string | null;
}

export interface OutboxStore {
  enqueue(tx: Queryable, input: EnqueueInput): Promise<{ id: string; created: boolean }>;
  open(row: { adapter: string; kind: string; payload_sealed: string }): unknown;
  list(query: {
    adapter?: string;
    status?: OutboxStatus;
    limit?: number;
    before?: string;
  }): Promise<OutboxEntry[]>;
  get(id: string): Promise<OutboxEntry | undefined>;
}

export const OUTBOX_COLUMNS = `id::text AS id, adapter, kind, dedupe_key AS key, status, attempts,
  max_attempts AS "maxAttempts", next_attempt_at AS "nextAttemptAt", last_error AS "lastError",
  created_at AS "createdAt", done_at AS "doneAt"`;

interface OutboxRow {
  id: string;
  adapter: string;
  kind: string;
  key: string | null;
  status: OutboxStatus;
  attempts: number;
  maxAttempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  createdAt: Date;
  doneAt: Date | null;
}

export function toEntry(r: OutboxRow): OutboxEntry {
  return {
    ...r,
    nextAttemptAt: r.nextAttemptAt.toISOString(),
    createdAt: r.createdAt.toISOString(),
    doneAt: r.doneAt ? r.doneAt.toISOString() : null,
  };
}

export function createOutboxStore(deps: {
  db: Queryable;
  key: Buffer;
  now: () => Date;
  defaultMaxAttempts: number;
}): OutboxStore {
  const { db, key, now } = deps;
  const aad = (adapter: string, kind: string) => `adapters.outbox/${adapter}/${kind}`;
  return {
    async enqueue(tx, input) {
      const at = now();
      const due = new Date(at.getTime() + (input.delayMs ?? 0));
      const { rows } = await tx.query<{ id: string }>(
        `INSERT INTO adapters.outbox (adapter, kind, dedupe_key, payload_sealed, max_attempts, next_attempt_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
         ON CONFLICT (dedupe_key) DO NOTHING RETURNING id::text AS id`,
        [
          input.adapter,
          input.kind,
          input.key ?? null,
          sealWith(key, aad(input.adapter, input.kind), JSON.stringify(input.payload)),
          input.maxAttempts ?? deps.defaultMaxAttempts,
          due,
          at,
        ],
      );
      if (rows[0]) return { id: rows[0].id, created: true };
      const existing = await tx.query<{ id: string }>(
        'SELECT id::text AS id FROM adapters.outbox WHERE dedupe_key = $1',
        [input.key],
      );
      return { id: existing.rows[0]!.id, created: false };
    },

    open(row) {
      return JSON.parse(openWith(key, aad(row.adapter, row.kind), row.payload_sealed)) as unknown;
    },

    async list(query) {
      const limit = Math.min(Math.max(query.limit ?? 50, 1), 500);
      const { rows } = await db.query<OutboxRow>(
        `SELECT ${OUTBOX_COLUMNS} FROM adapters.outbox
          WHERE ($1::text IS NULL OR adapter = $1) AND ($2::text IS NULL OR status = $2)
            AND ($3::bigint IS NULL OR id < $3)
          ORDER BY id DESC LIMIT $4`,
        [query.adapter ?? null, query.status ?? null, query.before ?? null, limit],
      );
      return rows.map(toEntry);
    },

    async get(id) {
      const { rows } = await db.query<OutboxRow>(
        `SELECT ${OUTBOX_COLUMNS} FROM adapters.outbox WHERE id = $1`,
        [id],
      );
      return rows[0] ? toEntry(rows[0]) : undefined;
    },
  };
}
