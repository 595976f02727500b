/**
 * The staff API for link partners (`/api/admin/portal/link-partners`): register, list, replace and
 * remove the partners residents link by signing in there; the client secret is sealed and never
 * answered; wrong tokens, scopes and input are refused and change nothing; every change is audited.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { consentModule } from '../../consent/index.ts';
import { createCoreModule } from '../../core/index.ts';
import { createIdpModule, type IdpServices } from '../../idp/index.ts';
import { createPointsModule } from '../../points/index.ts';
import { createPortalModule, type PortalServices } from '../../portal/index.ts';
import { send } from '../support/http.ts';
import { staticTokens, startTestPlatform, type TestPlatform } from '../support/platform.ts';

const URL_PATH = '/api/admin/portal/link-partners';
const STAFF = { authorization: 'Bearer staff' };

describe('link partners staff API', () => {
  let t: TestPlatform;
  let service: string;
  let portal: PortalServices;
  const list = async () => (await send(`${t.url}${URL_PATH}`, { headers: STAFF })).body.partners;

  before(async () => {
    t = await startTestPlatform({
      tokenVerifier: staticTokens({
        staff: { subject: 'alice', clientId: 'console', scopes: ['portal:link-partners'] },
        other: { subject: 'bob', clientId: 'console', scopes: ['consent:admin'] },
      }),
      modules: [
        createCoreModule,
        createIdpModule,
        consentModule({ deliveryIntervalMs: 0, expiryIntervalMs: 0 }),
        createPointsModule,
        createPortalModule,
      ],
    });
    const idp = t.platform.services['idp'] as IdpServices;
    portal = t.platform.services['portal'] as PortalServices;
    service = (
      await idp.clients.create({ name: '健康アプリ', grantTypes: ['client_credentials'], scopes: [] }, 'test')
    ).client.clientId;
  });
  after(() => t?.stop());

  it('registers a partner; the answer and the list never carry the secret, the table keeps it sealed', async () => {
    const put = await send(`${t.url}${URL_PATH}/${service}`, {
      method: 'PUT',
      headers: STAFF,
      body: { issuer: 'https://id.health.example', clientId: 'tsunagu', clientSecret: 's3cret-value' },
    });
    assert.equal(put.status, 200);
    assert.deepEqual(put.body, {
      partner: { service, issuer: 'https://id.health.example', clientId: 'tsunagu', scope: 'openid' },
      redirectUri: `${t.platform.config.publicUrl}/portal/consent/links/callback`,
    });
    assert.deepEqual(await list(), [put.body.partner]);
    assert.ok(!JSON.stringify(await list()).includes('s3cret-value'));
    const { rows } = await t.platform.db.query<{ sealed_secret: string }>(
      'SELECT sealed_secret FROM portal.link_partners',
    );
    assert.ok(!rows[0]!.sealed_secret.includes('s3cret-value'));
    assert.equal((await portal.linkPartners.secretOf(service))!.clientSecret, 's3cret-value');
    const audit = await t.platform.db.query<{ actor: string; target: string }>(
      `SELECT actor, target FROM core.audit_log WHERE action = 'portal.link-partner.registered'`,
    );
    assert.deepEqual(audit.rows, [{ actor: 'staff:alice', target: `link-partner:${service}` }]);
  });

  it('refuses missing tokens, other scopes, bad input and unknown services, changing nothing', async () => {
    const before = await list();
    const body = { issuer: 'https://evil.example', clientId: 'x', clientSecret: 'y' };
    const cases: Array<[string, Record<string, string>, unknown, number, string]> = [
      [service, {}, body, 401, 'unauthorized'],
      [service, { authorization: 'Bearer other' }, body, 403, 'insufficient-scope'],
      [service, STAFF, { ...body, clientSecret: undefined }, 400, 'validation-failed'],
      [service, STAFF, { ...body, extra: 1 }, 400, 'validation-failed'],
      [service, STAFF, { ...body, issuer: 'ftp://evil.example' }, 400, 'invalid-link-partner'],
      [service, STAFF, { ...body, scope: 'profile' }, 400, 'invalid-link-partner'],
      ['no-such-service', STAFF, body, 400, 'invalid-link-partner'],
    ];
    for (const [svc, headers, b, status, code] of cases) {
      const res = await send(`${t.url}${URL_PATH}/${svc}`, { method: 'PUT', headers, body: b });
      assert.equal(res.status, status, JSON.stringify(b));
      assert.equal(res.body.code, code);
    }
    assert.deepEqual(await list(), before);
    assert.equal((await portal.linkPartners.secretOf(service))!.clientSecret, 's3cret-value');
  });

  it('removes a partner once; the second time is 404', async () => {
    const first = await send(`${t.url}${URL_PATH}/${service}`, { method: 'DELETE', headers: STAFF });
    assert.equal(first.status, 204);
    assert.deepEqual(await list(), []);
    const again = await send(`${t.url}${URL_PATH}/${service}`, { method: 'DELETE', headers: STAFF });
    assert.equal(again.status, 404);
  });
});
