/** Reports: totals per issuer, type, merchant and place; KPIs; unused cash-charged balance on a base date. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { send } from '../support/http.ts';
import { staticTokens } from '../support/platform.ts';
import { grant, newKey, type PointsFixture, pay, STAFF, startPoints } from './fixtures.ts';

const APRIL = { from: '2026-03-31T15:00:00.000Z', to: '2026-04-30T15:00:00.000Z' };

describe('points reports', () => {
  let f: PointsFixture;
  before(async () => {
    f = await startPoints({
      tokenVerifier: staticTokens({
        staff: { subject: 'ito', clientId: 'console', scopes: ['points:admin'] },
      }),
    });
    await grant(f, 'rp-1', 1000, 'event');
    await grant(f, 'rp-2', 200, 'health');
    await f.points.charge({
      currency: 'saijo-lsp',
      pool: 'city',
      resident: 'rp-1',
      merchant: 'm1',
      amount: 500,
      pointType: 'cash',
      idempotency: newKey(),
      actor: STAFF,
    });
    await pay(f, 'rp-1', 'm1', 700);
    await pay(f, 'rp-2', 'm2', 100);
    const mistake = await pay(f, 'rp-2', 'm2', 50);
    await f.points.reverse({
      journalId: mistake.journalId,
      reason: 'test',
      idempotency: newKey(),
      actor: STAFF,
    });
    f.clock.now = new Date('2026-04-02T03:00:00Z');
    await pay(f, 'rp-1', 'm1', 600); // 300 event + 300 cash
    f.clock.now = new Date('2026-05-02T00:00:00Z');
    await f.points.runExpiry(); // rp-2's remaining 100 health points
  });
  after(() => f.t.stop());

  it('totals issued, used per merchant and place, and expired, leaving reversed payments out', async () => {
    const totals = await f.points.totals({
      currency: 'saijo-lsp',
      from: APRIL.from,
      to: '2026-05-31T15:00:00.000Z',
    });
    assert.deepEqual(totals.issued, [
      { pointType: 'cash', issuer: 'saijo-pay-co', kind: 'charge', amount: 500 },
      { pointType: 'event', issuer: 'saijo-city', kind: 'grant', amount: 1000 },
      { pointType: 'health', issuer: 'saijo-city', kind: 'grant', amount: 200 },
    ]);
    assert.deepEqual(totals.used, [
      { pointType: 'cash', issuer: 'saijo-pay-co', merchant: 'm1', place: 'ekimae', amount: 300 },
      { pointType: 'event', issuer: 'saijo-city', merchant: 'm1', place: 'ekimae', amount: 1000 },
      { pointType: 'health', issuer: 'saijo-city', merchant: 'm2', place: 'ishizuchi', amount: 100 },
    ]);
    assert.deepEqual(totals.expired, [{ pointType: 'health', issuer: 'saijo-city', amount: 100 }]);
  });

  it('KPIs over April', async () => {
    const res = await send(
      `${f.t.url}/api/points/admin/reports/kpis?currency=saijo-lsp&from=${APRIL.from}&to=${APRIL.to}`,
      { headers: { authorization: 'Bearer staff' } },
    );
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      activeResidents: 2,
      activeMerchants: 2,
      payments: 3,
      used: 1400,
      issued: 1700,
      expired: 0,
      circulationRate: 0.8235,
      expiryRate: 0,
    });
  });

  it('reconstructs the unused cash-charged balance per issuer at the end of a base date', async () => {
    const at = async (baseDate: string) =>
      (await f.points.unusedCashBalance({ currency: 'saijo-lsp', baseDate })).issuers;
    assert.deepEqual(await at('2026-03-31'), [{ issuer: 'saijo-pay-co', pointType: 'cash', unused: 0 }]);
    assert.deepEqual(await at('2026-04-01'), [{ issuer: 'saijo-pay-co', pointType: 'cash', unused: 500 }]);
    assert.deepEqual(await at('2026-04-02'), [{ issuer: 'saijo-pay-co', pointType: 'cash', unused: 200 }]);
    const statutory = await f.points.unusedCashBalance({ currency: 'saijo-lsp', baseDate: '2026-09-30' });
    assert.equal(statutory.statutoryBaseDate, true);
    assert.equal(statutory.asOf, '2026-09-30T15:00:00.000Z');
  });
});
