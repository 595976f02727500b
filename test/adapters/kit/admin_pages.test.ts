/**
 * The adapters' console pages are mounted in the admin console behind its gate: without a staff
 * session a visitor is sent to the staff sign-in, and a retry POST without a session changes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPlatform, type TestPlatform } from '../../support/platform.ts';

describe('adapters console pages', () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform();
  });
  after(() => t.stop());

  it('sends a visitor without a staff session to the sign-in', async () => {
    for (const path of ['/admin/adapters', '/admin/adapters/dead-letters', '/admin/adapters/imports']) {
      const res = await fetch(`${t.url}${path}`, { redirect: 'manual' });
      assert.equal(res.status, 303, path);
      assert.equal(res.headers.get('location'), `/admin/login?return=${encodeURIComponent(path)}`);
    }
  });

  it('refuses a retry without a session and leaves the dead letter as it was', async () => {
    const { rows } = await t.platform.db.query<{ id: string }>(
      `INSERT INTO adapters.outbox (adapter, kind, payload_sealed, status, max_attempts, next_attempt_at, created_at, updated_at)
       VALUES ('line', 'push', 'v1.x.x.x', 'dead', 1, now(), now(), now()) RETURNING id::text AS id`,
    );
    const res = await fetch(`${t.url}/admin/adapters/outbox/${rows[0]!.id}/retry`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'csrf=x',
    });
    assert.equal(res.status, 403);
    const after = await t.platform.db.query(`SELECT status FROM adapters.outbox WHERE id = $1`, [
      rows[0]!.id,
    ]);
    assert.deepEqual(after.rows, [{ status: 'dead' }]);
  });
});
