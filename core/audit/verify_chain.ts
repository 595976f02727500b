/**
 * Verifies the audit chain and its checkpoints. Reads the chain in pages so a log of any length fits
 * in memory, and reports the first broken sequence number:
 *   - an edited row, or rows swapped: that row's hash no longer follows from its content and predecessor;
 *   - a deleted row: the sequence has a gap;
 *   - a truncated tail or a chain rewritten wholesale: a signed checkpoint no longer matches.
 */
import type { KeyObject } from 'node:crypto';
import type { Queryable } from '../database.ts';
import { type Checkpoint, verifyCheckpoint } from './checkpoint.ts';
import { GENESIS_HASH, hashEntry } from './hash_entry.ts';

export interface VerifyReport {
  ok: boolean;
  /** Entries read from the chain. */
  entries: number;
  /** Checkpoints checked (database and file, deduplicated by size). */
  checkpoints: number;
  firstBrokenSeq?: number;
  reason?: string;
}

interface Row {
  seq: string;
  at: Date;
  actor: string;
  action: string;
  target: string;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

const PAGE = 5000;

export async function verifyAuditChain(
  db: Queryable,
  options: { publicKeys: Map<string, KeyObject>; extraCheckpoints?: Checkpoint[] },
): Promise<VerifyReport> {
  const checkpoints = await loadCheckpoints(db, options.extraCheckpoints ?? []);
  const bySize = new Map(checkpoints.map((c) => [c.size, c]));
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let entries = 0;
  const fail = (seq: number, reason: string): VerifyReport => ({
    ok: false,
    entries,
    checkpoints: checkpoints.length,
    firstBrokenSeq: seq,
    reason,
  });

  for (const checkpoint of checkpoints) {
    const key = options.publicKeys.get(checkpoint.keyId);
    if (!key)
      return fail(
        checkpoint.size,
        `checkpoint at ${checkpoint.size} is signed by unknown key ${checkpoint.keyId}`,
      );
    if (!verifyCheckpoint(checkpoint, key))
      return fail(checkpoint.size, `checkpoint at ${checkpoint.size} has a bad signature`);
  }

  for (;;) {
    const { rows } = await db.query<Row>(
      `SELECT seq, at, actor, action, target, details, prev_hash, hash
         FROM core.audit_log WHERE seq >= $1 ORDER BY seq LIMIT ${PAGE}`,
      [expectedSeq],
    );
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expectedSeq) return fail(expectedSeq, `entry ${expectedSeq} is missing`);
      if (row.prev_hash !== prevHash) return fail(seq, `entry ${seq} does not link to entry ${seq - 1}`);
      const hash = hashEntry(prevHash, {
        seq,
        at: row.at,
        actor: row.actor,
        action: row.action,
        target: row.target,
        details: row.details,
      });
      if (hash !== row.hash) return fail(seq, `entry ${seq} was altered (hash mismatch)`);
      const checkpoint = bySize.get(seq);
      if (checkpoint && checkpoint.head !== hash) {
        return fail(seq, `entry ${seq} differs from the signed checkpoint (chain rewritten)`);
      }
      prevHash = hash;
      expectedSeq = seq + 1;
      entries++;
    }
    if (rows.length < PAGE) break;
  }

  const last = expectedSeq - 1;
  const beyond = checkpoints.find((c) => c.size > last);
  if (beyond) {
    return fail(
      last + 1,
      `chain ends at ${last} but a checkpoint signed ${beyond.size} entries (tail truncated)`,
    );
  }
  return { ok: true, entries, checkpoints: checkpoints.length };
}

async function loadCheckpoints(db: Queryable, extra: Checkpoint[]): Promise<Checkpoint[]> {
  const { rows } = await db.query<{
    size: string;
    head: string;
    signed_at: Date;
    key_id: string;
    signature: string;
  }>('SELECT size, head, signed_at, key_id, signature FROM core.audit_checkpoints ORDER BY size');
  const all = new Map<string, Checkpoint>();
  for (const c of [
    ...rows.map((r) => ({
      size: Number(r.size),
      head: r.head,
      signedAt: r.signed_at,
      keyId: r.key_id,
      signature: r.signature,
    })),
    ...extra,
  ]) {
    all.set(`${c.size}:${c.head}:${c.signature}`, c);
  }
  return [...all.values()].sort((a, b) => a.size - b.size);
}
