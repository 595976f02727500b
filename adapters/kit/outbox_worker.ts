/**
 * Delivers due outbox messages. Each round claims up to `batch` due messages with
 * `FOR UPDATE SKIP LOCKED` and leases them (so several instances share the work and a crashed
 * worker's messages come back when the lease ends), counts the attempt, runs the handlers
 * concurrently and records each outcome: done, retry at now + backoff, or dead.
 *
 * Everything lives in the table, so a restart loses nothing: pending messages, their attempt counts
 * and their next attempt times are where the last process left them.
 */
import type { AuditLog, Database, Logger } from '../../core/index.ts';
import { ProblemError } from '../../core/index.ts';
import { type BackoffSettings, backoffDelay } from './backoff.ts';
import { type OutboxHandler, type OutboxStore, PermanentFailure } from './outbox.ts';

export interface WorkerSettings extends BackoffSettings {
  pollMs: number;
  leaseMs: number;
  batch: number;
}

export interface OutboxWorker {
  /** Delivers what is due now; resolves with the number of messages attempted. */
  runOnce(): Promise<number>;
  /** Asks for a round soon (after an enqueue committed). */
  kick(): void;
  start(): void;
  stop(): Promise<void>;
  /** Puts a dead letter back in the queue with a fresh attempt budget (staff). */
  retry(id: string, actor: string): Promise<void>;
}

const ERROR_LIMIT = 500;
const KICK_DELAY_MS = 5;

/** Error text for staff: the message only (handlers keep personal data out of their errors). */
function describe(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > ERROR_LIMIT ? `${text.slice(0, ERROR_LIMIT - 1)}…` : text;
}

export function createOutboxWorker(deps: {
  db: Database;
  audit: AuditLog;
  logger: Logger;
  now: () => Date;
  store: OutboxStore;
  handlers: () => ReadonlyMap<string, OutboxHandler>;
  settings: WorkerSettings;
}): OutboxWorker {
  const { db, logger, now, store, settings } = deps;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let again = false;
  let stopped = true;
  let kickTimer: NodeJS.Timeout | undefined;

  async function deliver(row: {
    id: string;
    adapter: string;
    kind: string;
    payload_sealed: string;
    attempts: number;
    max_attempts: number;
    created_at: Date;
  }): Promise<void> {
    const handler = deps.handlers().get(`${row.adapter}/${row.kind}`);
    let failure: unknown;
    try {
      if (!handler) throw new Error(`no handler for ${row.adapter}/${row.kind}`);
      await handler({
        id: row.id,
        adapter: row.adapter,
        kind: row.kind,
        payload: store.open(row),
        attempt: row.attempts,
        maxAttempts: row.max_attempts,
        createdAt: row.created_at,
      });
    } catch (error) {
      failure = error;
    }
    const at = now();
    if (failure === undefined) {
      await db.query(
        `UPDATE adapters.outbox SET status = 'done', done_at = $2, updated_at = $2, leased_until = NULL, last_error = NULL
          WHERE id = $1 AND status = 'pending'`,
        [row.id, at],
      );
      return;
    }
    const dead = failure instanceof PermanentFailure || row.attempts >= row.max_attempts;
    const next = new Date(at.getTime() + backoffDelay(row.attempts, settings));
    await db.query(
      `UPDATE adapters.outbox
          SET status = $2, next_attempt_at = $3, updated_at = $4, leased_until = NULL, last_error = $5
        WHERE id = $1 AND status = 'pending'`,
      [row.id, dead ? 'dead' : 'pending', next, at, describe(failure)],
    );
    const log = { outbox: row.id, adapter: row.adapter, kind: row.kind, attempt: row.attempts };
    if (dead) logger.warn(log, 'outbox message is a dead letter');
    else logger.info(log, 'outbox delivery failed; will retry');
  }

  async function round(): Promise<number> {
    const at = now();
    const { rows } = await db.query<{
      id: string;
      adapter: string;
      kind: string;
      payload_sealed: string;
      attempts: number;
      max_attempts: number;
      created_at: Date;
    }>(
      `UPDATE adapters.outbox o SET leased_until = $2, attempts = o.attempts + 1, updated_at = $1
        WHERE o.id IN (SELECT id FROM adapters.outbox
                        WHERE status = 'pending' AND next_attempt_at <= $1
                          AND (leased_until IS NULL OR leased_until <= $1)
                        ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
      RETURNING o.id::text AS id, o.adapter, o.kind, o.payload_sealed, o.attempts, o.max_attempts, o.created_at`,
      [at, new Date(at.getTime() + settings.leaseMs), settings.batch],
    );
    await Promise.all(rows.map((row) => deliver(row)));
    return rows.length;
  }

  function runOnce(): Promise<number> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let total = 0;
      try {
        // A full batch, or a kick during the round, means more may be due: go on at once.
        for (;;) {
          again = false;
          const n = await round();
          total += n;
          if (n < settings.batch && !again) break;
        }
      } finally {
        running = undefined;
      }
      return total;
    })();
    return running;
  }

  function tick() {
    runOnce().catch((err: unknown) => logger.error({ err }, 'outbox round failed'));
  }

  return {
    runOnce,
    kick() {
      // Coalesced: a burst of commits (200 webhook events/s) shares one delivery round.
      if (stopped || kickTimer) return;
      kickTimer = setTimeout(() => {
        kickTimer = undefined;
        tick();
      }, KICK_DELAY_MS);
    },
    start() {
      stopped = false;
      if (settings.pollMs > 0) {
        timer = setInterval(tick, settings.pollMs);
        timer.unref();
      }
      setImmediate(tick);
    },
    async stop() {
      stopped = true;
      if (kickTimer) clearTimeout(kickTimer);
      kickTimer = undefined;
      if (timer) clearInterval(timer);
      timer = undefined;
      await running?.catch(() => {});
    },
    async retry(id, actor) {
      await db.transaction(async (tx) => {
        const { rows } = await tx.query<{ status: string; adapter: string; kind: string }>(
          'SELECT status, adapter, kind FROM adapters.outbox WHERE id = $1 FOR UPDATE',
          [id],
        );
        const row = rows[0];
        if (!row) throw new ProblemError('outbox-message-unknown', { detail: `No outbox message ${id}.` });
        if (row.status !== 'dead')
          throw new ProblemError('outbox-not-dead', { detail: `Message ${id} is ${row.status}.` });
        const at = now();
        await tx.query(
          `UPDATE adapters.outbox SET status = 'pending', attempts = 0, next_attempt_at = $2, updated_at = $2,
                  leased_until = NULL WHERE id = $1`,
          [id, at],
        );
        await deps.audit.recordInTransaction(tx, {
          actor,
          action: 'adapters.outbox.retry',
          target: `adapters.outbox:${id}`,
          details: { adapter: row.adapter, kind: row.kind },
        });
      });
      if (!stopped) setImmediate(tick);
    },
  };
}
