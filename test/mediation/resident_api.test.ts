import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { send } from '../support/http.ts';
import { staticTokens } from '../support/platform.ts';
import { BASIC4, type MediationTest, PROFILE, startMediationPlatform } from './support.ts';

const PARTNER = 'c_partner-000000001';

describe('the resident’s own history over HTTP; copying profiles enrolled before mediation', () => {
  let t: MediationTest;
  let resident: string;
  let other: string;

  before(async () => {
    t = await startMediationPlatform(
      {},
      {},
      {
        tokenVerifier: {
          async verify(token) {
            if (token === 'resident')
              return { subject: resident, clientId: 'portal', scopes: ['mediation:self'] };
            if (token === 'other') return { subject: other, clientId: 'portal', scopes: ['mediation:self'] };
            return staticTokens({ partner: { clientId: PARTNER, scopes: ['mediation:self'] } }).verify(token);
          },
        },
      },
    );
    resident = await t.resident();
    other = await t.resident({ ...PROFILE, name: '別 人' });
    const { client } = await t.idp.clients.create(
      { name: '健康アプリ', grantTypes: ['client_credentials'], scopes: ['mediation:read'] },
      'test',
    );
    await t.mediation.registry.add(
      {
        service: client.clientId,
        name: '健康アプリ',
        items: BASIC4,
        purposes: [{ code: 'age-check', label: '年齢確認' }],
      },
      'staff:test',
    );
    await t.consentTo(resident, client.clientId, BASIC4, 'age-check');
    await t.mediation.provide({
      service: client.clientId,
      subject: await t.subject(resident, client.clientId),
      items: ['name'],
      purpose: 'age-check',
    });
  });
  after(() => t.stop());

  it('answers each resident only their own entries, as JSON or CSV', async () => {
    const mine = await send(`${t.url}/api/mediation/me/accesses`, {
      headers: { authorization: 'Bearer resident' },
    });
    assert.equal(mine.status, 200);
    assert.deepEqual(
      mine.body.entries.map((e: Record<string, unknown>) => [e['purpose'], e['decision'], e['items']]),
      [['age-check', 'allow', ['name']]],
    );
    assert.equal('resident' in mine.body.entries[0], false);
    const theirs = await send(`${t.url}/api/mediation/me/accesses`, {
      headers: { authorization: 'Bearer other' },
    });
    assert.deepEqual(theirs.body.entries, []);
    const csv = await send(`${t.url}/api/mediation/me/accesses?format=csv`, {
      headers: { authorization: 'Bearer resident' },
    });
    assert.match(csv.headers.get('content-type')!, /^text\/csv/);
    assert.equal(String(csv.body).trimEnd().split('\r\n').length, 2);
    const partner = await send(`${t.url}/api/mediation/me/accesses`, {
      headers: { authorization: 'Bearer partner' },
    });
    assert.deepEqual([partner.status, partner.body.code], [403, 'forbidden']);
  });

  it('import-idp copies a verified profile that mediation does not hold yet', async () => {
    await t.platform.db.query('DELETE FROM mediation.personal_data WHERE resident = $1', [other]);
    assert.deepEqual(await t.mediation.personalData.get(other, BASIC4), {});
    assert.equal(await t.mediation.importFromIdp(other), true);
    assert.equal((await t.mediation.personalData.get(other, ['name'])).name, '別 人');
    assert.equal(await t.mediation.importFromIdp('zzzzzzzzzzzzzzzzzzzzzzzzzz'), false);
  });
});
