import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ProblemError } from '../../core/index.ts';
import {
  BASIC4,
  type ConsentTest,
  count,
  HEALTH,
  OTHER_RESIDENT,
  publishNotices,
  RESIDENT,
  SDGS,
  startConsentPlatform,
} from './support.ts';

const DAY = 86_400_000;
const notice = { id: 'health-app', version: 1 };

async function rejects(promise: Promise<unknown>, code: string) {
  await assert.rejects(promise, (e: ProblemError) => {
    assert.equal(e.code, code);
    return true;
  });
}

describe('consent records: give, pause, resume, withdraw, expire', () => {
  let t: ConsentTest;
  before(async () => {
    t = await startConsentPlatform();
    await publishNotices(t);
  });
  after(() => t.stop());

  it('gives one record per basic-4 item, each with its 27560 fields and a "given" event', async () => {
    const result = await t.consent.give({
      resident: RESIDENT,
      service: HEALTH,
      items: BASIC4,
      purpose: 'age-check',
      notice,
    });
    assert.equal(result.changed, 4);
    assert.deepEqual(
      result.records.map((r) => r.dataItem),
      ['address', 'birthdate', 'gender', 'name'],
    );
    for (const r of result.records) {
      assert.equal(r.state, 'given');
      assert.equal(r.version, 1);
      assert.equal(r.side, 'direct');
      assert.equal(r.resident, RESIDENT);
      assert.equal(r.recipientService, HEALTH);
      assert.equal(r.sourceService, null);
      assert.equal(r.purpose, 'age-check');
      assert.deepEqual(r.notice, notice);
      assert.equal(r.legalBasis, 'consent');
      assert.equal(r.validFrom, t.clock.now().toISOString());
      assert.equal(r.validUntil, null);
      assert.match(r.withdrawalMethod, /撤回/);
      const events = await t.consent.events(r.id);
      assert.deepEqual(
        events.map((e) => [e.type, e.state, e.version, e.actor]),
        [['given', 'given', 1, 'resident']],
      );
    }
    const audit = await t.platform.db.query<{ details: Record<string, unknown>; target: string }>(
      `SELECT details, target FROM core.audit_log WHERE action = 'consent.given' ORDER BY seq`,
    );
    assert.equal(audit.rows.length, 4);
    for (const row of audit.rows) assert.ok(!JSON.stringify(row.details).includes(RESIDENT));
  });

  it('allows exactly what was consented and denies everything else by default', async () => {
    for (const item of BASIC4) {
      const d = await t.consent.decide({ resident: RESIDENT, service: HEALTH, item, purpose: 'age-check' });
      assert.equal(d.decision, 'allow');
      assert.equal(d.decision === 'allow' && d.version, 1);
    }
    const denials = [
      { resident: RESIDENT, service: HEALTH, item: 'name', purpose: 'health-promotion' },
      { resident: RESIDENT, service: SDGS, item: 'name', purpose: 'age-check' },
      { resident: OTHER_RESIDENT, service: HEALTH, item: 'name', purpose: 'age-check' },
      { resident: RESIDENT, service: HEALTH, item: 'email', purpose: 'age-check' },
      { resident: RESIDENT, service: HEALTH, item: 'name', purpose: 'age-check', source: SDGS },
    ];
    for (const q of denials)
      assert.deepEqual(await t.consent.decide(q), { decision: 'deny', reason: 'no-consent' });
  });

  it('giving the same consent again changes nothing', async () => {
    const before = await count(t, 'consent.events');
    const again = await t.consent.give({
      resident: RESIDENT,
      service: HEALTH,
      items: ['name'],
      purpose: 'age-check',
      notice,
    });
    assert.equal(again.changed, 0);
    assert.equal(again.records[0]!.version, 1);
    assert.equal(await count(t, 'consent.events'), before);
  });

  it('pause, resume and withdraw take effect on the very next decision; withdrawal is final', async () => {
    const q = { resident: RESIDENT, service: HEALTH, item: 'birthdate', purpose: 'age-check' };
    const allowed = await t.consent.decide(q);
    assert.equal(allowed.decision, 'allow');
    const id = allowed.consentId!;

    const paused = await t.consent.change({ id, resident: RESIDENT, action: 'pause' });
    assert.equal(paused.changed, 1);
    assert.deepEqual(await t.consent.decide(q), {
      decision: 'deny',
      reason: 'paused',
      consentId: id,
      version: 2,
    });
    // Pausing again is a no-op.
    assert.equal((await t.consent.change({ id, resident: RESIDENT, action: 'pause' })).changed, 0);

    await t.consent.change({ id, resident: RESIDENT, action: 'resume' });
    assert.deepEqual(await t.consent.decide(q), { decision: 'allow', consentId: id, version: 3 });

    await t.consent.change({ id, resident: RESIDENT, action: 'withdraw' });
    assert.deepEqual(await t.consent.decide(q), {
      decision: 'deny',
      reason: 'withdrawn',
      consentId: id,
      version: 4,
    });

    const events = await count(t, 'consent.events');
    await rejects(t.consent.change({ id, resident: RESIDENT, action: 'resume' }), 'consent-final');
    await rejects(t.consent.change({ id, resident: RESIDENT, action: 'withdraw' }), 'consent-final');
    assert.equal(await count(t, 'consent.events'), events);
    assert.equal((await t.consent.get(id))!.version, 4);
    assert.deepEqual(
      (await t.consent.events(id)).map((e) => e.type),
      ['given', 'paused', 'resumed', 'withdrawn'],
    );

    // Consenting again makes a new record; the withdrawn one stays as it was.
    const renewed = await t.consent.give({
      resident: RESIDENT,
      service: HEALTH,
      items: ['birthdate'],
      purpose: 'age-check',
      notice,
    });
    assert.notEqual(renewed.records[0]!.id, id);
    assert.deepEqual(await t.consent.decide(q), {
      decision: 'allow',
      consentId: renewed.records[0]!.id,
      version: 1,
    });
    assert.equal((await t.consent.get(id))!.state, 'withdrawn');
  });

  it('only the resident may change their consent', async () => {
    const { consentId } = await t.consent.decide({
      resident: RESIDENT,
      service: HEALTH,
      item: 'name',
      purpose: 'age-check',
    });
    await rejects(
      t.consent.change({ id: consentId!, resident: OTHER_RESIDENT, action: 'withdraw' }),
      'consent-not-found',
    );
    assert.equal((await t.consent.get(consentId!))!.state, 'given');
  });

  it('expires at the end of its validity (frozen clock), and expiry is final', async () => {
    const start = t.clock.at;
    const { records } = await t.consent.give({
      resident: RESIDENT,
      service: HEALTH,
      items: ['gender'],
      purpose: 'health-promotion',
      notice,
      validUntil: new Date(start.getTime() + 30 * DAY),
    });
    const id = records[0]!.id;
    const q = { resident: RESIDENT, service: HEALTH, item: 'gender', purpose: 'health-promotion' };
    try {
      t.clock.at = new Date(start.getTime() + 30 * DAY - 1);
      assert.deepEqual(await t.consent.decide(q), { decision: 'allow', consentId: id, version: 1 });
      t.clock.at = new Date(start.getTime() + 30 * DAY);
      assert.deepEqual(await t.consent.decide(q), {
        decision: 'deny',
        reason: 'expired',
        consentId: id,
        version: 1,
      });
      assert.equal((await t.consent.get(id))!.state, 'expired');
      await rejects(t.consent.change({ id, resident: RESIDENT, action: 'pause' }), 'consent-final');

      assert.equal(await t.consent.expireDue(), 1);
      assert.equal(await t.consent.expireDue(), 0);
      assert.deepEqual(
        (await t.consent.events(id)).map((e) => [e.type, e.state, e.version, e.actor]),
        [
          ['given', 'given', 1, 'resident'],
          ['expired', 'expired', 2, 'system'],
        ],
      );
      assert.deepEqual(await t.consent.decide(q), {
        decision: 'deny',
        reason: 'expired',
        consentId: id,
        version: 2,
      });
    } finally {
      t.clock.at = start;
    }
  });

  it('rejects a validity that has already ended', async () => {
    await rejects(
      t.consent.give({
        resident: RESIDENT,
        service: HEALTH,
        items: ['name'],
        purpose: 'health-promotion',
        notice,
        validUntil: t.clock.now(),
      }),
      'invalid-validity',
    );
  });

  it('a material notice change requires re-consent; a non-material one does not', async () => {
    const q = { resident: RESIDENT, service: HEALTH, item: 'address', purpose: 'age-check' };
    const before = await t.consent.decide(q);
    assert.equal(before.decision, 'allow');
    const v2 = await t.consent.publishNotice(
      {
        noticeId: 'health-app',
        service: HEALTH,
        purposes: ['health-promotion', 'age-check'],
        titleJa: '健康アプリのプライバシーポリシー（改定）',
        titleEn: 'Health app privacy notice (revised)',
        bodyJa: '提供先に研究機関を追加しました。',
        bodyEn: 'Adds a research institute as a recipient.',
        material: true,
      },
      'staff:test',
    );
    assert.equal(v2.version, 2);
    assert.deepEqual(await t.consent.decide(q), {
      decision: 'deny',
      reason: 'reconsent-required',
      consentId: before.consentId,
      version: 1,
    });
    // Consenting under the superseded version is refused and writes nothing.
    const events = await count(t, 'consent.events');
    await rejects(
      t.consent.give({
        resident: RESIDENT,
        service: HEALTH,
        items: ['address'],
        purpose: 'age-check',
        notice,
      }),
      'notice-outdated',
    );
    assert.equal(await count(t, 'consent.events'), events);

    const renewed = await t.consent.give({
      resident: RESIDENT,
      service: HEALTH,
      items: ['address'],
      purpose: 'age-check',
      notice: { id: 'health-app', version: 2 },
    });
    assert.equal(renewed.records[0]!.id, before.consentId);
    assert.deepEqual(renewed.records[0]!.notice, { id: 'health-app', version: 2 });
    assert.deepEqual(await t.consent.decide(q), {
      decision: 'allow',
      consentId: before.consentId,
      version: 2,
    });
    assert.deepEqual(
      (await t.consent.events(before.consentId!)).map((e) => [e.type, e.noticeVersion]),
      [
        ['given', 1],
        ['renewed', 2],
      ],
    );

    await t.consent.publishNotice(
      { ...v2, titleJa: '誤字修正', titleEn: 'Typo fix', material: false, url: null },
      'staff:test',
    );
    assert.deepEqual(await t.consent.decide(q), {
      decision: 'allow',
      consentId: before.consentId,
      version: 2,
    });
  });

  it('refuses bad requests with a stable code and writes nothing', async () => {
    const records = await count(t, 'consent.records');
    const events = await count(t, 'consent.events');
    const base = {
      resident: RESIDENT,
      service: HEALTH,
      items: ['name'],
      purpose: 'health-promotion',
      notice: { id: 'health-app', version: 2 },
    };
    await rejects(t.consent.give({ ...base, items: ['name', 'blood-type'] }), 'unknown-data-item');
    await rejects(t.consent.give({ ...base, resident: 'zzzzzzzzzzzzzzzzzzzzzzzzzz' }), 'resident-not-found');
    await rejects(t.consent.give({ ...base, purpose: 'marketing' }), 'notice-mismatch');
    await rejects(t.consent.give({ ...base, service: SDGS }), 'notice-mismatch');
    await rejects(t.consent.give({ ...base, notice: { id: 'health-app', version: 9 } }), 'notice-not-found');
    await rejects(t.consent.give({ ...base, source: 'c_unknown-service0' }), 'service-not-found');
    t.directory.residents.set(OTHER_RESIDENT, 'disabled');
    await rejects(t.consent.give({ ...base, resident: OTHER_RESIDENT }), 'resident-not-found');
    t.directory.residents.set(OTHER_RESIDENT, 'active');
    assert.equal(await count(t, 'consent.records'), records);
    assert.equal(await count(t, 'consent.events'), events);
  });
});

