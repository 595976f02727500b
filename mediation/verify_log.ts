/**
 * Verifies the access log: every signed checkpoint and archived segment manifest, the chain from
 * the end of the last purged segment (or the genesis) to the head, and that the chain still holds
 * every checkpointed head. Reports the first broken sequence number:
 *   - an edited row, or rows swapped: its hash no longer follows;
 *   - a deleted row: the sequence has a gap;
 *   - a truncated tail or a re-hashed chain: a signed checkpoint no longer matches.
 */
import { readFileSync } from 'node:fs';
import type { Queryable } from '../core/index.ts';
import { type AccessRecord, GENESIS, hashAccess, type ItemDecision } from './access_log.ts';
import { segmentManifest } from './log_archive.ts';
import { checkpointBody, type LogSigner } from './log_signer.ts';

export interface LogVerifyReport {
  ok: boolean;
  entries: number;
  checkpoints: number;
  segments: number;
  firstBrokenSeq?: number;
  reason?: string;
}

interface Checkpoint {
  size: number;
  head: string;
  keyId: string;
  signature: string;
}

function fileCheckpoints(file: string): Checkpoint[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Checkpoint);
}

interface Row {
  seq: string;
  at: Date;
  segment: string;
  kind: AccessRecord['kind'];
  service: string;
  source: string | null;
  resident: string | null;
  items: string[];
  purpose: string;
  decision: AccessRecord['decision'];
  code: string | null;
  consents: ItemDecision[];
  suppressed_until: Date | null;
  prev_hash: string;
  hash: string;
}

const PAGE = 5000;

export async function verifyAccessLog(
  db: Queryable,
  /** The current signer first, then those of previous master keys (older checkpoints and manifests). */
  signers: LogSigner[],
  checkpointFile: string,
): Promise<LogVerifyReport> {
  const { rows: dbCheckpoints } = await db.query<{
    size: string;
    head: string;
    key_id: string;
    signature: string;
  }>('SELECT size, head, key_id, signature FROM mediation.log_checkpoints');
  const all = new Map<string, Checkpoint>();
  for (const c of [
    ...dbCheckpoints.map((r) => ({
      size: Number(r.size),
      head: r.head,
      keyId: r.key_id,
      signature: r.signature,
    })),
    ...fileCheckpoints(checkpointFile),
  ])
    all.set(`${c.size}:${c.head}:${c.signature}`, c);
  const checkpoints = [...all.values()].sort((a, b) => a.size - b.size);
  const { rows: segments } = await db.query<{
    segment: string;
    first_seq: string;
    last_seq: string;
    entries: number;
    first_prev: string;
    last_hash: string;
    archive_sha256: string;
    signature: string;
    key_id: string;
    purged_at: Date | null;
  }>('SELECT * FROM mediation.log_segments ORDER BY first_seq');
  const byKey = new Map(signers.map((s) => [s.keyId, s]));

  let entries = 0;
  const fail = (seq: number, reason: string): LogVerifyReport => ({
    ok: false,
    entries,
    checkpoints: checkpoints.length,
    segments: segments.length,
    firstBrokenSeq: seq,
    reason,
  });

  for (const c of checkpoints) {
    const signer = byKey.get(c.keyId);
    if (!signer || !signer.verify(checkpointBody(c.size, c.head), c.signature))
      return fail(c.size, `checkpoint at ${c.size} has a bad signature`);
  }
  for (const s of segments) {
    const manifest = segmentManifest({
      segment: s.segment,
      firstSeq: Number(s.first_seq),
      lastSeq: Number(s.last_seq),
      entries: s.entries,
      firstPrev: s.first_prev,
      lastHash: s.last_hash,
      sha256: s.archive_sha256,
    });
    if (!byKey.get(s.key_id)?.verify(manifest, s.signature))
      return fail(Number(s.first_seq), `segment ${s.segment} manifest has a bad signature`);
  }
  // Purged segments are a prefix of the chain: it resumes online where the last one ended.
  let expectedSeq = 1;
  let prevHash = GENESIS;
  for (const s of segments.filter((x) => x.purged_at)) {
    if (Number(s.first_seq) !== expectedSeq || s.first_prev !== prevHash)
      return fail(Number(s.first_seq), `segment ${s.segment} does not continue the chain`);
    const pinned = checkpoints.find((c) => c.size === Number(s.last_seq));
    if (pinned && pinned.head !== s.last_hash)
      return fail(pinned.size, `segment ${s.segment} differs from the signed checkpoint`);
    expectedSeq = Number(s.last_seq) + 1;
    prevHash = s.last_hash;
  }
  const bySize = new Map(checkpoints.map((c) => [c.size, c]));
  for (;;) {
    const { rows } = await db.query<Row>(
      `SELECT * FROM mediation.access_log WHERE seq >= $1 ORDER BY seq LIMIT ${PAGE}`,
      [expectedSeq],
    );
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expectedSeq) return fail(expectedSeq, `entry ${expectedSeq} is missing`);
      if (row.prev_hash !== prevHash) return fail(seq, `entry ${seq} does not link to entry ${seq - 1}`);
      const hash = hashAccess(prevHash, {
        seq,
        at: row.at,
        segment: row.segment,
        kind: row.kind,
        service: row.service,
        source: row.source,
        resident: row.resident,
        items: row.items,
        purpose: row.purpose,
        decision: row.decision,
        code: row.code,
        consents: row.consents,
        suppressedUntil: row.suppressed_until,
      });
      if (hash !== row.hash) return fail(seq, `entry ${seq} was altered (hash mismatch)`);
      const c = bySize.get(seq);
      if (c && c.head !== hash)
        return fail(seq, `entry ${seq} differs from the signed checkpoint (chain rewritten)`);
      prevHash = hash;
      expectedSeq = seq + 1;
      entries++;
    }
    if (rows.length < PAGE) break;
  }
  const last = expectedSeq - 1;
  const beyond = checkpoints.find((c) => c.size > last);
  if (beyond)
    return fail(
      last + 1,
      `log ends at ${last} but a checkpoint signed ${beyond.size} entries (tail truncated)`,
    );
  return { ok: true, entries, checkpoints: checkpoints.length, segments: segments.length };
}
