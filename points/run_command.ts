/**
 * Runs one ledger command (a plpgsql function, one statement = one transaction) and turns its
 * outcome into an answer. Business failures are stored under the idempotency key in a second
 * transaction so a retry gets the same answer; a concurrent twin with the same key that lost the
 * race on the request row answers with the winner's stored outcome.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { canonicalJson, type Database, ProblemError } from '../core/index.ts';
import './problems.ts';

export interface Posting {
  currency: string;
  kind: string;
  holder: string;
  amount: number;
  balanceAfter: number;
}

export interface JournalAnswer {
  ok: true;
  journalId: string;
  kind: string;
  createdAt: string;
  postings?: Posting[];
  replayed?: boolean;
  [extra: string]: unknown;
}

interface FailureAnswer {
  ok: false;
  code: string;
  detail: string;
  replayed?: boolean;
}

type Answer = JournalAnswer | FailureAnswer;

export interface Idempotency {
  /** Who the key belongs to: a partner client id, `staff`, `system`. */
  scope: string;
  key: string;
}

export function requestHash(request: unknown): string {
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}

interface PgError {
  code?: string;
  message?: string;
  hint?: string;
  constraint?: string;
}

/** Maps a ledger SQLSTATE to a problem code; `stored` failures are kept under the key. */
function classify(error: PgError): { code: string; stored: boolean } | null {
  switch (error.code) {
    case 'PT001':
      if (error.hint === 'pool' || error.hint === 'campaign') return { code: 'pool-exhausted', stored: true };
      if (error.hint === 'lot') return { code: 'points-already-spent', stored: true };
      return { code: 'insufficient-points', stored: true };
    case 'PT404':
      return { code: error.hint === 'journal' ? 'unknown-journal' : 'unknown-account', stored: true };
    case 'PT410':
      return { code: 'already-reversed', stored: true };
    case 'PT400':
      return { code: 'invalid-ledger-request', stored: false };
    case '23514':
      // A CHECK constraint caught what the functions' own checks should have: still a clean refusal.
      if (error.constraint === 'account_non_negative') return { code: 'insufficient-points', stored: true };
      if (error.constraint === 'lot_remaining_range') return { code: 'points-already-spent', stored: true };
      return null;
    default:
      return null;
  }
}

function toProblem(answer: FailureAnswer): ProblemError {
  return new ProblemError(answer.code, {
    detail: answer.detail,
    ...(answer.replayed ? { replayed: true } : {}),
  });
}

/**
 * Calls `SELECT <fn>($1, $2, $3, …)` where $1..$3 are scope, key and request hash, and returns the
 * journal answer; throws the stored failure as a ProblemError.
 */
export async function runCommand(
  db: Database,
  idem: Idempotency,
  hash: string,
  fn: string,
  args: unknown[],
  now: Date,
  /** Writes the audit entry in the command's transaction (first attempts only, not replays). */
  audit?: (tx: pg.PoolClient, answer: JournalAnswer) => Promise<void>,
  /**
   * Runs first in the same transaction and returns the command's arguments (e.g. cashback that
   * depends on locked campaign accruals); returns null when the key already has an answer.
   */
  prepare?: (tx: pg.PoolClient) => Promise<unknown[] | null>,
): Promise<JournalAnswer> {
  const placeholders = args.map((_, i) => `$${i + 4}`).join(', ');
  const sql = `SELECT ${fn}($1, $2, $3${placeholders ? `, ${placeholders}` : ''}) AS a`;
  const values = [idem.scope, idem.key, hash, ...args];
  let answer: Answer;
  try {
    answer = await withRetry(async () => {
      if (audit || prepare) {
        return db.transaction(async (tx) => {
          let actual = values;
          if (prepare) {
            const prepared = await prepare(tx);
            if (prepared) actual = [idem.scope, idem.key, hash, ...prepared];
          }
          const { rows } = await tx.query<{ a: Answer }>(sql, actual);
          const result = rows[0]!.a;
          if (result.ok && !result.replayed) await audit?.(tx, result);
          return result;
        });
      }
      // A named statement: parsed and planned once per connection (the hot path of payments).
      const { rows } = await db.pool.query<{ a: Answer }>({
        name: `${fn}/${args.length}`,
        text: sql,
        values,
      });
      return rows[0]!.a;
    });
  } catch (error) {
    const e = error as PgError;
    if (e.code === 'PT409') {
      throw new ProblemError('idempotency-key-reused', {
        detail: 'This Idempotency-Key was used for another request.',
      });
    }
    if (e.code === '23505' && /request_pkey/.test(e.message ?? '')) {
      answer = await replay(db, idem, hash);
    } else {
      const failure = classify(e);
      if (!failure) throw error;
      const detail = (e.message ?? '').slice(0, 300);
      if (!failure.stored) throw new ProblemError(failure.code, { detail });
      const { rows } = await db.query<{ a: Answer }>(
        'SELECT points.record_failure($1, $2, $3, $4, $5) AS a',
        [idem.scope, idem.key, hash, { ok: false, code: failure.code, detail }, now],
      );
      answer = rows[0]!.a;
      // The first attempt's own answer is not a replay.
      if (!answer.ok && answer.code === failure.code && answer.detail === detail) delete answer.replayed;
    }
  }
  if (!answer.ok) throw toProblem(answer);
  return answer;
}

/** Deadlocks and serialization failures roll the whole command back; running it again is safe. */
async function withRetry<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      const code = (error as PgError).code;
      if (attempt >= 3 || (code !== '40P01' && code !== '40001')) throw error;
    }
  }
}

async function replay(db: Database, idem: Idempotency, hash: string): Promise<Answer> {
  const { rows } = await db.query<{ a: Answer | null }>('SELECT points.replay($1, $2, $3) AS a', [
    idem.scope,
    idem.key,
    hash,
  ]);
  const answer = rows[0]?.a;
  if (!answer) throw new Error('idempotency row vanished');
  return answer;
}
