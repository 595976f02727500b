/**
 * The audit log service every module writes to.
 *
 * `record()` group-commits: entries arriving while a write is in flight are written together in the
 * next transaction, so a busy platform pays one round of locking per batch, not per entry; the
 * promise resolves only once the entry is committed. `recordInTransaction()` writes inside the
 * caller's transaction, so an administrative change and its audit entry commit or fail together.
 * Both take the same transaction-scoped advisory lock, which keeps the chain linear across
 * processes and instances.
 *
 * @example
 *   await audit.record({ actor: 'staff:42', action: 'points.campaign.create', target: 'campaign:7', details: { rate: 2 } });
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Database, Queryable } from '../database.ts';
import type { Logger } from '../logger.ts';
import { type Checkpoint, type CheckpointSigner, keyIdOf } from './checkpoint.ts';
import { type AuditEntry, GENESIS_HASH, hashEntry } from './hash_entry.ts';
import { type VerifyReport, verifyAuditChain } from './verify_chain.ts';

export type { AuditEntry } from './hash_entry.ts';
export type { VerifyReport } from './verify_chain.ts';

export interface AuditRef {
  seq: number;
  hash: string;
}

export interface AuditLog {
  record(entry: AuditEntry): Promise<AuditRef>;
  recordInTransaction(tx: Queryable, entry: AuditEntry): Promise<AuditRef>;
  /** Signs the current head if it moved since the last checkpoint. */
  checkpoint(): Promise<Checkpoint | null>;
  verify(): Promise<VerifyReport>;
  /** Entries accepted by `record()` and not yet committed. */
  pending(): number;
  /** Flushes pending entries and stops the checkpoint timer. */
  close(): Promise<void>;
}

export interface AuditLogOptions {
  db: Database;
  signer: CheckpointSigner;
  logger: Logger;
  /** Checkpoints are also appended here, one JSON line each, outside the database. */
  checkpointFile: string;
  checkpointEvery: number;
  checkpointMinutes: number;
  now?: () => Date;
}

const MAX_BATCH = 500;

interface Pending {
  entry: AuditEntry;
  resolve: (ref: AuditRef) => void;
  reject: (error: unknown) => void;
}

function assertEntry(entry: AuditEntry): void {
  for (const field of ['actor', 'action', 'target'] as const) {
    if (typeof entry[field] !== 'string' || entry[field] === '') {
      throw new TypeError(`audit entry needs a non-empty ${field}`);
    }
  }
}

/** Locks the chain for this transaction and reads its head in one round trip (see migration 002). */
async function lockAndReadHead(tx: Queryable, begin: boolean): Promise<{ seq: number; hash: string }> {
  // Statements without parameters may be sent together: with `begin`, BEGIN rides along for free.
  const sql = 'SELECT seq, hash FROM core.audit_lock_head()';
  const result = (await tx.query(begin ? `BEGIN; ${sql}` : sql)) as unknown;
  const last = (Array.isArray(result) ? result[result.length - 1] : result) as {
    rows: Array<{ seq: string | null; hash: string | null }>;
  };
  const head = last.rows[0];
  return head?.seq ? { seq: Number(head.seq), hash: head.hash! } : { seq: 0, hash: GENESIS_HASH };
}

async function insertEntries(
  tx: Queryable,
  entries: AuditEntry[],
  now: Date,
  begin = false,
): Promise<AuditRef[]> {
  let head = await lockAndReadHead(tx, begin);
  const refs: AuditRef[] = [];
  const columns = { seq: [] as number[], at: [] as Date[], actor: [] as string[], action: [] as string[] };
  const rest = {
    target: [] as string[],
    details: [] as string[],
    prev: [] as string[],
    hash: [] as string[],
  };
  for (const entry of entries) {
    const seq = head.seq + 1;
    const details = entry.details ?? {};
    const hash = hashEntry(head.hash, { ...entry, seq, at: now, details });
    columns.seq.push(seq);
    columns.at.push(now);
    columns.actor.push(entry.actor);
    columns.action.push(entry.action);
    rest.target.push(entry.target);
    rest.details.push(JSON.stringify(details));
    rest.prev.push(head.hash);
    rest.hash.push(hash);
    refs.push({ seq, hash });
    head = { seq, hash };
  }
  await tx.query(
    `INSERT INTO core.audit_log (seq, at, actor, action, target, details, prev_hash, hash)
     SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::text[], $8::text[])`,
    [columns.seq, columns.at, columns.actor, columns.action, rest.target, rest.details, rest.prev, rest.hash],
  );
  return refs;
}

