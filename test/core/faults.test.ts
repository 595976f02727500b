/**
 * The database restarted under load: the app keeps running, answers 503 database-unavailable while
 * the server is down, recovers on its own, and every write it acknowledged is there afterwards.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmbeddedPostgres } from '../../core/embedded_postgres.ts';
import { createCoreModule, createLogger, type ModuleFactory } from '../../core/index.ts';
import { send } from '../support/http.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { freePort } from '../support/ports.ts';

const eventsModule: ModuleFactory = (ctx) => {
  const { router, route } = ctx.http.createRouter('/api/events');
  route(
    {
      method: 'post',
      path: '/',
      summary: 'Record an event',
      body: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } },
    },
    async (req, res) => {
      await ctx.db.transaction(async (tx) => {
        await tx.query('INSERT INTO events.events (n) VALUES ($1)', [req.body.n]);
        await ctx.audit.recordInTransaction(tx, {
          actor: 'test',
          action: 'events.create',
          target: `event:${req.body.n}`,
        });
      });
      res.status(201).json({ n: req.body.n });
    },
  );
  return {
    name: 'events',
    migrations: {
      module: 'events',
      schema: 'events',
      migrations: [{ id: '001_events', sql: 'CREATE TABLE events.events (n int PRIMARY KEY)' }],
    },
    routers: [{ prefix: '/api/events', router }],
    services: {},
  };
};

describe('database restart under load', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tsunagu-fault-pg-'));
  const logger = createLogger({ level: 'silent' });
  let port = 0;
  let pg: Awaited<ReturnType<typeof startEmbeddedPostgres>>;
  let t: TestPlatform;

  before(async () => {
    port = await freePort();
    pg = await startEmbeddedPostgres({ dataDir, port, logger });
    t = await startTestPlatform({ databaseUrl: pg.url, modules: [createCoreModule, eventsModule] });
  });
  after(async () => {
    await t.stop();
    await pg.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 503 while the database is down, recovers without a restart, and loses nothing acknowledged', async () => {
    const acknowledged: number[] = [];
    const outcomes = new Map<number, number>();
    let n = 0;
    let running = true;
    const writers = Array.from({ length: 4 }, async () => {
      while (running) {
        const mine = ++n;
        const res = await send(`${t.url}/api/events`, { method: 'POST', body: { n: mine } });
        outcomes.set(res.status, (outcomes.get(res.status) ?? 0) + 1);
        if (res.status === 201) acknowledged.push(mine);
        else {
          assert.equal(res.status, 503);
          assert.equal(res.body.code, 'database-unavailable');
          assert.equal(res.headers.get('retry-after'), '5');
        }
      }
    });

    await new Promise((r) => setTimeout(r, 500));
    await pg.stop();
    const whileDown = await send(`${t.url}/readyz`);
    assert.equal(whileDown.status, 503);
    assert.equal((await send(`${t.url}/healthz`)).status, 200, 'the process stays alive');
    await new Promise((r) => setTimeout(r, 500));
    pg = await startEmbeddedPostgres({ dataDir, port, logger });
    let ready = false;
    for (let i = 0; i < 100 && !ready; i++) {
      ready = (await send(`${t.url}/readyz`)).status === 200;
      if (!ready) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(ready, 'ready again without restarting the app');
    const before = acknowledged.length;
    await new Promise((r) => setTimeout(r, 500));
    running = false;
    await Promise.all(writers);

    assert.ok(acknowledged.length > before, 'writes succeed again after the restart');
    assert.ok((outcomes.get(503) ?? 0) > 0, 'some writes were refused while the database was down');
    const { rows } = await t.platform.db.query<{ n: number }>('SELECT n FROM events.events ORDER BY n');
    const stored = new Set(rows.map((r) => r.n));
    assert.deepEqual(
      acknowledged.filter((a) => !stored.has(a)),
      [],
      'every acknowledged write is stored',
    );
    assert.equal((await t.platform.audit.verify()).ok, true);
  });
});
