/**
 * Imports one health-app CSV file into point grants, idempotently:
 *
 *   lock            one import at a time (a PostgreSQL advisory lock, across instances)
 *   same file?      a file whose content hash was imported answers `duplicate` and pays nothing
 *   parse           bad header → the attempt is recorded as failed; bad rows are reported by line
 *   match           e-mail → resident through `adapters.health_account` (blind index, no decryption);
 *                   addresses not there are asked of the identity provider (residents who signed up
 *                   with a verified e-mail), and the answers are kept in the mapping
 *   convert         value × rate, rounded down; rows worth 0 points are reported, not paid
 *   claim rows      one transaction records the attempt and claims each row by its key; a row
 *                   some earlier file paid (or a twin in this file) is a duplicate
 *   grant           `points.grantBulk` per resident, idempotency key `health-import:<id>[:<chunk>]`
 *   finish          done with the journal id; a ledger refusal (pool exhausted) marks the attempt
 *                   failed and releases its rows, so the file can be dropped again
 *
 * A crash between "claim rows" and "finish" leaves the attempt pending; `resumePending` (at start and
 * on every poll) grants it with the same keys, which the ledger answers with the first result.
 */
import { createHash } from 'node:crypto';
import type { AuditLog, Database, Logger } from '../../core/index.ts';
import { ProblemError } from '../../core/index.ts';
import type { PointsService } from '../../points/index.ts';
import type { Sealer } from '../kit/index.ts';
import { parseHealthCsv } from './parse_health_csv.ts';
import type { HealthSettings } from './settings.ts';

const IMPORT_LOCK = 0x68746831; // "hth1"
const CHUNK = 100_000;
const REPORT_LIMIT = 1000;

export interface ImportReport {
  id: string;
  fileName: string;
  via: 'folder' | 'upload';
  status: 'pending' | 'done' | 'failed' | 'duplicate';
  rows: number;
  grantedRows: number;
  grantedPoints: number;
  duplicates: number;
  unmatched: number;
  invalid: number;
  zero: number;
  journalIds: string[];
  failure: string | null;
  /** Line numbers of unmatched rows and invalid rows with the reason (first 1000 of each). */
  report: { unmatchedLines?: number[]; invalidLines?: Array<{ line: number; reason: string }> };
  createdAt: string;
  finishedAt: string | null;
  /** How long each step took (ms), on the answer of the call that imported (not stored). */
  timingsMs?: Record<string, number>;
}

interface ImportRow {
  id: string;
  actor: string;
  fileName: string;
  via: 'folder' | 'upload';
  status: 'pending' | 'done' | 'failed';
  rows: number;
  grantedRows: number;
  grantedPoints: string;
  duplicates: number;
  unmatched: number;
  invalid: number;
  zero: number;
  journalId: string | null;
  failure: string | null;
  report: ImportReport['report'];
  createdAt: Date;
  finishedAt: Date | null;
}

const COLUMNS = `id::text AS id, actor, file_name AS "fileName", via, status, rows, granted_rows AS "grantedRows",
  granted_points::text AS "grantedPoints", duplicates, unmatched, invalid, zero, journal_id AS "journalId",
  failure, report, created_at AS "createdAt", finished_at AS "finishedAt"`;

function toReport(r: ImportRow, duplicate = false): ImportReport {
  return {
    id: r.id,
    fileName: r.fileName,
    via: r.via,
    status: duplicate ? 'duplicate' : r.status,
    rows: r.rows,
    grantedRows: r.grantedRows,
    grantedPoints: Number(r.grantedPoints),
    duplicates: r.duplicates,
    unmatched: r.unmatched,
    invalid: r.invalid,
    zero: r.zero,
    journalIds: r.journalId ? r.journalId.split(',') : [],
    failure: r.failure,
    report: r.report,
    createdAt: r.createdAt.toISOString(),
    finishedAt: r.finishedAt ? r.finishedAt.toISOString() : null,
  };
}

export interface ImportDeps {
  db: Database;
  audit: AuditLog;
  logger: Logger;
  now: () => Date;
  points(): PointsService;
  emails: Sealer;
  settings: HealthSettings;
  /** The resident whose verified, active e-mail sign-up this address is (idp), if any. */
  lookupVerifiedEmail?(email: string): Promise<string | undefined>;
}

export interface Importer {
  importText(input: {
    fileName: string;
    text: string;
    via: 'folder' | 'upload';
    actor: string;
  }): Promise<ImportReport>;
  resumePending(): Promise<number>;
  list(limit?: number): Promise<ImportReport[]>;
  get(id: string): Promise<ImportReport | undefined>;
}

/** A row's identity as stored: the first 16 bytes of its SHA-256 (the same as migration 002 computes). */
function rowKey(identity: string): Buffer {
  return createHash('sha256').update(identity).digest().subarray(0, 16);
}

