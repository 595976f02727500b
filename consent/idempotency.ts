/**
 * Idempotency-Key for state changes: the first request with a key runs inside a transaction that
 * also stores its answer; a retry with the same key and the same request gets that answer again
 * (header `Idempotent-Replayed: true`) and changes nothing; the same key with a different request is
 * refused (422 idempotency-key-reused). A request that fails stores nothing, so it can be retried.
 */
import { createHash } from 'node:crypto';
import type { Database, Queryable } from '../core/index.ts';
import { canonicalJson, ProblemError } from '../core/index.ts';

export interface Answer {
  status: number;
  body: unknown;
}

export async function runIdempotent(
  db: Database,
  scope: { actor: string; key: string | undefined; request: unknown; now: Date },
  fn: (tx: Queryable) => Promise<Answer>,
): Promise<Answer & { replayed: boolean }> {
  const { actor, key } = scope;
  if (key === undefined) return { ...(await db.transaction(fn)), replayed: false };
  if (key.length === 0 || key.length > 200)
    throw new ProblemError('validation-failed', { detail: 'Idempotency-Key must be 1 to 200 characters.' });
  const hash = createHash('sha256').update(canonicalJson(scope.request)).digest('hex');
  return db.transaction(async (tx) => {
    const claimed = await tx.query(
      `INSERT INTO consent.idempotency (actor, key, request_hash, status, response, created_at)
       VALUES ($1, $2, $3, 0, 'null', $4) ON CONFLICT DO NOTHING`,
      [actor, key, hash, scope.now],
    );
    if (claimed.rowCount === 0) {
      const { rows } = await tx.query<{ request_hash: string; status: number; response: unknown }>(
        'SELECT request_hash, status, response FROM consent.idempotency WHERE actor = $1 AND key = $2',
        [actor, key],
      );
      const stored = rows[0]!;
      if (stored.request_hash !== hash)
        throw new ProblemError('idempotency-key-reused', {
          detail: 'This Idempotency-Key was used for another request.',
        });
      return { status: stored.status, body: stored.response, replayed: true };
    }
    const answer = await fn(tx);
    await tx.query(
      'UPDATE consent.idempotency SET status = $3, response = $4 WHERE actor = $1 AND key = $2',
      [actor, key, answer.status, JSON.stringify(answer.body)],
    );
    return { ...answer, replayed: false };
  });
}

/** Answers are kept for a day: a client retries within minutes, not days. */
export const IDEMPOTENCY_TTL_MS = 86_400_000;

export async function sweepIdempotency(db: Queryable, now: Date): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM consent.idempotency WHERE created_at < $1', [
    new Date(now.getTime() - IDEMPOTENCY_TTL_MS),
  ]);
  return rowCount ?? 0;
}
