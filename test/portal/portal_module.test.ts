/**
 * The portal module as `npm start` assembles it: the consent pages are mounted and sign in through
 * one OpenID client per deployment, registered once even when instances start together, and kept
 * across restarts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { IdpServices } from '../../idp/index.ts';
import { createTestDatabase } from '../support/database.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { freePort } from '../support/ports.ts';

describe('portal module', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tsunagu-portal-'));
  const running: TestPlatform[] = [];
  after(async () => {
    await Promise.all(running.map((t) => t.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(databaseUrl: string, port: number, publicUrl: string): Promise<TestPlatform> {
    const t = await startTestPlatform({
      databaseUrl,
      dataDir,
      env: { PORT: String(port), PUBLIC_URL: publicUrl },
    });
    running.push(t);
    return t;
  }

  async function loginRedirect(t: TestPlatform): Promise<URL> {
    const res = await fetch(`${t.url}/portal/consent/login`, { redirect: 'manual' });
    assert.equal(res.status, 303);
    return new URL(res.headers.get('location') ?? '');
  }

  it('registers one client for instances starting together and signs in through the provider', async () => {
    const databaseUrl = await createTestDatabase('portal');
    const [portA, portB] = [await freePort(), await freePort()];
    // Both instances sit behind one public address (instance A's), as behind a load balancer.
    const publicUrl = `http://127.0.0.1:${portA}`;
    const [a, b] = await Promise.all([
      start(databaseUrl, portA, publicUrl),
      start(databaseUrl, portB, publicUrl),
    ]);

    const { rows } = await a.platform.db.query<{ client_id: string }>(
      `SELECT client_id FROM portal.oidc_clients WHERE purpose = 'resident-portal'`,
    );
    assert.equal(rows.length, 1);
    const clientId = rows[0]!.client_id;
    const idp = a.platform.services['idp'] as IdpServices;
    const portalClients = (await idp.clients.list()).filter(
      (c) => c.name === '住民ポータル / Resident portal',
    );
    assert.deepEqual(
      portalClients.map((c) => c.clientId),
      [clientId],
    );

    for (const t of [a, b]) {
      const location = await loginRedirect(t);
      assert.equal(`${location.origin}${location.pathname}`, `${publicUrl}/oidc/auth`);
      assert.equal(location.searchParams.get('client_id'), clientId);
      assert.equal(location.searchParams.get('redirect_uri'), `${publicUrl}/portal/callback`);
      assert.equal(location.searchParams.get('code_challenge_method'), 'S256');
    }
  });

  it('keeps the same client across a restart', async () => {
    const databaseUrl = await createTestDatabase('portal');
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    const first = await start(databaseUrl, port, publicUrl);
    const before = (await loginRedirect(first)).searchParams.get('client_id');
    await first.platform.stop();
    running.splice(running.indexOf(first), 1);
    const second = await start(databaseUrl, port, publicUrl);
    assert.equal((await loginRedirect(second)).searchParams.get('client_id'), before);
  });
});
