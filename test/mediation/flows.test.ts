import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { send } from '../support/http.ts';
import { type MediationTest, type Partner, startMediationPlatform } from './support.ts';

describe('service-to-service data flows under a data-flow consent', () => {
  let t: MediationTest;
  let health: Partner;
  let sdgs: Partner;
  let resident: string;
  const PURPOSE = 'activity-points';

  const flow = (from: Partner, body: Record<string, unknown>) =>
    send(`${t.url}/api/mediation/v1/flows`, {
      method: 'POST',
      headers: { authorization: `Bearer ${from.token}` },
      body,
    });
  const receive = (p: Partner) =>
    send(`${t.url}/api/mediation/v1/flows/receive`, {
      method: 'POST',
      headers: { authorization: `Bearer ${p.token}` },
    });

  before(async () => {
    t = await startMediationPlatform();
    health = await t.partner(['mediation:flow']);
    sdgs = await t.partner(['mediation:flow']);
    await t.mediation.registry.add(
      {
        service: sdgs.clientId,
        name: 'SDGs活動サイト',
        items: [],
        purposes: [{ code: PURPOSE, label: '活動ポイント付与' }],
      },
      'staff:test',
    );
    await t.mediation.registry.add(
      {
        service: health.clientId,
        name: '健康アプリ',
        items: [],
        purposes: [{ code: PURPOSE, label: '活動ポイント付与' }],
        flows: [{ to: sdgs.clientId, items: ['activity-records', 'birthdate'], purposes: [PURPOSE] }],
      },
      'staff:test',
    );
    resident = await t.resident();
    await t.consentTo(resident, sdgs.clientId, ['activity-records'], PURPOSE, health.clientId);
  });
  after(() => t.stop());

  it('delivers only the items under a data-flow consent, naming both records; the recipient gets its own subject', async () => {
    const subA = await t.subject(resident, health.clientId);
    const sent = await flow(health, {
      to: sdgs.clientId,
      subject: subA,
      purpose: PURPOSE,
      items: { 'activity-records': 'walk 10km', birthdate: '1990-04-01' },
    });
    assert.equal(sent.status, 202);
    const records = (await t.consent.list(resident)).filter((r) => r.dataItem === 'activity-records');
    const sink = records.find((r) => r.side === 'sink')!;
    const source = records.find((r) => r.side === 'source')!;
    assert.deepEqual(
      { ...sent.body, flowId: undefined },
      {
        flowId: undefined,
        delivered: ['activity-records'],
        consents: [
          {
            item: 'activity-records',
            consentId: sink.id,
            version: 1,
            sourceConsentId: source.id,
            sourceVersion: 1,
          },
        ],
        withheld: ['birthdate'],
      },
    );
    const [entry] = await t.lastLog();
    assert.deepEqual(
      [
        entry!['kind'],
        entry!['service'],
        entry!['source'],
        entry!['resident'],
        entry!['decision'],
        entry!['items'],
      ],
      ['flow-send', sdgs.clientId, health.clientId, resident, 'partial', ['activity-records', 'birthdate']],
    );
    const { rows } = await t.platform.db.query('SELECT sealed FROM mediation.flow_deliveries');
    assert.ok(!String(rows[0]!['sealed']).includes('walk'), 'sealed at rest');

    const got = await receive(sdgs);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.deliveries.length, 1);
    const d = got.body.deliveries[0];
    assert.deepEqual(
      [d.flowId, d.source, d.subject, d.items, d.withheld],
      [
        sent.body.flowId,
        health.clientId,
        await t.subject(resident, sdgs.clientId),
        { 'activity-records': 'walk 10km' },
        [],
      ],
    );
    const [received] = await t.lastLog();
    assert.deepEqual([received!['kind'], received!['decision']], ['flow-receive', 'allow']);
    // Kept (and logged again) until acknowledged, so a lost answer can be fetched again.
    const again = await receive(sdgs);
    assert.deepEqual(
      again.body.deliveries.map((x: { flowId: string }) => x.flowId),
      [sent.body.flowId],
    );
    const ack = (ids: string[]) =>
      send(`${t.url}/api/mediation/v1/flows/ack`, {
        method: 'POST',
        headers: { authorization: `Bearer ${sdgs.token}` },
        body: { flowIds: ids },
      });
    // Another service cannot acknowledge them.
    const stranger = await send(`${t.url}/api/mediation/v1/flows/ack`, {
      method: 'POST',
      headers: { authorization: `Bearer ${health.token}` },
      body: { flowIds: [sent.body.flowId] },
    });
    assert.deepEqual(stranger.body.acknowledged, []);
    assert.deepEqual((await ack([sent.body.flowId])).body.acknowledged, [sent.body.flowId]);
    assert.deepEqual((await ack([sent.body.flowId])).body.acknowledged, []);
    assert.deepEqual((await receive(sdgs)).body.deliveries, []);
    const after = await t.platform.db.query('SELECT sealed, received_at FROM mediation.flow_deliveries');
    assert.equal(after.rows[0]!['sealed'], null);
  });

  it('a retry with the same Idempotency-Key delivers once; the key with another request is refused', async () => {
    const subA = await t.subject(resident, health.clientId);
    const body = {
      to: sdgs.clientId,
      subject: subA,
      purpose: PURPOSE,
      items: { 'activity-records': 'swim 1km' },
    };
    const post = (b: unknown) =>
      send(`${t.url}/api/mediation/v1/flows`, {
        method: 'POST',
        headers: { authorization: `Bearer ${health.token}`, 'idempotency-key': 'k-1' },
        body: b,
      });
    const before = await t.platform.db.query('SELECT count(*)::int AS n FROM mediation.flow_deliveries');
    const first = await post(body);
    const retry = await post(body);
    assert.equal(first.status, 202);
    assert.deepEqual(
      [retry.status, retry.body, retry.headers.get('idempotent-replayed')],
      [202, first.body, 'true'],
    );
    const other = await post({ ...body, items: { 'activity-records': 'swim 2km' } });
    assert.deepEqual([other.status, other.body.code], [422, 'idempotency-key-reused']);
    const afterCount = await t.platform.db.query('SELECT count(*)::int AS n FROM mediation.flow_deliveries');
    assert.equal(afterCount.rows[0]!['n'], before.rows[0]!['n'] + 1);
    const got = await receive(sdgs);
    await send(`${t.url}/api/mediation/v1/flows/ack`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sdgs.token}` },
      body: { flowIds: got.body.deliveries.map((d: { flowId: string }) => d.flowId) },
    });
  });

  it('a consent withdrawn before the recipient takes the delivery withholds it then', async () => {
    const subA = await t.subject(resident, health.clientId);
    const sent = await flow(health, {
      to: sdgs.clientId,
      subject: subA,
      purpose: PURPOSE,
      items: { 'activity-records': 'run 5km' },
    });
    assert.equal(sent.status, 202);
    const sink = (await t.consent.list(resident)).find(
      (r) => r.dataItem === 'activity-records' && r.side === 'sink',
    )!;
    await t.consent.change({ id: sink.id, resident, action: 'withdraw' });
    const got = await receive(sdgs);
    assert.deepEqual(got.body.deliveries[0].items, {});
    assert.deepEqual(got.body.deliveries[0].withheld, ['activity-records']);
    const [entry] = await t.lastLog();
    assert.deepEqual(
      [entry!['kind'], entry!['decision'], entry!['code']],
      ['flow-receive', 'deny', 'withdrawn'],
    );
  });

  it('without a data-flow consent, to an unregistered recipient, or an item outside the flow: nothing moves', async () => {
    const other = await t.resident({
      name: '別 人',
      birthdate: '1980-01-01',
      gender: 'male',
      address: '北海道札幌市',
      evidence: { issuer: 'x', serial: '2', verifiedAt: '2026-01-01T00:00:00Z' },
    });
    // A direct consent to the recipient is not a data-flow consent.
    await t.consentTo(other, sdgs.clientId, ['activity-records'], PURPOSE);
    const subA = await t.subject(other, health.clientId);
    const before = await t.platform.db.query('SELECT count(*)::int AS n FROM mediation.flow_deliveries');
    const denied = await flow(health, {
      to: sdgs.clientId,
      subject: subA,
      purpose: PURPOSE,
      items: { 'activity-records': 'x' },
    });
    assert.deepEqual([denied.status, denied.body.code], [403, 'not-permitted']);
    const [entry] = await t.lastLog();
    assert.deepEqual(
      [entry!['kind'], entry!['decision'], entry!['code']],
      ['flow-send', 'deny', 'no-consent'],
    );

    const wrongTo = await flow(health, {
      to: health.clientId,
      subject: subA,
      purpose: PURPOSE,
      items: { 'activity-records': 'x' },
    });
    assert.deepEqual([wrongTo.status, wrongTo.body.code], [403, 'flow-not-registered']);
    const outside = await flow(health, {
      to: sdgs.clientId,
      subject: subA,
      purpose: PURPOSE,
      items: { email: 'a@example.jp' },
    });
    assert.deepEqual(
      [outside.status, outside.body.code, outside.body.items],
      [403, 'item-not-registered', ['email']],
    );
    const afterCount = await t.platform.db.query('SELECT count(*)::int AS n FROM mediation.flow_deliveries');
    assert.equal(afterCount.rows[0]!['n'], before.rows[0]!['n']);
  });
});
