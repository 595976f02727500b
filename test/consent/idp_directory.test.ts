/**
 * The consent module wired to the real identity provider (the default assembly): residents and
 * services come from idp, a partner asks for a decision with a real client-credentials token and
 * the pairwise subject idp gave it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import type { ConsentServices } from '../../consent/index.ts';
import type { IdpServices } from '../../idp/index.ts';
import { send } from '../support/http.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { freePort } from '../support/ports.ts';

describe('consent with the identity provider as its directory', () => {
  let t: TestPlatform;
  let idp: IdpServices;
  let consent: ConsentServices;
  let commonId: string;
  let partner: { clientId: string; clientSecret: string };
  before(async () => {
    const port = await freePort();
    t = await startTestPlatform({ env: { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` } });
    idp = t.platform.services['idp'] as IdpServices;
    consent = t.platform.services['consent'] as ConsentServices;
    commonId = await t.platform.db.transaction((tx) => idp.accounts.create(tx, 'test', null));
    const { client, clientSecret } = await idp.clients.create(
      { name: '健康アプリ', grantTypes: ['client_credentials'], scopes: ['consent:decide'] },
      'test',
    );
    partner = { clientId: client.clientId, clientSecret: clientSecret! };
    await consent.publishNotice(
      {
        noticeId: 'health-app',
        service: partner.clientId,
        purposes: ['age-check'],
        titleJa: '健康アプリ',
        titleEn: 'Health app',
        bodyJa: '年齢確認に利用します。',
        bodyEn: 'Used to check your age.',
        material: true,
      },
      'staff:test',
    );
  });
  after(() => t.stop());

  it('refuses unknown residents and services', async () => {
    const base = {
      resident: commonId,
      service: partner.clientId,
      items: ['birthdate'],
      purpose: 'age-check',
      notice: { id: 'health-app', version: 1 },
    };
    await assert.rejects(consent.give({ ...base, resident: 'a'.repeat(26) }), { code: 'resident-not-found' });
    await assert.rejects(consent.give({ ...base, source: 'c_AAAAAAAAAAAAAAAA' }), {
      code: 'service-not-found',
    });
    await assert.rejects(
      consent.publishNotice(
        {
          noticeId: 'x',
          service: 'c_AAAAAAAAAAAAAAAA',
          purposes: ['p'],
          titleJa: 'a',
          titleEn: 'a',
          bodyJa: 'a',
          bodyEn: 'a',
          material: true,
        },
        'staff:test',
      ),
      { code: 'service-not-found' },
    );
  });

  it('a partner with a real token gets the decision for its pairwise subject', async () => {
    await consent.give({
      resident: commonId,
      service: partner.clientId,
      items: ['birthdate'],
      purpose: 'age-check',
      notice: { id: 'health-app', version: 1 },
    });
    const config = await oidc.discovery(
      new URL(idp.issuer),
      partner.clientId,
      {},
      oidc.ClientSecretBasic(partner.clientSecret),
      {
        execute: [oidc.allowInsecureRequests],
      },
    );
    const { access_token } = await oidc.clientCredentialsGrant(config, { scope: 'consent:decide' });
    const subject = await idp.accounts.pairwiseSubject(commonId, partner.clientId);
    assert.notEqual(subject, commonId);
    const ask = (item: string) =>
      send(`${t.url}/api/consent/decisions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${access_token}` },
        body: { subject, item, purpose: 'age-check' },
      });
    const allowed = await ask('birthdate');
    assert.equal(allowed.status, 200);
    assert.equal(allowed.body.decision, 'allow');
    assert.deepEqual((await ask('address')).body, { decision: 'deny', reason: 'no-consent' });
  });
});
