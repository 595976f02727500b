/**
 * The access log: one row per attempt to read or pass personal data, allowed or not, naming items
 * but never values. Rows form a hash chain (its own, so whole month segments can be archived and
 * purged, which the platform's append-only audit log never allows):
 *   hash_n = SHA-256(hash_{n-1} ‖ "\n" ‖ JCS([seq, at, segment, kind, service, source, resident,
 *                                           items, purpose, decision, code, consents, suppressedUntil]))
 * `record()` group-commits concurrent entries in one transaction under an advisory lock and resolves
 * once committed, so a caller serves data only after its entry is durable. Signed checkpoints of
 * the head (every N entries and every M minutes) go to `mediation.log_checkpoints`, to a file outside
 * the database, and into the platform audit log.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { type AuditLog, canonicalJson, type Database, type Logger } from '../core/index.ts';
import { checkpointBody, type LogSigner } from './log_signer.ts';

export type AccessKind = 'read' | 'flow-send' | 'flow-receive';
export type AccessDecision = 'allow' | 'partial' | 'deny';

/** One item's decision, as the consent module answered it. */
export interface ItemDecision {
  item: string;
  decision: 'allow' | 'deny';
  reason?: string;
  consentId?: string;
  version?: number;
  sourceConsentId?: string;
  sourceVersion?: number;
}

export interface AccessEntry {
  kind: AccessKind;
  /** The requesting (read) or receiving (flow) service's client id. */
  service: string;
  /** The sending service of a data flow. */
  source?: string | null;
  /** The resident's common ID; null when the request named no resident the service knows. */
  resident: string | null;
  items: string[];
  purpose: string;
  decision: AccessDecision;
  /** Why the attempt was refused as a whole (`no-link`, `ip-not-allowed`, …), or null. */
  code: string | null;
  consents: ItemDecision[];
  /** Until then the entry is held back from the resident's view. */
  suppressedUntil?: Date | null;
}

export interface AccessRecord extends AccessEntry {
  seq: number;
  at: Date;
  segment: string;
  prevHash: string;
  hash: string;
}

export const GENESIS = '0'.repeat(64);

/** The month segment (JST) an entry at `at` belongs to, `YYYY-MM`. */
export function segmentOf(at: Date): string {
  return new Date(at.getTime() + 9 * 3_600_000).toISOString().slice(0, 7);
}

export function hashAccess(prevHash: string, r: Omit<AccessRecord, 'prevHash' | 'hash'>): string {
  const body = canonicalJson([
    r.seq,
    r.at.toISOString(),
    r.segment,
    r.kind,
    r.service,
    r.source ?? null,
    r.resident,
    r.items,
    r.purpose,
    r.decision,
    r.code,
    r.consents,
    r.suppressedUntil ? r.suppressedUntil.toISOString() : null,
  ]);
  return createHash('sha256').update(`${prevHash}\n${body}`).digest('hex');
}

export interface AccessLog {
  record(entry: AccessEntry): Promise<{ seq: number }>;
  /** Signs the head if it moved since the last checkpoint. */
  checkpoint(): Promise<{ size: number; head: string } | null>;
  close(): Promise<void>;
}

const MAX_BATCH = 500;

interface Pending {
  entry: AccessEntry;
  resolve: (ref: { seq: number }) => void;
  reject: (error: unknown) => void;
}

