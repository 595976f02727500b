import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { json } from '../support/http.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';

describe('health and readiness', () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform();
  });
  after(() => t.stop());

  it('GET /healthz answers 200 while the process is alive', async () => {
    const res = await fetch(`${t.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await json(res), { status: 'ok' });
  });

  it('GET /readyz answers 200 once the database is reachable and migrated', async () => {
    const res = await fetch(`${t.url}/readyz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await json(res), { status: 'ready' });
  });

  it('GET /readyz answers 503 not-ready while a migration is pending', async () => {
    await t.platform.db.query(`DELETE FROM core.schema_migrations WHERE id = '001_audit_log'`);
    const res = await fetch(`${t.url}/readyz`);
    assert.equal(res.status, 503);
    const body = await json(res);
    assert.equal(body.type, 'urn:tsunagu:problem:not-ready');
    assert.equal(body.detail, '1 migration(s) pending');
  });
});
