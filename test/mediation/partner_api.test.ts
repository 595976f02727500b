import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { send } from '../support/http.ts';
import { BASIC4, DAY, type MediationTest, type Partner, PROFILE, startMediationPlatform } from './support.ts';

const NOT_PERMITTED = {
  type: 'urn:tsunagu:problem:not-permitted',
  title: 'No consented item can be provided for this request',
  status: 403,
  detail: 'No consented item can be provided for this subject and purpose.',
  code: 'not-permitted',
};
const problem = (body: Record<string, unknown>) => {
  const { instance: _instance, ...rest } = body;
  return rest;
};

describe('partner API: every decision path answers exactly and is logged', () => {
  let t: MediationTest;
  let health: Partner;
  let resident: string;
  let sub: string;

  before(async () => {
    t = await startMediationPlatform();
    health = await t.partner(['mediation:read']);
    await t.mediation.registry.add(
      {
        service: health.clientId,
        name: '健康アプリ',
        items: [...BASIC4, 'email'],
        purposes: [
          { code: 'age-check', label: '年齢確認' },
          { code: 'health-promotion', label: '健康増進' },
        ],
      },
      'staff:test',
    );
    resident = await t.resident();
    sub = await t.subject(resident, health.clientId);
    await t.consentTo(resident, health.clientId, BASIC4, 'age-check');
  });
  after(() => t.stop());

  const consentsOf = async (items: string[], service: string) =>
    (await t.consent.list(resident))
      .filter(
        (r) => r.recipientService === service && items.includes(r.dataItem) && r.purpose === 'age-check',
      )
      .map((r) => ({ item: r.dataItem, consentId: r.id, version: r.version }))
      .sort((a, b) => items.indexOf(a.item) - items.indexOf(b.item));

  it('answers the consented basic 4 info with each consent id and version, and logs names only', async () => {
    const res = await t.read(health, { subject: sub, items: BASIC4, purpose: 'age-check' });
    assert.equal(res.status, 200);
    const consents = await consentsOf(BASIC4, health.clientId);
    assert.equal(consents.length, 4);
    assert.deepEqual(res.body, {
      subject: sub,
      purpose: 'age-check',
      items: {
        name: PROFILE.name,
        address: PROFILE.address,
        birthdate: PROFILE.birthdate,
        gender: PROFILE.gender,
      },
      consents,
      withheld: [],
      unavailable: [],
    });
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const [entry] = await t.lastLog();
    assert.deepEqual(
      { ...entry, seq: undefined },
      {
        seq: undefined,
        kind: 'read',
        service: health.clientId,
        source: null,
        resident,
        items: BASIC4,
        purpose: 'age-check',
        decision: 'allow',
        code: null,
        consents: consents.map((c) => ({ ...c, decision: 'allow' })),
        suppressed_until: null,
      },
    );
    assert.ok(!JSON.stringify(entry).includes(PROFILE.name), 'no value in the log');
  });

  it('answers only the consented items and withholds the rest (partial)', async () => {
    const res = await t.read(health, { subject: sub, items: ['birthdate', 'email'], purpose: 'age-check' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.items, { birthdate: PROFILE.birthdate });
    assert.deepEqual(res.body.withheld, ['email']);
    const [entry] = await t.lastLog();
    assert.equal(entry!['decision'], 'partial');
    assert.deepEqual((entry!['consents'] as Array<Record<string, unknown>>)[1], {
      item: 'email',
      decision: 'deny',
      reason: 'no-consent',
    });
  });

  it('no link and no consent give the same answer: the resident’s existence is not revealed', async () => {
    const before = await t.logCount();
    const noLink = await t.read(health, { subject: 'no-such-subject', items: BASIC4, purpose: 'age-check' });
    const other = await t.resident({ ...PROFILE, name: '佐藤 次郎' });
    const otherSub = await t.subject(other, health.clientId);
    const noConsent = await t.read(health, { subject: otherSub, items: BASIC4, purpose: 'age-check' });
    assert.equal(noLink.status, 403);
    assert.equal(noConsent.status, 403);
    assert.deepEqual(problem(noLink.body), NOT_PERMITTED);
    assert.deepEqual(problem(noConsent.body), NOT_PERMITTED);
    assert.equal(await t.logCount(), before + 2);
    const [a, b] = await t.lastLog(2);
    assert.deepEqual(
      [a!['resident'], a!['decision'], a!['code'], a!['consents']],
      [null, 'deny', 'no-link', []],
    );
    assert.deepEqual([b!['resident'], b!['decision'], b!['code']], [other, 'deny', 'no-consent']);
    assert.deepEqual(
      (b!['consents'] as Array<Record<string, unknown>>).map((c) => c['reason']),
      ['no-consent', 'no-consent', 'no-consent', 'no-consent'],
    );
  });

  it('a consent for another purpose does not count (wrong purpose); an unregistered purpose is refused', async () => {
    const otherPurpose = await t.read(health, { subject: sub, items: ['name'], purpose: 'health-promotion' });
    assert.deepEqual([otherPurpose.status, problem(otherPurpose.body)], [403, NOT_PERMITTED]);
    assert.deepEqual(
      (await t.lastLog()).map((e) => [e['purpose'], e['decision'], e['code']]),
      [['health-promotion', 'deny', 'no-consent']],
    );
    const unregistered = await t.read(health, { subject: sub, items: ['name'], purpose: 'marketing' });
    assert.equal(unregistered.status, 403);
    assert.deepEqual(problem(unregistered.body), {
      type: 'urn:tsunagu:problem:purpose-not-registered',
      title: 'The purpose is not registered for this service',
      status: 403,
      detail: 'The purpose marketing is not registered for this service.',
      code: 'purpose-not-registered',
    });
    assert.deepEqual(
      (await t.lastLog()).map((e) => [e['resident'], e['purpose'], e['decision'], e['code'], e['consents']]),
      [[resident, 'marketing', 'deny', 'purpose-not-registered', []]],
    );
  });

  it('refuses an item outside the service’s registered scope, naming it', async () => {
    const res = await t.read(health, { subject: sub, items: ['name', 'phone'], purpose: 'age-check' });
    assert.equal(res.status, 403);
    assert.deepEqual(problem(res.body), {
      type: 'urn:tsunagu:problem:item-not-registered',
      title: 'An item is outside the service’s registered scope',
      status: 403,
      detail: 'Outside the registered scope: phone.',
      code: 'item-not-registered',
      items: ['phone'],
    });
    assert.ok(!JSON.stringify(res.body).includes(PROFILE.name));
    const [entry] = await t.lastLog();
    assert.deepEqual(
      [entry!['items'], entry!['decision'], entry!['code']],
      [['name', 'phone'], 'deny', 'item-not-registered'],
    );
  });

  it('paused, withdrawn: not permitted, the log names the consent, its version and the reason', async () => {
    const [record] = (await t.consent.list(resident)).filter(
      (r) => r.dataItem === 'gender' && r.recipientService === health.clientId,
    );
    await t.consent.change({ id: record!.id, resident, action: 'pause' });
    let res = await t.read(health, { subject: sub, items: ['gender'], purpose: 'age-check' });
    assert.deepEqual([res.status, problem(res.body)], [403, NOT_PERMITTED]);
    let [entry] = await t.lastLog();
    assert.equal(entry!['code'], 'paused');
    assert.deepEqual(entry!['consents'], [
      { item: 'gender', decision: 'deny', reason: 'paused', consentId: record!.id, version: 2 },
    ]);

    await t.consent.change({ id: record!.id, resident, action: 'withdraw' });
    res = await t.read(health, { subject: sub, items: ['gender'], purpose: 'age-check' });
    assert.deepEqual([res.status, problem(res.body)], [403, NOT_PERMITTED]);
    [entry] = await t.lastLog();
    assert.deepEqual(entry!['consents'], [
      { item: 'gender', decision: 'deny', reason: 'withdrawn', consentId: record!.id, version: 3 },
    ]);
  });

  it('expired: a consent past its validity no longer allows', async () => {
    const r = await t.resident({ ...PROFILE, name: '鈴木 三郎' });
    const s = await t.subject(r, health.clientId);
    await t.consent.give({
      resident: r,
      service: health.clientId,
      items: ['name'],
      purpose: 'age-check',
      notice: { id: `notice-${health.clientId}-age-check`, version: 1 },
      validUntil: new Date(t.clock.now().getTime() + DAY),
    });
    assert.equal((await t.read(health, { subject: s, items: ['name'], purpose: 'age-check' })).status, 200);
    t.clock.advance(2 * DAY);
    // Tokens are stored with the injected clock's expiry: take a fresh one.
    health.token = await t.token(health, ['mediation:read']);
    const res = await t.read(health, { subject: s, items: ['name'], purpose: 'age-check' });
    assert.deepEqual([res.status, problem(res.body)], [403, NOT_PERMITTED]);
    const [entry] = await t.lastLog();
    assert.deepEqual([entry!['resident'], entry!['code']], [r, 'expired']);
    assert.equal((entry!['consents'] as Array<Record<string, unknown>>)[0]!['reason'], 'expired');
  });

  it('a client calling from outside its IP allow-list is refused (ip-not-allowed) and the attempt logged', async () => {
    const wallet = await t.partner(['mediation:read'], { ipAllowList: ['127.0.0.1/32', '::1/128'] });
    await t.mediation.registry.add(
      {
        service: wallet.clientId,
        name: '地域通貨ウォレット',
        items: ['name'],
        purposes: [{ code: 'kyc', label: '本人確認' }],
      },
      'staff:test',
    );
    await t.idp.clients.update(wallet.clientId, { ipAllowList: ['10.0.0.0/8'] }, 'test');
    const walletSub = await t.subject(resident, wallet.clientId);
    const res = await t.read(wallet, { subject: walletSub, items: ['name'], purpose: 'kyc' });
    assert.equal(res.status, 403);
    assert.deepEqual(problem(res.body), {
      type: 'urn:tsunagu:problem:ip-not-allowed',
      title: 'Client address is not allowed',
      status: 403,
      detail: 'This client may not call from this address.',
      code: 'ip-not-allowed',
    });
    const [entry] = await t.lastLog();
    assert.deepEqual(
      [
        entry!['service'],
        entry!['resident'],
        entry!['items'],
        entry!['purpose'],
        entry!['decision'],
        entry!['code'],
      ],
      [wallet.clientId, resident, ['name'], 'kyc', 'deny', 'ip-not-allowed'],
    );
  });

  it('a client without the scope, or an unregistered service, gets nothing', async () => {
    const noScope = await t.partner(['consent:decide']);
    const res = await t.read(noScope, { subject: sub, items: ['name'], purpose: 'age-check' });
    assert.deepEqual([res.status, res.body.code], [403, 'insufficient-scope']);
    const [entry] = await t.lastLog();
    assert.deepEqual([entry!['service'], entry!['code']], [noScope.clientId, 'insufficient-scope']);

    const unregistered = await t.partner(['mediation:read']);
    const r2 = await t.read(unregistered, { subject: 'x', items: ['name'], purpose: 'age-check' });
    assert.deepEqual([r2.status, r2.body.code], [403, 'service-not-registered']);

    await t.mediation.registry.setState(health.clientId, 'disabled', 'staff:test');
    const r3 = await t.read(health, { subject: sub, items: ['name'], purpose: 'age-check' });
    assert.deepEqual([r3.status, r3.body.code], [403, 'service-not-registered']);
    await t.mediation.registry.setState(health.clientId, 'active', 'staff:test');
    const anonymous = await send(`${t.url}/api/mediation/v1/requests`, {
      method: 'POST',
      body: { subject: sub, items: ['name'], purpose: 'age-check' },
    });
    assert.equal(anonymous.status, 401);
  });

  it('serves nothing when the access log cannot be written', async () => {
    const before = await t.logCount();
    await t.platform.db.query(`
      CREATE FUNCTION mediation.fail_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'disk full'; END $$;
      CREATE TRIGGER fail_insert BEFORE INSERT ON mediation.access_log FOR EACH ROW EXECUTE FUNCTION mediation.fail_insert();`);
    try {
      const res = await t.read(health, { subject: sub, items: ['name', 'birthdate'], purpose: 'age-check' });
      assert.equal(res.status, 503);
      assert.equal(res.body.code, 'access-log-unavailable');
      assert.ok(!JSON.stringify(res.body).includes(PROFILE.name));
      assert.ok(!JSON.stringify(res.body).includes(PROFILE.birthdate));
      assert.equal(await t.logCount(), before);
    } finally {
      await t.platform.db.query(
        'DROP TRIGGER fail_insert ON mediation.access_log; DROP FUNCTION mediation.fail_insert()',
      );
    }
    const again = await t.read(health, { subject: sub, items: ['name'], purpose: 'age-check' });
    assert.equal(again.status, 200);
    assert.equal(await t.logCount(), before + 1);
  });
});
