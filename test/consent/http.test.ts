import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { compactVerify, createLocalJWKSet } from 'jose';
import { send } from '../support/http.ts';
import {
  type ConsentTest,
  count,
  HEALTH,
  publishNotices,
  RESIDENT,
  SDGS,
  startConsentPlatform,
} from './support.ts';

const give = {
  service: HEALTH,
  items: ['name', 'birthdate'],
  purpose: 'age-check',
  notice: { id: 'health-app', version: 1 },
};

describe('consent HTTP API', () => {
  let t: ConsentTest;
  let api: string;
  before(async () => {
    t = await startConsentPlatform({ ADMIN_IP_ALLOWLIST: '127.0.0.0/8,::1/128' });
    api = `${t.url}/api/consent`;
    await publishNotices(t);
  });
  after(() => t.stop());

  it('needs a resident token with the consent:self scope', async () => {
    const none = await send(`${api}/me/consents`);
    assert.equal(none.status, 401);
    assert.equal(none.body.code, 'unauthorized');
    const scope = await send(`${api}/me/consents`, { headers: t.auth('noscope') });
    assert.equal(scope.status, 403);
    assert.equal(scope.body.code, 'insufficient-scope');
    const partner = await send(`${api}/me/consents`, {
      method: 'POST',
      headers: t.auth('health'),
      body: give,
    });
    assert.equal(partner.status, 403);
    assert.equal(await count(t, 'consent.records'), 0);
  });

  it('gives consent once per Idempotency-Key: a retry replays the answer and changes nothing', async () => {
    const headers = { ...t.auth('resident'), 'idempotency-key': 'give-1' };
    const first = await send(`${api}/me/consents`, { method: 'POST', headers, body: give });
    assert.equal(first.status, 201);
    assert.equal(first.body.changed, 2);
    assert.deepEqual(
      first.body.consents.map((c: { dataItem: string; state: string; collectionMethod: string }) => [
        c.dataItem,
        c.state,
        c.collectionMethod,
      ]),
      [
        ['birthdate', 'given', 'api'],
        ['name', 'given', 'api'],
      ],
    );
    const events = await count(t, 'consent.events');
    const retry = await send(`${api}/me/consents`, { method: 'POST', headers, body: give });
    assert.equal(retry.status, 201);
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(retry.body, first.body);
    assert.equal(await count(t, 'consent.events'), events);

    const reused = await send(`${api}/me/consents`, {
      method: 'POST',
      headers,
      body: { ...give, items: ['gender'] },
    });
    assert.equal(reused.status, 422);
    assert.equal(reused.body.code, 'idempotency-key-reused');
    assert.equal(await count(t, 'consent.records'), 2);
  });

  it('refuses invalid input with problem+json and writes nothing', async () => {
    const headers = t.auth('resident');
    const cases: Array<[unknown, number, string]> = [
      [{ ...give, items: ['blood-type'] }, 400, 'validation-failed'],
      [{ ...give, items: [] }, 400, 'validation-failed'],
      [{ ...give, notice: { id: 'health-app', version: 0 } }, 400, 'validation-failed'],
      [{ ...give, purpose: 'marketing' }, 422, 'notice-mismatch'],
      [{ ...give, validUntil: '2020-01-01T00:00:00Z' }, 422, 'invalid-validity'],
      [{ ...give, source: 'c_nobody' }, 404, 'service-not-found'],
    ];
    for (const [body, status, code] of cases) {
      const res = await send(`${api}/me/consents`, { method: 'POST', headers, body });
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.equal(res.body.code, code);
      assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    }
    assert.equal(await count(t, 'consent.records'), 2);
  });

  it('lists, reads and withdraws my consents; other residents get 404', async () => {
    const list = await send(`${api}/me/consents`, { headers: t.auth('resident') });
    assert.equal(list.status, 200);
    const name = list.body.consents.find((c: { dataItem: string }) => c.dataItem === 'name');
    const other = await send(`${api}/me/consents/${name.id}`, { headers: t.auth('other') });
    assert.equal(other.status, 404);
    assert.equal(other.body.code, 'consent-not-found');
    const otherWithdraw = await send(`${api}/me/consents/${name.id}/withdraw`, {
      method: 'POST',
      headers: t.auth('other'),
    });
    assert.equal(otherWithdraw.status, 404);
    assert.equal((await t.consent.get(name.id))!.state, 'given');

    const headers = { ...t.auth('resident'), 'idempotency-key': 'withdraw-name' };
    const withdrawn = await send(`${api}/me/consents/${name.id}/withdraw`, { method: 'POST', headers });
    assert.equal(withdrawn.status, 200);
    assert.deepEqual(
      withdrawn.body.consents.map((c: { id: string; state: string; version: number }) => [
        c.id,
        c.state,
        c.version,
      ]),
      [[name.id, 'withdrawn', 2]],
    );
    const again = await send(`${api}/me/consents/${name.id}/withdraw`, { method: 'POST', headers });
    assert.equal(again.status, 200);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    const noKey = await send(`${api}/me/consents/${name.id}/resume`, {
      method: 'POST',
      headers: t.auth('resident'),
    });
    assert.equal(noKey.status, 409);
    assert.equal(noKey.body.code, 'consent-final');

    const events = await send(`${api}/me/consents/${name.id}/events`, { headers: t.auth('resident') });
    assert.deepEqual(
      events.body.events.map((e: { type: string; version: number }) => [e.type, e.version]),
      [
        ['given', 1],
        ['withdrawn', 2],
      ],
    );
    const history = await send(`${api}/me/history`, { headers: t.auth('resident') });
    assert.equal(history.status, 200);
    assert.deepEqual(
      history.body.events.slice(0, 1).map((e: { type: string; dataItem: string }) => [e.type, e.dataItem]),
      [['withdrawn', 'name']],
    );
    assert.equal(history.body.events.length, 3);
    const badId = await send(`${api}/me/consents/not-a-uuid`, { headers: t.auth('resident') });
    assert.equal(badId.status, 400);
  });

  it('answers partners’ decisions under their pairwise subject; unknown subjects are denied', async () => {
    const sub = await t.directory.subjectFor(RESIDENT, HEALTH);
    const ask = (token: 'health' | 'sdgs' | 'resident', body: unknown) =>
      send(`${api}/decisions`, { method: 'POST', headers: t.auth(token), body });
    const allowed = await ask('health', { subject: sub, item: 'birthdate', purpose: 'age-check' });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.body.decision, 'allow');
    assert.equal(allowed.body.version, 1);
    assert.equal(allowed.headers.get('cache-control'), 'no-store');
    const withdrawn = await ask('health', { subject: sub, item: 'name', purpose: 'age-check' });
    assert.deepEqual(
      { decision: withdrawn.body.decision, reason: withdrawn.body.reason, version: withdrawn.body.version },
      { decision: 'deny', reason: 'withdrawn', version: 2 },
    );
    // Another service cannot use HEALTH's subject.
    const foreign = await ask('sdgs', { subject: sub, item: 'birthdate', purpose: 'age-check' });
    assert.deepEqual(foreign.body, { decision: 'deny', reason: 'no-consent' });
    const unknown = await ask('health', { subject: 'nobody', item: 'birthdate', purpose: 'age-check' });
    assert.deepEqual(unknown.body, { decision: 'deny', reason: 'no-consent' });
    const residentToken = await ask('resident', { subject: sub, item: 'birthdate', purpose: 'age-check' });
    assert.equal(residentToken.status, 403);
    const both = await ask('health', {
      subject: sub,
      item: 'birthdate',
      purpose: 'age-check',
      source: SDGS,
      recipient: SDGS,
    });
    assert.equal(both.status, 400);
    assert.equal(both.body.code, 'validation-failed');
  });

  it('a flow is decided from either side: the source asks with `recipient`, the sink with `source`', async () => {
    await t.consent.give({
      resident: RESIDENT,
      service: SDGS,
      source: HEALTH,
      items: ['activity-records'],
      purpose: 'activity-points',
      notice: { id: 'sdgs-site', version: 1 },
    });
    const asSource = await send(`${api}/decisions`, {
      method: 'POST',
      headers: t.auth('health'),
      body: {
        subject: await t.directory.subjectFor(RESIDENT, HEALTH),
        item: 'activity-records',
        purpose: 'activity-points',
        recipient: SDGS,
      },
    });
    assert.equal(asSource.body.decision, 'allow');
    const asSink = await send(`${api}/decisions`, {
      method: 'POST',
      headers: t.auth('sdgs'),
      body: {
        subject: await t.directory.subjectFor(RESIDENT, SDGS),
        item: 'activity-records',
        purpose: 'activity-points',
        source: HEALTH,
      },
    });
    assert.equal(asSink.body.decision, 'allow');
    assert.equal(asSink.body.consentId, asSource.body.consentId);
  });

  it('downloads a receipt signed by a key that is sealed at rest', async () => {
    const list = await send(`${api}/me/consents`, { headers: t.auth('resident') });
    const birthdate = list.body.consents.find((c: { dataItem: string }) => c.dataItem === 'birthdate');
    const res = await send(`${api}/me/consents/${birthdate.id}/receipt`, { headers: t.auth('resident') });
    assert.equal(res.status, 200);
    assert.equal(
      res.headers.get('content-disposition'),
      `attachment; filename="consent-receipt-${birthdate.id}.json"`,
    );
    const { receipt, jws, kid } = res.body;
    assert.equal(receipt.version, 'KI-CR-v1.1.0');
    assert.equal(receipt.consentReceiptID, `${birthdate.id}:v1`);
    assert.equal(receipt.piiPrincipalId, RESIDENT);
    assert.equal(receipt.jurisdiction, 'JP');
    assert.deepEqual(receipt.services[0].purposes[0].piiCategory, ['生年月日 / Date of birth']);
    assert.equal(receipt.iso27560.processing.privacyNotice.version, 1);
    assert.deepEqual(
      receipt.iso27560.events.map((e: { type: string }) => e.type),
      ['given'],
    );

    const keys = await send(`${api}/receipt-keys`);
    assert.equal(keys.body.keys.length, 1);
    assert.equal(keys.body.keys[0].kid, kid);
    assert.equal(keys.body.keys[0].d, undefined);
    const verified = await compactVerify(jws, createLocalJWKSet(keys.body));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(verified.payload)), receipt);
    assert.equal(verified.protectedHeader.alg, 'EdDSA');

    const tampered = `${jws.split('.')[0]}.${Buffer.from(JSON.stringify({ ...receipt, piiPrincipalId: 'x' })).toString('base64url')}.${jws.split('.')[2]}`;
    await assert.rejects(compactVerify(tampered, createLocalJWKSet(keys.body)));

    const { rows } = await t.platform.db.query<{ sealed_private: string }>(
      'SELECT sealed_private FROM consent.signing_keys',
    );
    assert.match(rows[0]!.sealed_private, /^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.ok(!rows[0]!.sealed_private.includes('"d"'));

    const other = await send(`${api}/me/consents/${birthdate.id}/receipt`, { headers: t.auth('other') });
    assert.equal(other.status, 404);
  });

  it('staff publish notice versions from the admin range; everyone can read them', async () => {
    const body = {
      noticeId: 'health-app',
      service: HEALTH,
      purposes: ['age-check'],
      titleJa: '改定',
      titleEn: 'Revised',
      bodyJa: '本文',
      bodyEn: 'Body',
      material: false,
    };
    const res = await send(`${t.url}/api/admin/consent/notices`, {
      method: 'POST',
      headers: t.auth('staff'),
      body,
    });
    assert.equal(res.status, 201);
    assert.equal(res.body.version, 2);
    const resident = await send(`${t.url}/api/admin/consent/notices`, {
      method: 'POST',
      headers: t.auth('resident'),
      body,
    });
    assert.equal(resident.status, 403);
    assert.equal(resident.body.code, 'insufficient-scope');
    const wrongService = await send(`${t.url}/api/admin/consent/notices`, {
      method: 'POST',
      headers: t.auth('staff'),
      body: { ...body, service: SDGS },
    });
    assert.equal(wrongService.status, 422);
    assert.equal(wrongService.body.code, 'notice-mismatch');
    const latest = await send(`${api}/notices/health-app`);
    assert.equal(latest.body.version, 2);
    const v1 = await send(`${api}/notices/health-app?version=1`);
    assert.equal(v1.body.titleJa, '健康アプリのプライバシーポリシー');
    const missing = await send(`${api}/notices/nothing`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'notice-not-found');
    const audit = await count(
      t,
      `core.audit_log WHERE action = 'consent.notice.publish' AND actor = 'staff:staff-1'`,
    );
    assert.equal(audit, 1);
  });
});

