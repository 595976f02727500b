/** Shared pieces of the benchmarks: free ports, a throwaway embedded PostgreSQL, waiting for readiness. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../core/embedded_postgres.ts';
import { createLogger } from '../core/logger.ts';
import { freePort } from '../test/support/ports.ts';

export { freePort };

/** Starts an embedded PostgreSQL in a temporary directory; `stop()` removes it. */
export async function throwawayPostgres(): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsunagu-bench-pg-'));
  const pg = await startEmbeddedPostgres({
    dataDir: dir,
    port: await freePort(),
    logger: createLogger({ level: 'warn' }),
  });
  return {
    url: pg.url,
    async stop() {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function waitFor(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(url).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms`);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
