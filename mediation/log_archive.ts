/**
 * Retention of the access log: a month segment stays online at least `onlineDays` (≥ 365) after the
 * month ends; then it is archived — its rows as gzip JSON lines, sealed (AES-256-GCM, key derived
 * from MASTER_KEY), with a signed manifest (seq range, chain ends, file SHA-256) — and purged:
 * always the whole segment, oldest first, each step written to the platform audit log.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { type AuditLog, type Database, openWith, ProblemError, sealWith } from '../core/index.ts';
import { GENESIS, hashAccess, segmentOf } from './access_log.ts';
import type { LogSigner } from './log_signer.ts';

export interface SegmentManifest {
  segment: string;
  firstSeq: number;
  lastSeq: number;
  entries: number;
  firstPrev: string;
  lastHash: string;
  sha256: string;
}

export const segmentManifest = (m: SegmentManifest) =>
  `tsunagu-mediation-segment\n${m.segment}\n${m.firstSeq}\n${m.lastSeq}\n${m.entries}\n${m.firstPrev}\n${m.lastHash}\n${m.sha256}\n`;

/** The first instant after a JST month segment `YYYY-MM`. */
export function segmentEnd(segment: string): Date {
  const [y, m] = segment.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 1) - 9 * 3_600_000);
}

export interface LogArchive {
  /** Archives and purges every segment past its online retention, oldest first. */
  runDue(actor?: string): Promise<string[]>;
  archive(segment: string, actor: string): Promise<SegmentManifest & { file: string }>;
  purge(segment: string, actor: string): Promise<number>;
  /** The rows of an archived segment file, after checking its seal. */
  read(file: string, segment: string): Array<Record<string, unknown>>;
}