export function readCheckpointFile(file: string): Checkpoint[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const c = JSON.parse(line) as Omit<Checkpoint, 'signedAt'> & { signedAt: string };
      return { ...c, signedAt: new Date(c.signedAt) };
    });
}

export function createAuditLog(options: AuditLogOptions): AuditLog {
  const { db, signer, logger } = options;
  const now = options.now ?? (() => new Date());
  let queue: Pending[] = [];
  let flushing: Promise<void> | null = null;
  let sinceCheckpoint = 0;
  // Checkpoints run one after another, never merged: each request signs the head as it then stands.
  let checkpoints: Promise<unknown> = Promise.resolve();
  let closed = false;

  const timer = setInterval(() => {
    void audit.checkpoint().catch((error) => logger.error({ err: error }, 'audit checkpoint failed'));
  }, options.checkpointMinutes * 60_000);
  timer.unref();

  function noteWritten(count: number): void {
    sinceCheckpoint += count;
    if (sinceCheckpoint >= options.checkpointEvery) {
      sinceCheckpoint = 0;
      void audit.checkpoint().catch((error) => logger.error({ err: error }, 'audit checkpoint failed'));
    }
  }

  async function flush(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, MAX_BATCH);
      queue = queue.slice(MAX_BATCH);
      try {
        const refs = await writeBatch(batch.map((p) => p.entry));
        for (const [i, p] of batch.entries()) p.resolve(refs[i]!);
        noteWritten(batch.length);
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
    }
  }

  /** BEGIN + lock + head, then INSERT, then COMMIT: three round trips per batch. */
  async function writeBatch(entries: AuditEntry[]): Promise<AuditRef[]> {
    const client = await db.pool.connect();
    try {
      const refs = await insertEntries(client, entries, now(), true);
      await client.query('COMMIT');
      return refs;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  function scheduleFlush(): void {
    if (flushing) return;
    flushing = (async () => {
      // Let entries from the same tick join this batch.
      await new Promise<void>((r) => setImmediate(r));
      await flush();
    })().finally(() => {
      flushing = null;
      // An entry queued after the last batch was taken but before this point needs a new flush.
      if (queue.length > 0) scheduleFlush();
    });
  }

  async function writeCheckpoint(): Promise<Checkpoint | null> {
    const { rows } = await db.query<{ seq: string; hash: string; last: string | null }>(
      `SELECT seq, hash, (SELECT max(size) FROM core.audit_checkpoints) AS last
         FROM core.audit_log ORDER BY seq DESC LIMIT 1`,
    );
    const head = rows[0];
    if (!head || (head.last !== null && Number(head.last) >= Number(head.seq))) return null;
    const checkpoint = signer.sign(Number(head.seq), head.hash, now());
    await db.query(
      `INSERT INTO core.audit_checkpoints (size, head, signed_at, key_id, signature)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (size) DO NOTHING`,
      [checkpoint.size, checkpoint.head, checkpoint.signedAt, checkpoint.keyId, checkpoint.signature],
    );
    mkdirSync(path.dirname(options.checkpointFile), { recursive: true });
    appendFileSync(options.checkpointFile, `${JSON.stringify(checkpoint)}\n`);
    return checkpoint;
  }

  const audit: AuditLog = {
    record(entry) {
      return new Promise<AuditRef>((resolve, reject) => {
        if (closed) throw new Error('audit log is closed');
        assertEntry(entry);
        queue.push({ entry, resolve, reject });
        scheduleFlush();
      });
    },
    async recordInTransaction(tx, entry) {
      assertEntry(entry);
      const [ref] = await insertEntries(tx, [entry], now());
      noteWritten(1);
      return ref!;
    },
    checkpoint() {
      const next = checkpoints.then(writeCheckpoint, writeCheckpoint);
      checkpoints = next.catch(() => {});
      return next;
    },
    verify() {
      return verifyAuditChain(db, {
        publicKeys: new Map([[keyIdOf(signer.publicKey), signer.publicKey]]),
        extraCheckpoints: readCheckpointFile(options.checkpointFile),
      });
    },
    pending: () => queue.length,
    async close() {
      closed = true;
      clearInterval(timer);
      while (flushing) await flushing;
      await checkpoints;
    },
  };
  return audit;
}
