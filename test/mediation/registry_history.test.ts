import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MEDIATION_COMMANDS } from '../../mediation/index.ts';
import { send } from '../support/http.ts';
import { Clock, DAY, type MediationTest, type Partner, startMediationPlatform } from './support.ts';

describe('service registry (admin API, CLI) and the access history views', () => {
  let t: MediationTest;
  let staff: Partner;
  let line: Partner;
  let resident: string;

  const admin = (path: string, init: { method?: string; body?: unknown } = {}) =>
    send(`${t.url}/api/admin/mediation${path}`, {
      ...init,
      headers: { authorization: `Bearer ${staff.token}` },
    });

  before(async () => {
    // Forty days back: the suppression period passes while the provider's tokens stay valid.
    t = await startMediationPlatform({}, {}, { clock: new Clock(new Date(Date.now() - 40 * DAY)) });
    staff = await t.partner(['mediation:admin', 'mediation:log']);
    line = await t.partner(['mediation:read']);
    resident = await t.resident();
  });
  after(() => t.stop());

  it('staff onboard a service from the admin API: it is served at once, no code change', async () => {
    const sub = await t.subject(resident, line.clientId);
    await t.consentTo(resident, line.clientId, ['name'], 'citizen-portal');
    const before = await t.read(line, { subject: sub, items: ['name'], purpose: 'citizen-portal' });
    assert.equal(before.body.code, 'service-not-registered');

    const created = await admin('/services', {
      method: 'POST',
      body: {
        service: line.clientId,
        name: 'LINE市民ポータル',
        items: ['name', 'address'],
        purposes: [
          { code: 'citizen-portal', label: '市民ポータルの本人表示' },
          { code: 'investigation', label: '法令に基づく照会', suppressDays: 30 },
        ],
      },
    });
    assert.equal(created.status, 201);
    assert.deepEqual(
      [created.body.service, created.body.state, created.body.version],
      [line.clientId, 'active', 1],
    );
    const after = await t.read(line, { subject: sub, items: ['name'], purpose: 'citizen-portal' });
    assert.equal(after.status, 200);

    const audit = await t.platform.db.query(
      `SELECT actor, action, target FROM core.audit_log WHERE action LIKE 'mediation.service.%'`,
    );
    assert.deepEqual(audit.rows, [
      {
        actor: `staff:${staff.clientId}`,
        action: 'mediation.service.add',
        target: `mediation-service:${line.clientId}`,
      },
    ]);
  });

  it('refuses an invalid or duplicate registration and changes nothing', async () => {
    const bad = await admin('/services', {
      method: 'POST',
      body: { service: 'c_nope', name: 'x', items: ['shoe-size'], purposes: [] },
    });
    assert.deepEqual([bad.status, bad.body.code], [422, 'invalid-registration']);
    const dup = await admin('/services', {
      method: 'POST',
      body: { service: line.clientId, name: 'x', items: ['name'], purposes: [{ code: 'a', label: 'a' }] },
    });
    assert.deepEqual([dup.status, dup.body.code], [409, 'mediation-service-exists']);
    const list = await admin('/services');
    assert.deepEqual(
      list.body.services.map((s: { name: string }) => s.name),
      ['LINE市民ポータル'],
    );
    const outsider = await send(`${t.url}/api/admin/mediation/services`, {
      headers: { authorization: `Bearer ${line.token}` },
    });
    assert.deepEqual([outsider.status, outsider.body.code], [403, 'insufficient-scope']);
  });

  it('the CLI adds, lists and disables services', async () => {
    const wallet = await t.partner(['mediation:read']);
    let out = '';
    const io = { out: (s: string) => void (out += s), platform: async () => t.platform };
    const code = await MEDIATION_COMMANDS['services add']!.run(
      [
        '--service',
        wallet.clientId,
        '--name',
        '地域通貨ウォレット',
        '--items',
        'name,birthdate',
        '--purpose',
        'kyc=本人確認',
        '--purpose',
        'fraud=不正調査:90',
      ],
      io,
    );
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(out).purposes, [
      { code: 'kyc', label: '本人確認' },
      { code: 'fraud', label: '不正調査', suppressDays: 90 },
    ]);
    out = '';
    await MEDIATION_COMMANDS['services list']!.run([], io);
    assert.match(
      out,
      new RegExp(`${wallet.clientId}\tactive\t地域通貨ウォレット\titems=name,birthdate\tpurposes=kyc,fraud`),
    );
    await MEDIATION_COMMANDS['services disable']!.run([wallet.clientId], io);
    assert.equal((await t.mediation.registry.get(wallet.clientId))!.state, 'disabled');
  });

  it('the resident sees who accessed what, when and why; suppressed entries appear once the period ends', async () => {
    const sub = await t.subject(resident, line.clientId);
    await t.consentTo(resident, line.clientId, ['name'], 'investigation');
    assert.equal(
      (await t.read(line, { subject: sub, items: ['name'], purpose: 'investigation' })).status,
      200,
    );
    const visible = await t.mediation.history(resident);
    assert.deepEqual(
      visible.map((e) => [e.service, e.purpose, e.decision, e.items]),
      [
        [line.clientId, 'citizen-portal', 'allow', ['name']],
        [line.clientId, 'citizen-portal', 'deny', ['name']],
      ],
    );
    const staffView = await t.mediation.staffLog({ resident, purpose: 'investigation' });
    assert.equal(staffView.length, 1);
    assert.ok(staffView[0]!.suppressedUntil);
    t.clock.advance(31 * DAY);
    assert.deepEqual((await t.mediation.history(resident))[0]!.purpose, 'investigation');
    const csv = await t.mediation.historyCsv(resident);
    const lines = csv
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n');
    assert.equal(lines[0], 'seq,at,kind,service,source,items,purpose,decision,code,consents');
    assert.equal(lines.length, 4);
    assert.ok(!csv.includes('山田'));
  });

  it('staff filter and export the log (JSON, CSV); each read is audited', async () => {
    staff.token = await t.token(staff, ['mediation:admin', 'mediation:log']);
    const json = await admin(`/log?service=${line.clientId}&decision=deny`);
    assert.equal(json.status, 200);
    assert.deepEqual(
      json.body.entries.map((e: Record<string, unknown>) => [
        e['service'],
        e['decision'],
        e['code'],
        e['resident'],
      ]),
      [[line.clientId, 'deny', 'service-not-registered', resident]],
    );
    const csv = await send(`${t.url}/api/admin/mediation/log?format=csv&purpose=investigation`, {
      headers: { authorization: `Bearer ${staff.token}` },
    });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type')!, /^text\/csv/);
    assert.match(csv.headers.get('content-disposition')!, /access-log\.csv/);
    const rows = String(csv.body)
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n');
    assert.equal(
      rows[0],
      'seq,at,kind,service,source,resident,items,purpose,decision,code,consents,suppressed_until',
    );
    assert.equal(rows.length, 2);
    const audit = await t.platform.db.query(
      `SELECT count(*)::int AS n FROM core.audit_log WHERE action = 'mediation.log.read'`,
    );
    assert.equal(audit.rows[0]!['n'], 2);
    const verify = await admin('/log/verify');
    assert.deepEqual([verify.status, verify.body.ok], [200, true]);
  });

  it('staff rotate a data key and run retention from the admin API; metrics count attempts', async () => {
    const rotated = await admin('/keys/000000/rotate', { method: 'POST' });
    assert.deepEqual([rotated.status, rotated.body], [200, { municipality: '000000', version: 2 }]);
    assert.equal(await t.mediation.reencryptAll(), 4);
    const keys = await admin('/keys');
    assert.deepEqual(
      keys.body.keys.map((k: Record<string, unknown>) => [k['version'], k['state'], k['rows']]),
      [
        [1, 'retired', 0],
        [2, 'active', 4],
      ],
    );
    const retention = await admin('/log/retention', { method: 'POST' });
    assert.deepEqual(retention.body, { purged: [] });
    const metrics = await send(`${t.url}/metrics`);
    assert.match(String(metrics.body), /tsunagu_mediation_attempts_total\{kind="read",decision="allow"\} 2/);
    assert.match(String(metrics.body), /tsunagu_mediation_attempts_total\{kind="read",decision="deny"\} 1/);
  });
});
