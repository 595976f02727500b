/**
 * Idempotency-Key for a partner's state-changing call (sending a data flow): the first request with
 * a key claims it and runs in one transaction that also stores its answer; a retry with the same key
 * and request gets that answer again (`Idempotent-Replayed: true`) and changes nothing; the same key
 * with another request is refused (422 idempotency-key-reused). A refused request stores nothing.
 * Answers hold item names and consent ids, never values.
 */
import { createHash } from 'node:crypto';
import type { Database, Queryable } from '../core/index.ts';
import { canonicalJson, ProblemError } from '../core/index.ts';

export async function runIdempotent<T>(
  db: Database,
  scope: { service: string; key: string | undefined; request: unknown; now: Date },
  fn: (tx: Queryable) => Promise<T>,
): Promise<{ body: T; replayed: boolean }> {
  const { service, key } = scope;
  if (key === undefined) return { body: await db.transaction(fn), replayed: false };
  if (key.length === 0 || key.length > 200)
    throw new ProblemError('validation-failed', { detail: 'Idempotency-Key must be 1 to 200 characters.' });
  const hash = createHash('sha256').update(canonicalJson(scope.request)).digest('hex');
  return db.transaction(async (tx) => {
    // A concurrent request with the same key waits here until the first one commits or rolls back.
    const claimed = await tx.query(
      `INSERT INTO mediation.idempotency (service, key, request_hash, body, created_at)
       VALUES ($1, $2, $3, 'null', $4) ON CONFLICT DO NOTHING`,
      [service, key, hash, scope.now],
    );
    if (claimed.rowCount === 0) {
      const { rows } = await tx.query<{ request_hash: string; body: T }>(
        'SELECT request_hash, body FROM mediation.idempotency WHERE service = $1 AND key = $2',
        [service, key],
      );
      if (rows[0]!.request_hash !== hash)
        throw new ProblemError('idempotency-key-reused', {
          detail: 'This Idempotency-Key was used for another request.',
        });
      return { body: rows[0]!.body, replayed: true };
    }
    const body = await fn(tx);
    await tx.query('UPDATE mediation.idempotency SET body = $3 WHERE service = $1 AND key = $2', [
      service,
      key,
      JSON.stringify(body),
    ]);
    return { body, replayed: false };
  });
}

/** Forgets answers older than a day. */
export async function sweepIdempotency(db: Database, now: Date): Promise<number> {
  const result = await db.query('DELETE FROM mediation.idempotency WHERE created_at < $1', [
    new Date(now.getTime() - 86_400_000),
  ]);
  return result.rowCount ?? 0;
}
