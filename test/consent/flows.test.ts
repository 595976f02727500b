import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type ConsentTest,
  count,
  HEALTH,
  publishNotices,
  RESIDENT,
  SDGS,
  startConsentPlatform,
} from './support.ts';

describe('data-flow consents: a pair of records, one per side', () => {
  let t: ConsentTest;
  before(async () => {
    t = await startConsentPlatform();
    await publishNotices(t);
  });
  after(() => t.stop());

  const flow = { resident: RESIDENT, service: SDGS, source: HEALTH, purpose: 'activity-points' };

  it('gives a source record and a sink record per item, sharing a pair id', async () => {
    const result = await t.consent.give({
      ...flow,
      items: ['activity-records', 'birthdate'],
      notice: { id: 'sdgs-site', version: 1 },
    });
    assert.equal(result.changed, 4);
    assert.deepEqual(
      result.records.map((r) => [r.dataItem, r.side, r.sourceService, r.recipientService]),
      [
        ['activity-records', 'source', HEALTH, SDGS],
        ['activity-records', 'sink', HEALTH, SDGS],
        ['birthdate', 'source', HEALTH, SDGS],
        ['birthdate', 'sink', HEALTH, SDGS],
      ],
    );
    assert.equal(result.records[0]!.pairId, result.records[1]!.pairId);
    assert.notEqual(result.records[0]!.pairId, result.records[2]!.pairId);
    assert.ok(result.records[0]!.pairId);
  });

  it('allows the flow only, not a direct transfer, and names both records', async () => {
    const d = await t.consent.decide({ ...flow, item: 'birthdate' });
    assert.equal(d.decision, 'allow');
    const records = await t.consent.list(RESIDENT);
    const sink = records.find((r) => r.dataItem === 'birthdate' && r.side === 'sink')!;
    const source = records.find((r) => r.dataItem === 'birthdate' && r.side === 'source')!;
    assert.deepEqual(d, {
      decision: 'allow',
      consentId: sink.id,
      version: 1,
      pair: { id: sink.pairId, sourceConsentId: source.id, sourceVersion: 1 },
    });
    assert.deepEqual(
      await t.consent.decide({
        resident: RESIDENT,
        service: SDGS,
        item: 'birthdate',
        purpose: 'activity-points',
      }),
      {
        decision: 'deny',
        reason: 'no-consent',
      },
    );
    // The reverse direction is a different flow.
    assert.deepEqual(await t.consent.decide({ ...flow, service: HEALTH, source: SDGS, item: 'birthdate' }), {
      decision: 'deny',
      reason: 'no-consent',
    });
  });

  it('pausing either side pauses both; withdrawing withdraws both', async () => {
    const records = await t.consent.list(RESIDENT);
    const source = records.find((r) => r.dataItem === 'activity-records' && r.side === 'source')!;
    const sink = records.find((r) => r.dataItem === 'activity-records' && r.side === 'sink')!;
    const paused = await t.consent.change({ id: source.id, resident: RESIDENT, action: 'pause' });
    assert.equal(paused.changed, 2);
    assert.deepEqual(
      paused.records.map((r) => [r.id, r.state, r.version]),
      [
        [source.id, 'paused', 2],
        [sink.id, 'paused', 2],
      ],
    );
    assert.deepEqual(await t.consent.decide({ ...flow, item: 'activity-records' }), {
      decision: 'deny',
      reason: 'paused',
      consentId: sink.id,
      version: 2,
    });
    await t.consent.change({ id: sink.id, resident: RESIDENT, action: 'withdraw' });
    assert.equal((await t.consent.get(source.id))!.state, 'withdrawn');
    assert.equal((await t.consent.get(sink.id))!.state, 'withdrawn');
    assert.deepEqual(await t.consent.decide({ ...flow, item: 'activity-records' }), {
      decision: 'deny',
      reason: 'withdrawn',
      consentId: sink.id,
      version: 3,
    });
    // The other item's pair is untouched.
    assert.equal((await t.consent.decide({ ...flow, item: 'birthdate' })).decision, 'allow');
  });

  it('each side reports to its own service through the outbox', async () => {
    const bySide = await t.platform.db.query<{ service_id: string; side: string; n: string }>(
      `SELECT service_id, payload->>'side' AS side, count(*) AS n FROM consent.outbox GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    assert.deepEqual(
      bySide.rows.map((r) => [r.service_id, r.side, Number(r.n)]),
      [
        [HEALTH, 'source', 4],
        [SDGS, 'sink', 4],
      ],
    );
    assert.equal(await count(t, 'consent.outbox WHERE resident <> $1', [RESIDENT]), 0);
  });
  it('answers the points exchange policy from a points-history flow for point-exchange', async () => {
    await t.consent.publishNotice(
      {
        noticeId: 'sdgs-exchange',
        service: SDGS,
        purposes: ['point-exchange'],
        titleJa: 'ポイント交換',
        titleEn: 'Point exchange',
        bodyJa: '健康アプリのポイントを交換します。',
        bodyEn: 'Exchanges health app points.',
        material: true,
      },
      'staff:test',
    );
    const exchange = { resident: RESIDENT, sourceService: HEALTH, targetService: SDGS };
    assert.equal(await t.consent.mayExchange(exchange), false);
    for (const service of [HEALTH, SDGS])
      await t.consent.link(RESIDENT, (await t.consent.issueLinkCode(service, `user-at-${service}`)).code);
    const { records } = await t.consent.give({
      resident: RESIDENT,
      service: SDGS,
      source: HEALTH,
      items: ['points-history'],
      purpose: 'point-exchange',
      notice: { id: 'sdgs-exchange', version: 1 },
    });
    assert.equal(await t.consent.mayExchange(exchange), true);
    assert.equal(
      await t.consent.mayExchange({ ...exchange, sourceService: SDGS, targetService: HEALTH }),
      false,
    );
    await t.consent.change({ id: records[0]!.id, resident: RESIDENT, action: 'withdraw' });
    assert.equal(await t.consent.mayExchange(exchange), false);

    // Consenting again makes a new pair; another resident cannot do it for them.
    await assert.rejects(t.consent.consentAgain(records[0]!.id, 'bbbbbbbbbbbbbbbbbbbbbbbbbb'), {
      code: 'consent-not-found',
    });
    const again = await t.consent.consentAgain(records[0]!.id, RESIDENT);
    assert.equal(again.changed, 2);
    assert.notEqual(again.records[0]!.pairId, records[0]!.pairId);
    assert.equal(await t.consent.mayExchange(exchange), true);
  });
});
