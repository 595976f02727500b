/** Cashback campaigns with a frozen clock: permanent (immediate, merchant-funded) and limited (period end). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertHealthy, grant, newKey, type PointsFixture, pay, STAFF, startPoints } from './fixtures.ts';

describe('points campaigns', () => {
  let f: PointsFixture;
  const balance = async (holder: string, kind: 'resident' | 'merchant' = 'resident') =>
    (await f.points.balance({ currency: 'saijo-lsp', kind, holder })).balance;

  before(async () => {
    f = await startPoints();
    await f.points.createCampaign(
      {
        currency: 'saijo-lsp',
        code: 'm1-cashback',
        kind: 'permanent',
        merchant: 'm1',
        pointType: 'event',
        rateBp: 500,
        perTxnCap: 30,
        perResidentCap: 50,
        startsAt: '2026-01-01T00:00:00Z',
      },
      STAFF,
    );
    await f.points.createCampaign(
      {
        currency: 'saijo-lsp',
        code: 'spring',
        kind: 'limited',
        merchant: 'm2',
        pointType: 'event',
        rateBp: 1000,
        perTxnCap: 100,
        perResidentCap: 150,
        startsAt: '2026-03-31T15:00:00Z',
        endsAt: '2026-04-30T15:00:00Z',
      },
      STAFF,
    );
    await f.points.fundCampaign({
      currency: 'saijo-lsp',
      code: 'spring',
      pool: 'city',
      amount: 10_000,
      idempotency: newKey(),
      actor: STAFF,
    });
  });
  after(() => f.t.stop());

  it('permanent cashback is paid by the merchant in the same journal, capped per payment and per month', async () => {
    await grant(f, 'cb-1', 3000);
    const first = await pay(f, 'cb-1', 'm1', 400);
    assert.deepEqual(
      first.postings?.map((p) => [p.kind, p.holder, p.amount]),
      [
        ['resident', 'cb-1', -400],
        ['merchant', 'm1', 400],
        ['merchant', 'm1', -20],
        ['resident', 'cb-1', 20],
      ],
    );
    await pay(f, 'cb-1', 'm1', 1000); // 5% = 50, per-payment cap 30, 30 of the monthly 50 left → 30
    await pay(f, 'cb-1', 'm1', 400); // monthly cap reached → no cashback
    assert.equal(await balance('cb-1'), 3000 - 1800 + 50);
    assert.equal(await balance('m1', 'merchant'), 1750);
    f.clock.now = new Date('2026-05-01T00:00:00Z'); // 09:00 JST on 1 May: a new month
    await pay(f, 'cb-1', 'm1', 100);
    assert.equal(await balance('cb-1'), 3000 - 1900 + 55);
    f.clock.now = new Date('2026-04-01T03:00:00Z');
  });

  it('a limited campaign accrues during its period and posts once after it ends', async () => {
    await grant(f, 'sp-1', 5000);
    await grant(f, 'sp-2', 5000);
    const p = await pay(f, 'sp-1', 'm2', 600); // 10% = 60, not posted now
    assert.equal(p.postings?.length, 2);
    await pay(f, 'sp-1', 'm2', 2000); // 200 → per-payment cap 100 → 100 of the remaining 90 → 90
    await pay(f, 'sp-2', 'm2', 300); // 30
    await pay(f, 'sp-2', 'm1', 300); // other merchant: not in this campaign (m1's own cashback applies)
    assert.equal(await balance('sp-1'), 5000 - 2600);
    assert.deepEqual(await f.points.settleCampaigns(new Date('2026-04-30T14:59:59Z')), []);
    const settled = await f.points.settleCampaigns(new Date('2026-04-30T15:00:00Z'));
    assert.equal(settled.length, 1);
    assert.deepEqual(
      { ...settled[0], journalId: undefined },
      {
        campaign: 'spring',
        residents: 2,
        total: 180,
        journalId: undefined,
      },
    );
    assert.equal(await balance('sp-1'), 5000 - 2600 + 150);
    assert.equal(await balance('sp-2'), 5000 - 600 + 15 + 30);
    assert.deepEqual(await f.points.settleCampaigns(new Date('2026-05-02T00:00:00Z')), []);
    await assertHealthy(f.points);
  });

  it('concurrent payments of one resident never exceed the per-resident cap', async () => {
    await f.points.createCampaign(
      {
        currency: 'saijo-lsp',
        code: 'rush',
        kind: 'limited',
        pointType: 'event',
        rateBp: 10_000,
        perTxnCap: 100,
        perResidentCap: 150,
        startsAt: '2026-03-01T00:00:00Z',
        endsAt: '2026-06-01T00:00:00Z',
      },
      STAFF,
    );
    await grant(f, 'rush-1', 5000);
    await Promise.all(Array.from({ length: 12 }, () => pay(f, 'rush-1', 'm2', 100)));
    const { rows } = await f.t.platform.db.query(
      `SELECT a.amount::int FROM points.campaign_accrual a JOIN points.campaign c ON c.id = a.campaign_id
        WHERE c.code = 'rush' AND a.resident = 'rush-1'`,
    );
    assert.deepEqual(rows, [{ amount: 150 }]);
  });

  it('a reversed payment gives back the campaign headroom it used', async () => {
    await grant(f, 'rush-2', 1000);
    const accrual = async () =>
      (
        await f.t.platform.db.query(
          `SELECT a.amount::int FROM points.campaign_accrual a JOIN points.campaign c ON c.id = a.campaign_id
            WHERE c.code = 'rush' AND a.resident = 'rush-2'`,
        )
      ).rows[0]?.amount;
    const paid = await pay(f, 'rush-2', 'm2', 100);
    assert.equal(await accrual(), 100);
    await f.points.reverse({
      journalId: paid.journalId,
      reason: 'wrong amount',
      idempotency: newKey(),
      actor: STAFF,
    });
    assert.equal(await accrual(), 0);
    await pay(f, 'rush-2', 'm2', 120);
    assert.equal(await accrual(), 100);
  });

  it('settlement offsets the cashback the merchant paid out', async () => {
    const april = await f.points.settle({
      currency: 'saijo-lsp',
      from: '2026-03-31T15:00:00Z',
      to: '2026-04-30T15:00:00Z',
      actor: STAFF,
    });
    const m1 = april.find((s) => s.merchant === 'm1')!;
    assert.deepEqual(
      { received: m1.received, cashback: m1.cashback, net: m1.net },
      {
        received: 1800 + 300,
        cashback: 50 + 15,
        net: 2100 - 65,
      },
    );
  });
});