describe('consent admin API outside the admin range', () => {
  let t: ConsentTest;
  before(async () => {
    t = await startConsentPlatform({ ADMIN_IP_ALLOWLIST: '10.0.0.0/8' });
  });
  after(() => t.stop());

  it('refuses to publish notices', async () => {
    const res = await send(`${t.url}/api/admin/consent/notices`, {
      method: 'POST',
      headers: t.auth('staff'),
      body: {
        noticeId: 'x',
        service: HEALTH,
        purposes: ['p'],
        titleJa: 'a',
        titleEn: 'a',
        bodyJa: 'a',
        bodyEn: 'a',
        material: true,
      },
    });
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'ip-not-allowed');
    assert.equal(await count(t, 'consent.notices'), 0);
  });
});

describe('consent Idempotency-Key retention', () => {
  let t: ConsentTest;
  let api: string;
  before(async () => {
    t = await startConsentPlatform();
    api = `${t.url}/api/consent`;
    await publishNotices(t);
    const first = await send(`${api}/me/consents`, {
      method: 'POST',
      headers: { ...t.auth('resident'), 'idempotency-key': 'give-1' },
      body: give,
    });
    assert.equal(first.status, 201);
  });
  after(() => t.stop());

  it('forgets Idempotency-Key answers after a day', async () => {
    const start = t.clock.at;
    try {
      t.clock.advance(86_400_000 - 1);
      assert.equal(await t.consent.sweepIdempotency(), 0);
      const headers = { ...t.auth('resident'), 'idempotency-key': 'give-1' };
      const reused = await send(`${api}/me/consents`, {
        method: 'POST',
        headers,
        body: { ...give, items: ['gender'] },
      });
      assert.equal(reused.status, 422);
      t.clock.advance(2);
      assert.equal(await t.consent.sweepIdempotency(), 1);
      const fresh = await send(`${api}/me/consents`, {
        method: 'POST',
        headers,
        body: { ...give, items: ['gender'] },
      });
      assert.equal(fresh.status, 201);
      assert.equal(fresh.body.consents[0].dataItem, 'gender');
    } finally {
      t.clock.at = start;
    }
  });

  it('concurrent retries with one key have one effect', async () => {
    const events = await count(t, 'consent.events');
    const headers = { ...t.auth('resident'), 'idempotency-key': 'race-1' };
    const body = { ...give, items: ['email'] };
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => send(`${api}/me/consents`, { method: 'POST', headers, body })),
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      [201, 201, 201, 201, 201],
    );
    for (const a of answers) assert.deepEqual(a.body, answers[0]!.body);
    assert.equal(answers.filter((a) => a.headers.get('idempotent-replayed') === 'true').length, 4);
    assert.equal(await count(t, 'consent.events'), events + 1);
  });
});