describe('consent history cannot be rewritten (database-enforced)', () => {
  let t: ConsentTest;
  let id: string;
  before(async () => {
    t = await startConsentPlatform();
    await publishNotices(t);
    const given = await t.consent.give({
      resident: RESIDENT,
      service: HEALTH,
      items: ['name'],
      purpose: 'age-check',
      notice,
    });
    id = given.records[0]!.id;
    await t.consent.change({ id, resident: RESIDENT, action: 'withdraw' });
  });
  after(() => t.stop());

  const attempts: Array<[string, string]> = [
    ['edit an event', `UPDATE consent.events SET state = 'given' WHERE version = 2`],
    ['delete an event', 'DELETE FROM consent.events WHERE version = 2'],
    ['truncate events', 'TRUNCATE consent.events CASCADE'],
    ['delete a record', 'DELETE FROM consent.records'],
    ['un-withdraw a record', `UPDATE consent.records SET state = 'given', version = version + 1`],
    ['edit a notice', `UPDATE consent.notices SET body_ja = '改ざん'`],
  ];
  for (const [what, sql] of attempts) {
    it(`refuses to ${what}`, async () => {
      await assert.rejects(t.platform.db.query(sql), /append-only|final/);
      assert.deepEqual(
        (await t.consent.events(id)).map((e) => [e.type, e.state]),
        [
          ['given', 'given'],
          ['withdrawn', 'withdrawn'],
        ],
      );
      assert.equal((await t.consent.get(id))!.state, 'withdrawn');
    });
  }

  it('refuses to change what a live record is about, or to skip a version, or to change it without an event', async () => {
    const { records } = await t.consent.give({
      resident: RESIDENT,
      service: HEALTH,
      items: ['gender'],
      purpose: 'age-check',
      notice,
    });
    const live = records[0]!.id;
    await assert.rejects(
      t.platform.db.query(
        `UPDATE consent.records SET purpose = 'marketing', version = version + 1 WHERE id = $1`,
        [live],
      ),
      /only state, notice version and validity may change/,
    );
    await assert.rejects(
      t.platform.db.query(
        `UPDATE consent.records SET state = 'paused', version = version + 2 WHERE id = $1`,
        [live],
      ),
      /one version at a time/,
    );
    await assert.rejects(
      t.platform.db.query(
        `UPDATE consent.records SET state = 'paused', version = version + 1 WHERE id = $1`,
        [live],
      ),
      /has no matching event/,
    );
    assert.deepEqual(
      await t.consent.decide({ resident: RESIDENT, service: HEALTH, item: 'gender', purpose: 'age-check' }),
      {
        decision: 'allow',
        consentId: live,
        version: 1,
      },
    );
  });
});