export function createAccessLog(options: {
  db: Database;
  audit: AuditLog;
  signer: LogSigner;
  logger: Logger;
  checkpointFile: string;
  checkpointEvery: number;
  checkpointMinutes: number;
  now: () => Date;
}): AccessLog {
  const { db, audit, signer, logger, now } = options;
  let queue: Pending[] = [];
  let flushing: Promise<void> | null = null;
  let sinceCheckpoint = 0;
  let checkpoints: Promise<unknown> = Promise.resolve();

  const timer = setInterval(() => {
    void log.checkpoint().catch((err: unknown) => logger.error({ err }, 'access log checkpoint failed'));
  }, options.checkpointMinutes * 60_000);
  timer.unref();

  async function writeBatch(entries: AccessEntry[]): Promise<number[]> {
    const client = await db.pool.connect();
    try {
      const result = (await client.query(
        'BEGIN; SELECT seq, hash FROM mediation.log_lock_head()',
      )) as unknown;
      const last = (result as Array<{ rows: Array<{ seq: string | null; hash: string | null }> }>)[1]!;
      let head = last.rows[0]?.seq
        ? { seq: Number(last.rows[0].seq), hash: last.rows[0].hash! }
        : { seq: 0, hash: GENESIS };
      const at = now();
      const segment = segmentOf(at);
      const cols = {
        seq: [] as number[],
        kind: [] as string[],
        service: [] as string[],
        source: [] as Array<string | null>,
        resident: [] as Array<string | null>,
        items: [] as string[],
        purpose: [] as string[],
        decision: [] as string[],
        code: [] as Array<string | null>,
        consents: [] as string[],
        suppressed: [] as Array<Date | null>,
        prev: [] as string[],
        hash: [] as string[],
      };
      for (const entry of entries) {
        const consents = JSON.parse(JSON.stringify(entry.consents)) as ItemDecision[];
        const seq = head.seq + 1;
        const hash = hashAccess(head.hash, {
          ...entry,
          consents,
          seq,
          at,
          segment,
          source: entry.source ?? null,
        });
        cols.seq.push(seq);
        cols.kind.push(entry.kind);
        cols.service.push(entry.service);
        cols.source.push(entry.source ?? null);
        cols.resident.push(entry.resident);
        cols.items.push(JSON.stringify(entry.items));
        cols.purpose.push(entry.purpose);
        cols.decision.push(entry.decision);
        cols.code.push(entry.code);
        cols.consents.push(JSON.stringify(consents));
        cols.suppressed.push(entry.suppressedUntil ?? null);
        cols.prev.push(head.hash);
        cols.hash.push(hash);
        head = { seq, hash };
      }
      await client.query(
        `INSERT INTO mediation.access_log (seq, at, segment, kind, service, source, resident, items, purpose,
                                           decision, code, consents, suppressed_until, prev_hash, hash)
         SELECT s, $2, $3, k, sv, so, r, ARRAY(SELECT jsonb_array_elements_text(i)), p, d, c, cs, su, pv, h
           FROM unnest($1::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[], $9::text[],
                       $10::text[], $11::text[], $12::jsonb[], $13::timestamptz[], $14::text[], $15::text[])
                AS t(s, k, sv, so, r, i, p, d, c, cs, su, pv, h)`,
        [
          cols.seq,
          at,
          segment,
          cols.kind,
          cols.service,
          cols.source,
          cols.resident,
          cols.items,
          cols.purpose,
          cols.decision,
          cols.code,
          cols.consents,
          cols.suppressed,
          cols.prev,
          cols.hash,
        ],
      );
      await client.query('COMMIT');
      return cols.seq;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async function flush(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, MAX_BATCH);
      queue = queue.slice(MAX_BATCH);
      try {
        const seqs = await writeBatch(batch.map((p) => p.entry));
        for (const [i, p] of batch.entries()) p.resolve({ seq: seqs[i]! });
        sinceCheckpoint += batch.length;
        if (sinceCheckpoint >= options.checkpointEvery) {
          sinceCheckpoint = 0;
          void log
            .checkpoint()
            .catch((err: unknown) => logger.error({ err }, 'access log checkpoint failed'));
        }
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
    }
  }

  function scheduleFlush(): void {
    if (flushing) return;
    flushing = (async () => {
      await new Promise<void>((r) => setImmediate(r));
      await flush();
    })().finally(() => {
      flushing = null;
      if (queue.length > 0) scheduleFlush();
    });
  }

  async function writeCheckpoint(): Promise<{ size: number; head: string } | null> {
    const { rows } = await db.query<{ seq: string; hash: string; last: string | null }>(
      `SELECT seq, hash, (SELECT max(size) FROM mediation.log_checkpoints) AS last
         FROM mediation.access_log ORDER BY seq DESC LIMIT 1`,
    );
    const head = rows[0];
    if (!head || (head.last !== null && Number(head.last) >= Number(head.seq))) return null;
    const size = Number(head.seq);
    const signedAt = now();
    const signature = signer.sign(checkpointBody(size, head.hash));
    const checkpoint = { size, head: head.hash, signedAt, keyId: signer.keyId, signature };
    await db.query(
      `INSERT INTO mediation.log_checkpoints (size, head, signed_at, key_id, signature)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (size) DO NOTHING`,
      [size, head.hash, signedAt, signer.keyId, signature],
    );
    mkdirSync(path.dirname(options.checkpointFile), { recursive: true });
    appendFileSync(options.checkpointFile, `${JSON.stringify(checkpoint)}\n`);
    // The platform's audit chain (itself signed) holds every checkpoint too.
    await audit.record({
      actor: 'mediation',
      action: 'mediation.log.checkpoint',
      target: 'mediation:access-log',
      details: { size, head: head.hash, keyId: signer.keyId, signature },
    });
    return { size, head: head.hash };
  }

  const log: AccessLog = {
    record(entry) {
      return new Promise((resolve, reject) => {
        queue.push({ entry, resolve, reject });
        scheduleFlush();
      });
    },
    checkpoint() {
      const next = checkpoints.then(writeCheckpoint, writeCheckpoint);
      checkpoints = next.catch(() => {});
      return next;
    },
    async close() {
      clearInterval(timer);
      while (flushing) await flushing;
      await checkpoints;
    },
  };
  return log;
}
