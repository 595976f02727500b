/** The SDGs site with a real partner token: client credentials from our provider, through openid-client. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { adaptersModule } from '../../../adapters/index.ts';
import { sdgsAdapter } from '../../../adapters/sdgs/index.ts';
import { createCoreModule } from '../../../core/index.ts';
import { createIdpModule, type IdpServices } from '../../../idp/index.ts';
import { type PointsService, pointsModule } from '../../../points/index.ts';
import { send } from '../../support/http.ts';
import { startTestPlatform, type TestPlatform } from '../../support/platform.ts';
import { freePort } from '../../support/ports.ts';

describe('SDGs site adapter with client-credentials tokens', () => {
  let t: TestPlatform;
  let idp: IdpServices;
  let site: { clientId: string; token: string };
  let other: { clientId: string; token: string };

  async function partner(scopes: string[]): Promise<{ clientId: string; token: string }> {
    const { client, clientSecret } = await idp.clients.create(
      { name: 'SDGs サイト', grantTypes: ['client_credentials'], scopes },
      'test',
    );
    const rp = await oidc.discovery(
      new URL(idp.issuer),
      client.clientId,
      {},
      oidc.ClientSecretBasic(clientSecret ?? ''),
      { execute: [oidc.allowInsecureRequests] },
    );
    const grant = await oidc.clientCredentialsGrant(rp, { scope: scopes.join(' ') });
    return { clientId: client.clientId, token: grant.access_token };
  }

  before(async () => {
    const port = await freePort();
    t = await startTestPlatform({
      env: { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, ADAPTERS_OUTBOX_POLL_MS: '0' },
      modules: [
        createCoreModule,
        createIdpModule,
        pointsModule(),
        adaptersModule({ adapters: [sdgsAdapter] }),
      ],
    });
    idp = t.platform.services['idp'] as IdpServices;
    const points = t.platform.services['points'] as PointsService;
    await points.createCurrency(
      { code: 'kasai-pt', municipality: 'kasai', name: 'かさいポイント' },
      'staff:t',
    );
    await points.createPointType(
      { currency: 'kasai-pt', code: 'sdgs', name: 'SDGs', issuer: 'kasai' },
      'staff:t',
    );
    await points.createPool({ currency: 'kasai-pt', pool: 'sdgs' }, 'staff:t');
    await points.fundPool({
      currency: 'kasai-pt',
      pool: 'sdgs',
      amount: 1000,
      idempotency: { scope: 't', key: 'f' },
      actor: 'staff:t',
    });
    const sdgs = (
      t.platform.services['adapters'] as {
        adapters: Record<string, { putRule: (r: unknown, a: string) => Promise<unknown> }>;
      }
    ).adapters['sdgs']!;
    await sdgs.putRule(
      {
        activity: 'cleanup',
        name: '清掃',
        municipality: 'kasai',
        goals: [11],
        currency: 'kasai-pt',
        pool: 'sdgs',
        pointType: 'sdgs',
        pointsPerUnit: 5,
        maxPointsPerEvent: null,
        dailyCap: null,
        active: true,
      },
      'staff:t',
    );
    site = await partner(['sdgs:activities']);
    other = await partner(['points:read']);
  });
  after(() => t.stop());

  it('accepts an event with the site token and its pairwise subject; other tokens are refused', async () => {
    const resident = await t.platform.db.transaction((tx) => idp.accounts.create(tx, 'test', null));
    const subject = await idp.accounts.pairwiseSubject(resident, site.clientId);
    const event = {
      eventId: 'e-1',
      subject,
      activity: 'cleanup',
      goals: [11],
      amount: 3,
      occurredAt: new Date().toISOString(),
    };
    const url = `${t.url}/api/adapters/sdgs/v1/activities`;
    const wrongScope = await send(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${other.token}` },
      body: event,
    });
    assert.deepEqual([wrongScope.status, wrongScope.body.code], [403, 'insufficient-scope']);
    // The other partner's view of the same resident is a different subject: not accepted from the site.
    const foreign = await idp.accounts.pairwiseSubject(resident, other.clientId);
    const mixed = await send(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${site.token}` },
      body: { ...event, eventId: 'e-0', subject: foreign },
    });
    assert.deepEqual([mixed.status, mixed.body.code], [422, 'sdgs-unknown-resident']);
    const ok = await send(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${site.token}` },
      body: event,
    });
    assert.deepEqual([ok.status, ok.body.points], [201, 15]);
    const points = t.platform.services['points'] as PointsService;
    assert.equal((await points.balance({ currency: 'kasai-pt', holder: resident })).balance, 15);
  });
});
