/**
 * npm run bench:startup — time from `npm start` to `/readyz` 200 on the embedded PostgreSQL:
 * the first run on a fresh data directory (initdb + migrations) and warm restarts on the same one.
 * Targets: warm ≤ 3 s, first run ≤ 15 s.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, median, waitFor } from './support.ts';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tsunagu-bench-startup-'));
const port = await freePort();
const pgPort = await freePort();

async function timedStart(): Promise<{ ms: number; child: ChildProcess }> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    PORT: String(port),
    EMBEDDED_PG_PORT: String(pgPort),
    TSUNAGU_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
  };
  delete env['DATABASE_URL'];
  const started = performance.now();
  const child = spawn('npm', ['start', '--silent'], { env, stdio: 'ignore', detached: true });
  await waitFor(`http://127.0.0.1:${port}/readyz`, 60_000);
  return { ms: performance.now() - started, child };
}

async function stop(child: ChildProcess): Promise<void> {
  const done = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid!, 'SIGTERM');
  await done;
  // npm exits once its child has; give PostgreSQL's shutdown a moment to release the directory.
  await new Promise((r) => setTimeout(r, 300));
}

try {
  const first = await timedStart();
  await stop(first.child);
  const warm: number[] = [];
  for (let i = 0; i < 5; i++) {
    const run = await timedStart();
    warm.push(run.ms);
    await stop(run.child);
  }
  const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  console.log('startup: npm start → /readyz 200 (embedded PostgreSQL)');
  console.log(
    `  first run (fresh data dir):  ${fmt(first.ms)}   target ≤ 15 s  ${first.ms <= 15_000 ? 'MET' : 'MISSED'}`,
  );
  console.log(
    `  warm restart (median of 5):  ${fmt(median(warm))}   target ≤ 3 s   ${median(warm) <= 3000 ? 'MET' : 'MISSED'}   (all: ${warm.map(fmt).join(', ')})`,
  );
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
