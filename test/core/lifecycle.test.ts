import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createCoreModule, type ModuleFactory, pendingMigrations } from '../../core/index.ts';
import { createTestDatabase } from '../support/database.ts';
import { json } from '../support/http.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';

/** A route that takes its time, to have a request in flight during shutdown. */
const slowModule: ModuleFactory = (ctx) => {
  const { router, route } = ctx.http.createRouter('/api/slow');
  route({ method: 'get', path: '/', summary: 'Answers after 500 ms' }, async (_req, res) => {
    await new Promise((r) => setTimeout(r, 500));
    const { rows } = await ctx.db.query('SELECT 1 AS one');
    res.json({ done: rows[0]?.['one'] === 1 });
  });
  return { name: 'slow', migrations: null, routers: [{ prefix: '/api/slow', router }], services: {} };
};

describe('lifecycle', () => {
  it('two instances starting together on an empty database both become ready', async () => {
    const databaseUrl = await createTestDatabase('twin');
    // Instances of one deployment share their secrets (here the development ones in one data directory).
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tsunagu-twin-'));
    const started = await Promise.allSettled([
      startTestPlatform({ databaseUrl, dataDir }),
      startTestPlatform({ databaseUrl, dataDir }),
    ]);
    const running = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    if (running.length < 2) {
      await Promise.all(running.map((r) => r.stop()));
      assert.fail(
        `an instance failed to start: ${started.map((s) => (s.status === 'rejected' ? String(s.reason) : 'ok'))}`,
      );
    }
    const [a, b] = running as [TestPlatform, TestPlatform];
    try {
      assert.equal((await fetch(`${a.url}/readyz`)).status, 200);
      assert.equal((await fetch(`${b.url}/readyz`)).status, 200);
      assert.deepEqual(await pendingMigrations(a.platform.db, a.platform.migrations), []);
    } finally {
      await a.stop();
      await b.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('graceful shutdown lets an in-flight request finish and then refuses new connections', async () => {
    const t = await startTestPlatform({ modules: [createCoreModule, slowModule] });
    const inFlight = fetch(`${t.url}/api/slow`, { headers: { connection: 'close' } });
    await new Promise((r) => setTimeout(r, 100));
    const stopped = t.stop();
    const res = await inFlight;
    assert.equal(res.status, 200);
    assert.deepEqual(await json(res), { done: true });
    await stopped;
    const refused = await new Promise<string>((resolve) => {
      const req = request(`${t.url}/healthz`, () => resolve('answered'));
      req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      req.end();
    });
    assert.equal(refused, 'ECONNREFUSED');
  });
});
