/** Cross-service exchange: consent/link policy, rates and rounding, limits, idempotency, two-phase wallet credit. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ModuleFactory, ProblemError } from '../../core/index.ts';
import { convert } from '../../points/exchange_service.ts';
import type { ExternalWallet } from '../../points/index.ts';
import { send } from '../support/http.ts';
import { staticTokens } from '../support/platform.ts';
import { assertHealthy, newKey, type PointsFixture, STAFF, startPoints } from './fixtures.ts';

/** Linked-and-consented pairs, as the identity and consent modules would answer. */
const allowed = new Set<string>();
const policy = {
  mayExchange: async (q: { resident: string; sourceService: string; targetService: string }) =>
    allowed.has(`${q.resident}:${q.sourceService}>${q.targetService}`),
};

/** A wallet that credits idempotently by reference, or refuses, or fails with an unknown outcome. */
const wallet: ExternalWallet & { mode: 'ok' | 'refuse' | 'down'; credits: Map<string, number> } = {
  mode: 'ok',
  credits: new Map<string, number>(),
  async credit(r) {
    if (wallet.mode === 'down') throw new Error('wallet timeout');
    if (wallet.mode === 'refuse') return { ok: false, reason: 'account closed' };
    wallet.credits.set(r.reference, r.amount);
    return { ok: true, walletTxId: `w-${r.reference}` };
  },
};

async function code(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'ok',
    (e: unknown) => (e instanceof ProblemError ? e.code : String(e)),
  );
}

describe('exchange rounding', () => {
  it('converts with exact integer arithmetic', () => {
    assert.equal(convert(250, 2, 3, 'floor'), 166);
    assert.equal(convert(250, 2, 3, 'ceil'), 167);
    assert.equal(convert(250, 2, 3, 'round'), 167);
    assert.equal(convert(5, 1, 2, 'round'), 3);
    assert.equal(convert(5, 1, 2, 'floor'), 2);
    assert.equal(convert(9_007_199_254, 1_000_000, 1, 'floor'), 9_007_199_254_000_000);
  });
});

