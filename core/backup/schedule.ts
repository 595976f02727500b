/**
 * The daily backup: at BACKUP_AT_JST (inside 00:00–05:59 JST, outside service hours), keeping the
 * newest BACKUP_GENERATIONS files. With several instances, a session advisory lock lets one of them
 * run it; the others skip that day's run.
 */
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Database } from '../database.ts';
import type { Logger } from '../logger.ts';
import { type BackupResult, createBackup } from './create_backup.ts';

const JST_OFFSET_MS = 9 * 3600_000;
const BACKUP_LOCK = 0x6261636b; // "back"

/** The next instant strictly after `now` whose JST wall-clock time is `hhmm`. */
export function nextRunAt(now: Date, hhmm: string): Date {
  const [hour, minute] = hhmm.split(':').map(Number) as [number, number];
  const jst = new Date(now.getTime() + JST_OFFSET_MS);
  let candidate =
    Date.UTC(jst.getUTCFullYear(), jst.getUTCMonth(), jst.getUTCDate(), hour, minute) - JST_OFFSET_MS;
  if (candidate <= now.getTime()) candidate += 24 * 3600_000;
  return new Date(candidate);
}

/** Deletes all but the newest `keep` backups in `dir`; returns the deleted file names. */
export function pruneBackups(dir: string, keep: number): string[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /^tsunagu-backup-\d{8}T\d{6}Z\.tar$/.test(f));
  } catch {
    return [];
  }
  const doomed = files.sort().reverse().slice(keep);
  for (const f of doomed) rmSync(path.join(dir, f), { force: true });
  return doomed;
}

export interface BackupScheduler {
  /** Runs one backup now (if no other instance is running one) and prunes old generations. */
  runOnce(): Promise<BackupResult | null>;
  stop(): void;
}

export function scheduleBackups(options: {
  db: Database;
  schemas: () => string[];
  dir: string;
  key: Buffer | undefined;
  generations: number;
  atJst: string;
  logger: Logger;
  now?: () => Date;
}): BackupScheduler {
  const now = options.now ?? (() => new Date());
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function runOnce(): Promise<BackupResult | null> {
    const client = await options.db.pool.connect();
    try {
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [
        BACKUP_LOCK,
      ]);
      if (!rows[0]?.ok) return null;
      try {
        const result = await createBackup({
          db: options.db,
          schemas: options.schemas(),
          dir: options.dir,
          ...(options.key ? { key: options.key } : {}),
          now,
        });
        const pruned = pruneBackups(options.dir, options.generations);
        options.logger.info(
          { file: result.file, tables: result.manifest.tables.length, pruned },
          'backup written',
        );
        return result;
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [BACKUP_LOCK]);
      }
    } finally {
      client.release();
    }
  }

  function arm(): void {
    if (stopped || options.atJst === 'off') return;
    const delay = nextRunAt(now(), options.atJst).getTime() - now().getTime();
    timer = setTimeout(() => {
      runOnce()
        .catch((error) => options.logger.error({ err: error }, 'scheduled backup failed'))
        .finally(arm);
    }, delay);
    timer.unref();
  }
  arm();

  return {
    runOnce,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