export function fileHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function createImporter(deps: ImportDeps): Importer {
  const { db, now, settings } = deps;

  async function withLock<T>(fn: () => Promise<T>): Promise<T> {
    const client = await db.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [IMPORT_LOCK]);
      try {
        return await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [IMPORT_LOCK]);
      }
    } finally {
      client.release();
    }
  }

  async function read(id: string): Promise<ImportRow> {
    const { rows } = await db.query<ImportRow>(
      `SELECT ${COLUMNS} FROM adapters.health_import WHERE id = $1`,
      [id],
    );
    return rows[0]!;
  }

  function target() {
    const { currency, pool, pointType } = settings;
    if (!currency || !pool || !pointType)
      throw new ProblemError('adapter-not-configured', {
        detail: 'HEALTH_CURRENCY, HEALTH_POOL and HEALTH_POINT_TYPE must be set.',
      });
    return { currency, pool, pointType };
  }

  /** Grants the claimed rows of a pending attempt and finishes it (done, or failed on a refusal). */
  async function finish(id: string): Promise<ImportReport> {
    const current = await read(id);
    if (current.status !== 'pending') return toReport(current);
    const actor = current.actor;
    const { currency, pool, pointType } = target();
    const { rows } = await db.query<{ resident: string; amount: string }>(
      `SELECT resident, sum(amount)::text AS amount FROM adapters.health_row WHERE import_id = $1
        GROUP BY resident ORDER BY resident`,
      [id],
    );
    const journals: string[] = [];
    let total = 0;
    let paid = 0;
    try {
      for (let start = 0, chunk = 0; start < rows.length; start += CHUNK, chunk++) {
        const part = rows.slice(start, start + CHUNK);
        const csv = `resident,amount\n${part.map((r) => `${r.resident},${r.amount}`).join('\n')}\n`;
        const answer = await deps.points().grantBulk({
          currency,
          pool,
          pointType,
          csv,
          reason: 'health-app import',
          idempotency: { scope: 'adapter:health', key: `health-import:${id}${chunk ? `:${chunk}` : ''}` },
          actor,
        });
        journals.push(answer.journalId);
        total += part.reduce((s, r) => s + Number(r.amount), 0);
        paid += part.length;
      }
    } catch (error) {
      if (!(error instanceof ProblemError) || error.status >= 500) throw error;
      // The ledger refused (pool exhausted, …): the rows not paid are released, so a later drop of
      // the file pays them; rows of chunks already granted stay claimed (and paid).
      await db.transaction(async (tx) => {
        await tx.query(
          'DELETE FROM adapters.health_row WHERE import_id = $1 AND resident = ANY($2::text[])',
          [id, rows.slice(paid).map((r) => r.resident)],
        );
        await tx.query(
          `UPDATE adapters.health_import SET status = 'failed', failure = $2, finished_at = $3,
                  journal_id = NULLIF($4, ''), granted_points = $5 WHERE id = $1`,
          [id, `${error.code}: ${error.detail ?? error.title}`, now(), journals.join(','), total],
        );
        await deps.audit.recordInTransaction(tx, {
          actor,
          action: 'adapters.health.import.failed',
          target: `adapters.health_import:${id}`,
          details: { code: error.code },
        });
      });
      return toReport(await read(id));
    }
    await db.transaction(async (tx) => {
      await tx.query(
        `UPDATE adapters.health_import SET status = 'done', journal_id = NULLIF($2, ''), granted_points = $3,
                finished_at = $4 WHERE id = $1`,
        [id, journals.join(','), total, now()],
      );
      await deps.audit.recordInTransaction(tx, {
        actor,
        action: 'adapters.health.import',
        target: `adapters.health_import:${id}`,
        details: { currency, pool, points: total, journals },
      });
    });
    return toReport(await read(id));
  }

  /** Asks the identity provider about addresses the mapping does not know, and keeps the answers. */
  async function matchThroughIdp(
    rows: Array<{ email: string }>,
    indexes: string[],
    residents: Map<string, string>,
  ) {
    const lookup = deps.lookupVerifiedEmail;
    if (!lookup) return;
    const unknown = new Map<string, string>();
    rows.forEach((r, i) => {
      if (!residents.has(indexes[i]!)) unknown.set(indexes[i]!, r.email);
    });
    if (unknown.size === 0) return;
    const found: Array<{ index: string; email: string; commonId: string }> = [];
    const queue = [...unknown];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let next = queue.pop(); next; next = queue.pop()) {
          const commonId = await lookup(next[1]);
          if (commonId) found.push({ index: next[0], email: next[1], commonId });
        }
      }),
    );
    for (const f of found) residents.set(f.index, f.commonId);
    if (found.length === 0) return;
    await db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO adapters.health_account (email_index, email_sealed, common_id, via, linked_at)
         SELECT i, s, c, 'idp', $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS u(i, s, c)
         ON CONFLICT (email_index) DO NOTHING`,
        [
          found.map((f) => f.index),
          found.map((f) => deps.emails.seal(f.index, f.email)),
          found.map((f) => f.commonId),
          now(),
        ],
      );
      await deps.audit.recordInTransaction(tx, {
        actor: 'system:adapters/health',
        action: 'adapters.health.match.idp',
        target: 'adapters.health_account',
        details: { asked: unknown.size, found: found.length },
      });
    });
  }

  async function failedAttempt(
    input: { fileName: string; hash: string; via: string; actor: string },
    failure: string,
  ) {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO adapters.health_import (file_name, file_hash, via, actor, status, failure, created_at, finished_at)
       VALUES ($1, $2, $3, $4, 'failed', $5, $6, $6) RETURNING id::text AS id`,
      [input.fileName, input.hash, input.via, input.actor, failure, now()],
    );
    return toReport(await read(rows[0]!.id));
  }

  return {
    importText(input) {
      const timings: Record<string, number> = {};
      let last = performance.now();
      const mark = (phase: string) => {
        const at = performance.now();
        timings[phase] = Math.round(at - last);
        last = at;
      };
      return withLock(async () => {
        const hash = fileHash(input.text);
        const { rows: seen } = await db.query<ImportRow>(
          `SELECT ${COLUMNS} FROM adapters.health_import WHERE file_hash = $1 AND status <> 'failed'`,
          [hash],
        );
        if (seen[0]?.status === 'done') return toReport(seen[0], true);
        if (seen[0]) return finish(seen[0].id);
        const { currency } = target();
        let parsed;
        try {
          mark('lock+hash');
          parsed = parseHealthCsv(input.text);
          mark('parse');
        } catch (error) {
          if (!(error instanceof ProblemError)) throw error;
          return failedAttempt({ ...input, hash }, `${error.code}: ${error.detail ?? error.title}`);
        }
        const indexes = parsed.rows.map((r) => deps.emails.blindIndex(r.email));
        const { rows: accounts } = await db.query<{ index: string; commonId: string }>(
          `SELECT email_index AS index, common_id AS "commonId" FROM adapters.health_account
            WHERE email_index = ANY($1::text[])`,
          [[...new Set(indexes)]],
        );
        const residents = new Map(accounts.map((a) => [a.index, a.commonId]));
        await matchThroughIdp(parsed.rows, indexes, residents);
        mark('match');
        const unmatchedLines: number[] = [];
        let zero = 0;
        const keys: Buffer[] = [];
        const holders: string[] = [];
        const amounts: number[] = [];
        parsed.rows.forEach((row, i) => {
          const resident = residents.get(indexes[i]!);
          if (!resident) return void unmatchedLines.push(row.line);
          const amount = Math.floor((row.value * settings.rate.points) / settings.rate.units);
          if (amount <= 0) return void zero++;
          keys.push(
            rowKey(row.recordId ? `id:${row.recordId}` : `${parsed.metric}:${indexes[i]}:${row.date}`),
          );
          holders.push(resident);
          amounts.push(amount);
        });
        const id = await db.transaction(async (tx) => {
          const { rows } = await tx.query<{ id: string }>(
            `INSERT INTO adapters.health_import (file_name, file_hash, via, actor, status, rows, unmatched, invalid, zero,
                                                 report, created_at)
             VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, $9, $10) RETURNING id::text AS id`,
            [
              input.fileName,
              hash,
              input.via,
              input.actor,
              parsed.rows.length + parsed.invalid.length,
              unmatchedLines.length,
              parsed.invalid.length,
              zero,
              JSON.stringify({
                unmatchedLines: unmatchedLines.slice(0, REPORT_LIMIT),
                invalidLines: parsed.invalid.slice(0, REPORT_LIMIT),
              }),
              now(),
            ],
          );
          const importId = rows[0]!.id;
          const claimed = await tx.query(
            `INSERT INTO adapters.health_row (row_key, import_id, resident, amount)
             SELECT k, $1, r, a FROM unnest($2::bytea[], $3::text[], $4::int[]) AS u(k, r, a)
             ON CONFLICT (row_key) DO NOTHING`,
            [importId, keys, holders, amounts],
          );
          const granted = claimed.rowCount ?? 0;
          await tx.query(
            'UPDATE adapters.health_import SET granted_rows = $2, duplicates = $3 WHERE id = $1',
            [importId, granted, keys.length - granted],
          );
          return importId;
        });
        mark('claim');
        const report = await finish(id);
        mark('grant');
        deps.logger.info({ import: id, currency, ms: timings }, 'adapters/health: import finished');
        return { ...report, timingsMs: timings };
      });
    },

    async resumePending() {
      const { rows } = await db.query<{ id: string }>(
        `SELECT id::text AS id FROM adapters.health_import WHERE status = 'pending' ORDER BY id`,
      );
      for (const r of rows) await withLock(() => finish(r.id));
      return rows.length;
    },

    async list(limit = 50) {
      const { rows } = await db.query<ImportRow>(
        `SELECT ${COLUMNS} FROM adapters.health_import ORDER BY id DESC LIMIT $1`,
        [Math.min(Math.max(limit, 1), 500)],
      );
      return rows.map((r) => toReport(r));
    },

    async get(id) {
      const { rows } = await db.query<ImportRow>(
        `SELECT ${COLUMNS} FROM adapters.health_import WHERE id = $1`,
        [id],
      );
      return rows[0] ? toReport(rows[0]) : undefined;
    },
  };
}