describe('points exchange', () => {
  let f: PointsFixture;
  const health = (resident: string, amount: number) =>
    f.points.grant({
      currency: 'health-pt',
      pool: 'health-app',
      resident,
      amount,
      pointType: 'walk',
      expiresAt: '2026-09-30T15:00:00Z',
      idempotency: newKey('health'),
      actor: 'client:health-app',
    });
  const exchange = (resident: string, eventId: string, amount: number, target = 'saijo-lsp') =>
    f.points.exchange({
      service: 'health-app',
      eventId,
      resident,
      source: 'health-pt',
      target,
      amount,
      actor: 'client:health-app',
    });
  const balance = async (currency: string, holder: string) =>
    (await f.points.balance({ currency, holder })).balance;

  before(async () => {
    f = await startPoints({
      ports: { exchangePolicy: policy, externalWallets: { 'nepi-pay': wallet } },
      tokenVerifier: staticTokens({ health: { clientId: 'health-app', scopes: ['points:exchange'] } }),
    });
    await f.points.createCurrency(
      { code: 'health-pt', municipality: 'saijo', name: '健康ポイント', service: 'health-app' },
      STAFF,
    );
    await f.points.createPointType(
      { currency: 'health-pt', code: 'walk', name: '歩数', issuer: 'health-app' },
      STAFF,
    );
    await f.points.createPool({ currency: 'health-pt', pool: 'health-app' }, STAFF);
    await f.points.fundPool({
      currency: 'health-pt',
      pool: 'health-app',
      amount: 100_000,
      idempotency: newKey(),
      actor: STAFF,
    });
    await f.points.createCurrency(
      { code: 'nepi-pay', municipality: 'saijo', name: 'ねっぴ～Pay', service: 'nepi', externalWallet: true },
      STAFF,
    );
    await f.points.setRate(
      {
        source: 'health-pt',
        target: 'saijo-lsp',
        targetPointType: 'health',
        rateNum: 2,
        rateDen: 3,
        rounding: 'floor',
        minSource: 100,
        maxSource: 5000,
      },
      STAFF,
    );
    await f.points.setRate(
      { source: 'health-pt', target: 'nepi-pay', rateNum: 1, rateDen: 2, rounding: 'round', minSource: 1 },
      STAFF,
    );
    allowed.add('ex-1:health-app>saijo-lsp');
    allowed.add('ex-2:health-app>nepi');
  });
  after(() => f.t.stop());

  it('refuses a resident without links and consent, changing nothing', async () => {
    await health('ex-0', 1000);
    assert.equal(await code(exchange('ex-0', 'e0', 300)), 'exchange-not-permitted');
    assert.equal(await balance('health-pt', 'ex-0'), 1000);
    assert.equal(await balance('saijo-lsp', 'ex-0'), 0);
  });

  it('exchanges into a currency of this ledger at the rate, rounding down, with the target type and expiry', async () => {
    await health('ex-1', 1000);
    const done = await exchange('ex-1', 'e1', 250);
    assert.equal(done.status, 'posted');
    assert.equal(done.targetAmount, 166);
    assert.equal(done.rate, '2/3 floor');
    assert.equal(await balance('health-pt', 'ex-1'), 750);
    const lsp = await f.points.balance({ currency: 'saijo-lsp', holder: 'ex-1' });
    // health type: 30 days from 2026-04-01 JST
    assert.deepEqual(lsp.lots, [
      { pointType: 'health', amount: 166, expiresAt: '2026-05-01T15:00:00.000Z', expired: false },
    ]);

    const again = await exchange('ex-1', 'e1', 250);
    assert.equal(again.id, done.id);
    assert.equal(again.replayed, true);
    assert.equal(await balance('health-pt', 'ex-1'), 750);
    assert.equal(await code(exchange('ex-1', 'e1', 300)), 'idempotency-key-reused');
  });

  it('enforces the minimum and maximum and the resident balance', async () => {
    assert.equal(await code(exchange('ex-1', 'e-small', 99)), 'exchange-out-of-range');
    assert.equal(await code(exchange('ex-1', 'e-big', 5001)), 'exchange-out-of-range');
    assert.equal(await code(exchange('ex-1', 'e-poor', 800)), 'insufficient-points');
    assert.equal(await balance('health-pt', 'ex-1'), 750);
  });

  it('an external wallet credit posts the exchange; a refusal voids it and restores the exact lots', async () => {
    await health('ex-2', 500);
    wallet.mode = 'ok';
    const posted = await exchange('ex-2', 'w1', 101, 'nepi-pay');
    assert.equal(posted.status, 'posted');
    assert.equal(posted.targetAmount, 51);
    assert.equal(posted.walletTxId, `w-${posted.id}`);
    assert.equal(wallet.credits.get(posted.id), 51);
    assert.equal(await balance('health-pt', 'ex-2'), 399);

    wallet.mode = 'refuse';
    const voided = await exchange('ex-2', 'w2', 200, 'nepi-pay');
    assert.equal(voided.status, 'voided');
    assert.equal(wallet.credits.has(voided.id), false);
    const lots = await f.points.balance({ currency: 'health-pt', holder: 'ex-2' });
    assert.deepEqual(lots.lots, [
      { pointType: 'walk', amount: 399, expiresAt: '2026-09-30T15:00:00.000Z', expired: false },
    ]);
    assert.equal(await code(f.points.settleExchange(voided.id, 'late', STAFF)), 'exchange-state');
  });

  it('an unknown wallet outcome stays pending with the points held, until voided by staff', async () => {
    wallet.mode = 'down';
    const pending = await exchange('ex-2', 'w3', 100, 'nepi-pay');
    assert.equal(pending.status, 'pending');
    assert.equal(await balance('health-pt', 'ex-2'), 299);
    assert.deepEqual(
      (await f.points.pendingExchanges()).map((e) => e.id),
      [pending.id],
    );
    const voided = await f.points.voidExchange(pending.id, 'wallet never confirmed', STAFF);
    assert.equal(voided.status, 'voided');
    assert.equal(await balance('health-pt', 'ex-2'), 399);
    const again = await f.points.voidExchange(pending.id, 'twice', STAFF);
    assert.equal(again.status, 'voided');
    assert.equal(await balance('health-pt', 'ex-2'), 399);
    await assertHealthy(f.points);
  });

  it('partners exchange over HTTP with the points:exchange scope', async () => {
    wallet.mode = 'ok';
    const res = await send(`${f.t.url}/api/points/v1/exchanges`, {
      method: 'POST',
      headers: { authorization: 'Bearer health' },
      body: { eventId: 'h-1', resident: 'ex-1', source: 'health-pt', target: 'saijo-lsp', amount: 300 },
    });
    assert.equal(res.status, 201);
    assert.equal(res.body.status, 'posted');
    assert.equal(res.body.targetAmount, 200);
    const denied = await send(`${f.t.url}/api/points/v1/exchanges`, {
      method: 'POST',
      headers: { authorization: 'Bearer health' },
      body: { eventId: 'h-2', resident: 'ex-0', source: 'health-pt', target: 'saijo-lsp', amount: 300 },
    });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.code, 'exchange-not-permitted');
  });
});

