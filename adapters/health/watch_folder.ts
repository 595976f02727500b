/**
 * The drop folder: each poll resumes interrupted imports, then imports every `*.csv` file at the
 * top of the folder that has not changed for `settleMs` (the health app may still be writing it),
 * oldest first, and moves it to `processed/` (imported or a duplicate) or `failed/` (unreadable,
 * refused by the ledger), with the import report beside it as `<file>.report.json`. A file whose
 * import could not finish (database unavailable) stays where it is for the next poll.
 */
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../core/index.ts';
import type { Importer, ImportReport } from './import_file.ts';

export interface FolderPoller {
  pollOnce(): Promise<ImportReport[]>;
  start(): void;
  stop(): Promise<void>;
}

function stamp(at: Date): string {
  return at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

export function createFolderPoller(deps: {
  dir: string;
  pollMs: number;
  settleMs: number;
  importer: Importer;
  logger: Logger;
  now: () => Date;
  configured(): boolean;
}): FolderPoller {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<ImportReport[]> | undefined;

  async function files(): Promise<string[]> {
    await mkdir(deps.dir, { recursive: true });
    const entries = await readdir(deps.dir, { withFileTypes: true });
    const ready: Array<{ name: string; mtime: number }> = [];
    for (const e of entries) {
      if (!e.isFile() || e.name.startsWith('.') || !e.name.toLowerCase().endsWith('.csv')) continue;
      const s = await stat(path.join(deps.dir, e.name));
      if (deps.now().getTime() - s.mtimeMs >= deps.settleMs) ready.push({ name: e.name, mtime: s.mtimeMs });
    }
    return ready.sort((a, b) => a.mtime - b.mtime || a.name.localeCompare(b.name)).map((f) => f.name);
  }

  async function move(name: string, report: ImportReport) {
    const folder = path.join(deps.dir, report.status === 'failed' ? 'failed' : 'processed');
    await mkdir(folder, { recursive: true });
    const target = path.join(folder, `${stamp(deps.now())}-${name}`);
    await rename(path.join(deps.dir, name), target);
    await writeFile(`${target}.report.json`, `${JSON.stringify(report, null, 2)}\n`);
  }

  async function poll(): Promise<ImportReport[]> {
    if (!deps.configured()) return [];
    await deps.importer.resumePending();
    const reports: ImportReport[] = [];
    for (const name of await files()) {
      const text = await readFile(path.join(deps.dir, name), 'utf8');
      const report = await deps.importer.importText({
        fileName: name,
        text,
        via: 'folder',
        actor: 'system:adapters/health',
      });
      await move(name, report);
      deps.logger.info({ import: report.id, status: report.status }, 'adapters/health: file imported');
      reports.push(report);
    }
    return reports;
  }

  function pollOnce(): Promise<ImportReport[]> {
    running ??= poll().finally(() => {
      running = undefined;
    });
    return running;
  }

  return {
    pollOnce,
    start() {
      if (deps.pollMs <= 0) return;
      timer = setInterval(() => {
        pollOnce().catch((err: unknown) => deps.logger.error({ err }, 'adapters/health: poll failed'));
      }, deps.pollMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}