export function createLogArchive(options: {
  db: Database;
  audit: AuditLog;
  signer: LogSigner;
  /** Key sealing archive files (derived from MASTER_KEY for this purpose). */
  key: Buffer;
  /** Keys of previous master keys: older archives still open. */
  previousKeys?: Buffer[];
  dir: string;
  onlineDays: number;
  now: () => Date;
}): LogArchive {
  const { db, audit, signer, key, now } = options;
  if (options.onlineDays < 365) throw new Error('MEDIATION_LOG_ONLINE_DAYS must be at least 365');
  const aad = (segment: string) => `tsunagu/mediation/log-archive/${segment}`;
  const due = (segment: string) =>
    segmentEnd(segment).getTime() + options.onlineDays * 86_400_000 <= now().getTime();

  const archive: LogArchive = {
    async runDue(actor = 'mediation') {
      const { rows } = await db.query<{ segment: string }>(
        `SELECT DISTINCT segment FROM mediation.access_log ORDER BY segment`,
      );
      const done: string[] = [];
      for (const { segment } of rows) {
        if (!due(segment) || segment >= segmentOf(now())) break;
        const { rows: known } = await db.query('SELECT 1 FROM mediation.log_segments WHERE segment = $1', [
          segment,
        ]);
        if (known.length === 0) await archive.archive(segment, actor);
        await archive.purge(segment, actor);
        done.push(segment);
      }
      return done;
    },
    async archive(segment, actor) {
      if (!due(segment))
        throw new ProblemError('segment-not-due', {
          detail: `${segment} is within its ${options.onlineDays} online days.`,
        });
      const { rows: earlier } = await db.query(
        `SELECT 1 FROM mediation.access_log l WHERE l.segment < $1
            AND NOT EXISTS (SELECT 1 FROM mediation.log_segments s WHERE s.segment = l.segment) LIMIT 1`,
        [segment],
      );
      if (earlier.length > 0)
        throw new ProblemError('segment-not-due', { detail: 'Older segments must be archived first.' });
      const { rows } = await db.query<
        Record<string, unknown> & { seq: string; prev_hash: string; hash: string }
      >('SELECT * FROM mediation.access_log WHERE segment = $1 ORDER BY seq', [segment]);
      if (rows.length === 0)
        throw new ProblemError('segment-not-due', { detail: `${segment} has no entries.` });
      // Archive only an intact piece of the chain.
      let prev = rows[0]!.prev_hash;
      for (const [i, r] of rows.entries()) {
        const seq = Number(r.seq);
        const hash = hashAccess(prev, {
          seq,
          at: r['at'] as Date,
          segment,
          kind: r['kind'] as 'read',
          service: r['service'] as string,
          source: r['source'] as string | null,
          resident: r['resident'] as string | null,
          items: r['items'] as string[],
          purpose: r['purpose'] as string,
          decision: r['decision'] as 'allow',
          code: r['code'] as string | null,
          consents: r['consents'] as [],
          suppressedUntil: r['suppressed_until'] as Date | null,
        });
        if (r.prev_hash !== prev || hash !== r.hash || (i > 0 && seq !== Number(rows[i - 1]!.seq) + 1))
          throw new Error(`access log entry ${seq} is broken; run the verifier before archiving`);
        prev = hash;
      }
      const body = gzipSync(rows.map((r) => JSON.stringify(r)).join('\n'));
      const sealed = sealWith(key, aad(segment), body.toString('base64'));
      mkdirSync(options.dir, { recursive: true });
      const file = path.join(options.dir, `access-log-${segment}.sealed`);
      writeFileSync(file, sealed);
      const manifest: SegmentManifest = {
        segment,
        firstSeq: Number(rows[0]!.seq),
        lastSeq: Number(rows.at(-1)!.seq),
        entries: rows.length,
        firstPrev: rows[0]!.prev_hash ?? GENESIS,
        lastHash: rows.at(-1)!.hash,
        sha256: createHash('sha256').update(sealed).digest('hex'),
      };
      const signature = signer.sign(segmentManifest(manifest));
      await db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO mediation.log_segments (segment, first_seq, last_seq, entries, first_prev, last_hash,
                                               archive_file, archive_sha256, signature, key_id, archived_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
          [
            segment,
            manifest.firstSeq,
            manifest.lastSeq,
            manifest.entries,
            manifest.firstPrev,
            manifest.lastHash,
            path.basename(file),
            manifest.sha256,
            signature,
            signer.keyId,
            now(),
          ],
        );
        await audit.recordInTransaction(tx, {
          actor,
          action: 'mediation.log.archive',
          target: `mediation:access-log:${segment}`,
          details: { ...manifest, file: path.basename(file), signature },
        });
      });
      return { ...manifest, file };
    },
    async purge(segment, actor) {
      if (!due(segment))
        throw new ProblemError('segment-not-due', {
          detail: `${segment} is within its ${options.onlineDays} online days.`,
        });
      return db.transaction(async (tx) => {
        const { rows } = await tx.query<{
          first_seq: string;
          last_seq: string;
          last_hash: string;
          archive_sha256: string;
          purged_at: Date | null;
        }>(
          'SELECT first_seq, last_seq, last_hash, archive_sha256, purged_at FROM mediation.log_segments WHERE segment = $1 FOR UPDATE',
          [segment],
        );
        const s = rows[0];
        if (!s)
          throw new ProblemError('segment-not-archived', { detail: `${segment} has no sealed archive.` });
        if (s.purged_at) return 0;
        const deleted = await tx.query('DELETE FROM mediation.access_log WHERE segment = $1', [segment]);
        await tx.query('UPDATE mediation.log_segments SET purged_at = $2 WHERE segment = $1', [
          segment,
          now(),
        ]);
        await audit.recordInTransaction(tx, {
          actor,
          action: 'mediation.log.purge',
          target: `mediation:access-log:${segment}`,
          details: {
            firstSeq: Number(s.first_seq),
            lastSeq: Number(s.last_seq),
            entries: deleted.rowCount ?? 0,
            lastHash: s.last_hash,
            archiveSha256: s.archive_sha256,
          },
        });
        return deleted.rowCount ?? 0;
      });
    },
    read(file, segment) {
      const sealed = readFileSync(file, 'utf8');
      let opened: string | undefined;
      for (const k of [key, ...(options.previousKeys ?? [])]) {
        try {
          opened = openWith(k, aad(segment), sealed);
          break;
        } catch {
          // sealed under another master key: try the next
        }
      }
      if (opened === undefined) throw new Error(`${file} does not open with any known key`);
      const body = Buffer.from(opened, 'base64');
      return gunzipSync(body)
        .toString('utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
  };
  return archive;
}
