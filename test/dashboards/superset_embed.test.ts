/**
 * Superset embedding: provisioning turns on embedding for the starter dashboard (allowed domains,
 * UUID kept on a second run), and the platform's guest-token route fetches a guest token for it
 * through Superset's API (contract double, Superset 4.1): the token names the embedded dashboard
 * and the analyst, is audited, and the route refuses without a token or when Superset refuses.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, jwtVerify } from 'jose';
import { BI_TABLES, dashboardsModule } from '../../dashboards/index.ts';
import { provisionSuperset, SupersetClient, sqlalchemyUri } from '../../dashboards/superset_client.ts';
import { send } from '../support/http.ts';
import { enableBiLogin, type Fixture, startDashboards } from './fixtures.ts';
import { type SupersetDouble, startSupersetDouble } from './superset_double.ts';

describe('Superset embedding and guest tokens', () => {
  let superset: SupersetDouble;
  let f: Fixture;
  let uuid: string;
  const settings = { url: '', username: 'embedder', password: 'embed-pw', embeddedUuid: '' };
  before(async () => {
    superset = await startSupersetDouble({ admin: 'admin-pw', embedder: 'embed-pw' });
    settings.url = superset.url;
    // The platform reads the embedded UUID from settings; provisioning runs first, as in a deployment.
    const setup = await startDashboards();
    const biUrl = await enableBiLogin(setup);
    const client = new SupersetClient({ baseUrl: superset.url, username: 'admin', password: 'admin-pw' });
    const input = {
      databaseName: 'tsunagu_analytics',
      sqlalchemyUri: sqlalchemyUri(biUrl),
      schema: 'analytics',
      tables: BI_TABLES,
      embedDomains: ['city.example.jp'],
    };
    const first = await provisionSuperset(client, input);
    uuid = first.embedded!.uuid;
    const second = await provisionSuperset(client, {
      ...input,
      embedDomains: ['city.example.jp', 'partner.example'],
    });
    assert.equal(second.embedded!.uuid, uuid, 'the embedded UUID survives a second run');
    await setup.t.stop();
    settings.embeddedUuid = uuid;
    f = await startDashboards(dashboardsModule({ superset: settings, tickMs: 0 }));
  });
  after(async () => {
    await f?.t.stop();
    await superset?.close();
  });

  it('provisioning embedded the starter dashboard for the allowed domains', () => {
    const board = superset.boards.find((b) => b.slug === 'tsunagu-ebpm')!;
    assert.deepEqual(superset.embedded.get(board.id), {
      uuid,
      allowed_domains: ['city.example.jp', 'partner.example'],
    });
  });

  it('gives an analyst a guest token for the embedded dashboard, audited', async () => {
    const res = await send(`${f.t.url}/api/dashboards/superset/guest-token`, {
      method: 'POST',
      headers: f.viewer,
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.dashboardUuid, uuid);
    assert.equal(res.body.supersetUrl, superset.url);
    const { payload } = await jwtVerify(res.body.token, superset.guestSecret, { audience: 'superset' });
    assert.equal(payload['type'], 'guest');
    assert.deepEqual(payload['resources'], [{ type: 'dashboard', id: uuid }]);
    assert.deepEqual(payload['rls_rules'], []);
    assert.equal((payload['user'] as { username: string }).username, 'tsunagu-suzuki');
    assert.ok(decodeJwt(res.body.token).exp! - decodeJwt(res.body.token).iat! <= 300);
    const { rows } = await f.t.platform.db.query(
      `SELECT actor, target FROM core.audit_log WHERE action = 'dashboards.superset.guest_token'`,
    );
    assert.deepEqual(rows, [{ actor: 'analyst:suzuki', target: `superset-dashboard:${uuid}` }]);
  });

  it('refuses without a bearer token and issues nothing', async () => {
    const before = superset.log.filter((l) => l === 'POST /api/v1/security/guest_token/').length;
    const res = await send(`${f.t.url}/api/dashboards/superset/guest-token`, { method: 'POST' });
    assert.equal(res.status, 401);
    assert.equal(superset.log.filter((l) => l === 'POST /api/v1/security/guest_token/').length, before);
  });

  it('Superset refusing (unknown embedded dashboard) is a 502 without internals, not audited', async () => {
    const other = await startDashboards(
      dashboardsModule({
        superset: { ...settings, embeddedUuid: '00000000-0000-4000-8000-000000000000' },
        tickMs: 0,
      }),
    );
    try {
      const res = await send(`${other.t.url}/api/dashboards/superset/guest-token`, {
        method: 'POST',
        headers: other.viewer,
      });
      assert.equal(res.status, 502);
      assert.equal(res.body.code, 'superset-unavailable');
      assert.doesNotMatch(JSON.stringify(res.body), /Embedded dashboard not found/);
      const { rows } = await other.t.platform.db.query(
        `SELECT 1 FROM core.audit_log WHERE action = 'dashboards.superset.guest_token'`,
      );
      assert.equal(rows.length, 0);
    } finally {
      await other.t.stop();
    }
  });

  it('without Superset settings the route says so', async () => {
    const plain = await startDashboards(dashboardsModule({ tickMs: 0 }));
    try {
      const res = await send(`${plain.t.url}/api/dashboards/superset/guest-token`, {
        method: 'POST',
        headers: plain.viewer,
      });
      assert.equal(res.status, 409);
      assert.equal(res.body.code, 'superset-not-configured');
    } finally {
      await plain.t.stop();
    }
  });
});