describe('points exchange without a policy', () => {
  let f: PointsFixture;
  before(async () => {
    f = await startPoints();
  });
  after(() => f.t.stop());

  it('denies by default', async () => {
    await f.points.createCurrency({ code: 'other', municipality: 'saijo', name: 'x' }, STAFF);
    const result = await code(
      f.points.exchange({
        service: 's',
        eventId: '1',
        resident: 'r',
        source: 'other',
        target: 'saijo-lsp',
        amount: 1,
        actor: 'x',
      }),
    );
    assert.equal(result, 'exchange-not-permitted');
  });
});

describe('points exchange with the consent module assembled', () => {
  let f: PointsFixture;
  const asked: unknown[] = [];
  before(async () => {
    // stands in for the consent module's published service: mayExchange({ resident, sourceService, targetService })
    const consent: ModuleFactory = () => ({
      name: 'consent',
      migrations: null,
      routers: [],
      services: {
        mayExchange: async (q: { resident: string; sourceService: string; targetService: string }) => {
          asked.push(q);
          return q.resident === 'consented';
        },
      },
    });
    f = await startPoints({ before: [consent] });
    await f.points.createCurrency(
      { code: 'steps', municipality: 'saijo', name: '歩数', service: 'walk-app' },
      STAFF,
    );
    await f.points.createPointType(
      { currency: 'steps', code: 'walk', name: '歩数', issuer: 'walk-app' },
      STAFF,
    );
    await f.points.createPool({ currency: 'steps', pool: 'walk-app' }, STAFF);
    await f.points.fundPool({
      currency: 'steps',
      pool: 'walk-app',
      amount: 1000,
      idempotency: newKey(),
      actor: STAFF,
    });
    await f.points.setRate(
      {
        source: 'steps',
        target: 'saijo-lsp',
        targetPointType: 'health',
        rateNum: 1,
        rateDen: 1,
        rounding: 'floor',
      },
      STAFF,
    );
    for (const resident of ['consented', 'not-consented'])
      await f.points.grant({
        currency: 'steps',
        pool: 'walk-app',
        resident,
        amount: 100,
        pointType: 'walk',
        idempotency: newKey(),
        actor: STAFF,
      });
  });
  after(() => f.t.stop());

  it("asks the consent module's mayExchange and follows its answer", async () => {
    const ask = (resident: string) =>
      f.points.exchange({
        service: 'walk-app',
        eventId: resident,
        resident,
        source: 'steps',
        target: 'saijo-lsp',
        amount: 60,
        actor: 'x',
      });
    assert.equal((await ask('consented')).status, 'posted');
    assert.equal(await code(ask('not-consented')), 'exchange-not-permitted');
    assert.deepEqual(asked, [
      { resident: 'consented', sourceService: 'walk-app', targetService: 'saijo-lsp' },
      { resident: 'not-consented', sourceService: 'walk-app', targetService: 'saijo-lsp' },
    ]);
    assert.equal((await f.points.balance({ currency: 'saijo-lsp', holder: 'consented' })).balance, 60);
    assert.equal((await f.points.balance({ currency: 'steps', holder: 'not-consented' })).balance, 100);
  });
});
