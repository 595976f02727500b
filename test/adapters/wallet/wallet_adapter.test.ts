/**
 * The wallet adapter end to end: points exchange → outbox → wallet (contract double over HTTP) →
 * exchange posted or voided; outages, lost answers, restarts, staff voids and the daily reconciliation.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type AdaptersServices, adaptersModule, createAdapterPortsModule } from '../../../adapters/index.ts';
import { walletAdapterWith } from '../../../adapters/wallet/index.ts';
import { createCoreModule } from '../../../core/index.ts';
import { type PointsService, pointsModule } from '../../../points/index.ts';
import { createTestDatabase } from '../../support/database.ts';
import { send } from '../../support/http.ts';
import { startTestPlatform, staticTokens, type TestPlatform } from '../../support/platform.ts';
import { startWalletDouble, type WalletDouble } from './wallet_double.ts';

const STAFF = 'staff:setup';
const clock = { now: new Date('2026-11-23T03:00:00Z') }; // 12:00 JST
const advance = (ms: number) => {
  clock.now = new Date(clock.now.getTime() + ms);
};
/** Residents' wallet accounts, as their consent links to the wallet service would answer. */
const links = new Map<string, string>([
  ['res-a', 'NP-A'],
  ['res-b', 'NP-B'],
  ['res-frozen', 'NP-FROZEN'],
]);

describe('wallet adapter', () => {
  let wallet: WalletDouble;
  let t: TestPlatform;
  let databaseUrl: string;
  let dataDir: string;
  let points: PointsService;
  let adapters: AdaptersServices;
  let event = 0;

  async function start(): Promise<void> {
    t = await startTestPlatform({
      databaseUrl,
      dataDir,
      now: () => clock.now,
      tokenVerifier: staticTokens({
        staff: { subject: 'staff-1', clientId: 'console', scopes: ['adapters:admin'] },
      }),
      modules: [
        createCoreModule,
        pointsModule({ exchangePolicy: { mayExchange: async () => true } }),
        adaptersModule({
          adapters: [walletAdapterWith({ accounts: async (resident) => links.get(resident) })],
          env: {
            WALLET_BASE_URL: wallet.url,
            WALLET_CLIENT_ID: 'tsunagu',
            WALLET_CLIENT_SECRET: 'wallet-secret',
            WALLET_CURRENCY: 'nepi-pay',
            WALLET_MAX_ATTEMPTS: '3',
            WALLET_TIMEOUT_MS: '2000',
            WALLET_RECONCILE_AT_JST: 'off',
            ADAPTERS_OUTBOX_POLL_MS: '0',
            ADAPTERS_OUTBOX_BACKOFF_MS: '1000',
            ADAPTERS_OUTBOX_BACKOFF_MAX_MS: '1000',
          },
        }),
        createAdapterPortsModule,
      ],
    });
    points = t.platform.services['points'] as PointsService;
    adapters = t.platform.services['adapters'] as AdaptersServices;
  }

  /** Delivers what is due, moving the clock past each backoff, until nothing is pending. */
  async function drain(rounds = 5): Promise<void> {
    for (let i = 0; i < rounds; i += 1) {
      await adapters.kit.outbox.runOnce();
      advance(2000);
    }
  }

  const exchange = (resident: string, amount: number, eventId = `ev-${++event}`) =>
    points.exchange({
      service: 'health-app',
      eventId,
      resident,
      source: 'health-pt',
      target: 'nepi-pay',
      amount,
      actor: 'client:health-app',
    });
  /** The exchange's current state (a replay of the same event answers it). */
  const current = async (eventId: string) =>
    points.exchange({
      service: 'health-app',
      eventId,
      resident: 'x',
      source: 'health-pt',
      target: 'nepi-pay',
      amount: Number(eventId.split(':')[1] ?? 0),
      actor: 'client:health-app',
    });
  const healthBalance = async (resident: string) =>
    (await points.balance({ currency: 'health-pt', holder: resident })).balance;
  const walletTxs = (reference: string) => wallet.transactions.filter((x) => x.external_id === reference);

  before(async () => {
    wallet = await startWalletDouble();
    wallet.now = () => clock.now;
    wallet.openAccount('NP-A', 0);
    wallet.openAccount('NP-B', 0);
    wallet.openAccount('NP-FROZEN', 0, { frozen: true });
    databaseUrl = await createTestDatabase();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'tsunagu-wallet-'));
    await start();
    await points.createCurrency(
      { code: 'health-pt', municipality: 'kasai', name: '健幸ポイント', service: 'health-app' },
      STAFF,
    );
    await points.createPointType(
      { currency: 'health-pt', code: 'walk', name: '歩数', issuer: 'health-app' },
      STAFF,
    );
    await points.createPool({ currency: 'health-pt', pool: 'health-app' }, STAFF);
    await points.fundPool({
      currency: 'health-pt',
      pool: 'health-app',
      amount: 1_000_000,
      idempotency: { scope: 't', key: 'fund' },
      actor: STAFF,
    });
    await points.createCurrency(
      { code: 'nepi-pay', municipality: 'kasai', name: 'ねっぴ～Pay', service: 'nepi', externalWallet: true },
      STAFF,
    );
    await points.setRate(
      { source: 'health-pt', target: 'nepi-pay', rateNum: 1, rateDen: 1, rounding: 'floor' },
      STAFF,
    );
    for (const resident of [...links.keys(), 'res-unlinked'])
      await points.grant({
        currency: 'health-pt',
        pool: 'health-app',
        resident,
        amount: 10_000,
        pointType: 'walk',
        idempotency: { scope: 't', key: `grant-${resident}` },
        actor: STAFF,
      });
  });
  after(async () => {
    await t.stop();
    await wallet.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  beforeEach(() => {
    wallet.down = false;
  });

  it('credits the wallet once through the outbox, keyed by the exchange id, and posts the exchange', async () => {
    const pending = await exchange('res-a', 500, 'ev-ok:500');
    assert.equal(pending.status, 'pending');
    assert.equal(await healthBalance('res-a'), 9500);
    await drain(1);
    const posted = await current('ev-ok:500');
    assert.equal(posted.status, 'posted');
    const [tx] = walletTxs(`tsunagu-ex-${pending.id}`);
    assert.ok(tx);
    assert.equal(posted.walletTxId, tx.id);
    assert.deepEqual([tx.type, tx.account_id, tx.amount], ['credit', 'NP-A', 500]);
    assert.deepEqual(
      wallet.log.filter((l) => l.path === '/v1/credits').map((l) => [l.key, l.status]),
      [[`tsunagu-ex-${pending.id}`, 201]],
    );
    // A replayed exchange event neither holds again nor credits again.
    const replay = await exchange('res-a', 500, 'ev-ok:500');
    assert.equal(replay.replayed, true);
    await drain(1);
    assert.equal(walletTxs(`tsunagu-ex-${pending.id}`).length, 1);
    assert.equal(wallet.accounts.get('NP-A')!.balance, 500);
    assert.equal(await healthBalance('res-a'), 9500);
  });

  it('a refusal by the wallet voids the exchange and restores the points', async () => {
    const ex = await exchange('res-frozen', 300, 'ev-frozen:300');
    await drain(1);
    const voided = await current('ev-frozen:300');
    assert.equal(voided.status, 'voided');
    assert.equal(await healthBalance('res-frozen'), 10_000);
    const movements = await send(`${t.url}/api/admin/adapters/wallet/movements?status=refused`, {
      headers: { authorization: 'Bearer staff' },
    });
    assert.deepEqual(
      movements.body.items.map((m: { reference: string; reason: string }) => [m.reference, m.reason]),
      [[`tsunagu-ex-${ex.id}`, 'wallet refused: account_frozen']],
    );
  });

  it('a resident without a linked wallet account gets the exchange voided at once', async () => {
    const ex = await exchange('res-unlinked', 100, 'ev-unlinked:100');
    assert.equal(ex.status, 'voided');
    assert.equal(await healthBalance('res-unlinked'), 10_000);
  });

  it('a wallet outage past the retry budget voids the exchange, restores the points and leaves a dead letter', async () => {
    const before = wallet.accounts.get('NP-B')!.balance;
    wallet.down = true;
    const ex = await exchange('res-b', 700, 'ev-outage:700');
    assert.equal(await healthBalance('res-b'), 9300);
    await drain(2);
    assert.equal((await current('ev-outage:700')).status, 'pending'); // still retrying
    await drain(2);
    assert.equal((await current('ev-outage:700')).status, 'voided');
    assert.equal(await healthBalance('res-b'), 10_000);
    assert.equal(wallet.accounts.get('NP-B')!.balance, before);
    const dead = await send(`${t.url}/api/admin/adapters/dead-letters?adapter=wallet`, {
      headers: { authorization: 'Bearer staff' },
    });
    assert.equal(dead.status, 200);
    const letter = dead.body.items.find(
      (m: { key: string }) => m.key === `wallet:credit:tsunagu-ex-${ex.id}`,
    );
    assert.equal(letter.attempts, 3);
    assert.match(letter.lastError, /exchange voided, points restored/);
    // Staff retrying the dead letter once the wallet is back never credits a voided exchange.
    wallet.down = false;
    const retry = await send(`${t.url}/api/admin/adapters/outbox/${letter.id}/retry`, {
      method: 'POST',
      headers: { authorization: 'Bearer staff' },
    });
    assert.ok(retry.status < 300, JSON.stringify(retry.body));
    await drain(1);
    assert.equal(walletTxs(`tsunagu-ex-${ex.id}`).length, 0);
    assert.equal(await healthBalance('res-b'), 10_000);
  });

  it('a lost answer is resent with the same key and applied once', async () => {
    wallet.applyThenFail(1);
    const ex = await exchange('res-a', 40, 'ev-lost:40');
    await drain(2);
    assert.equal((await current('ev-lost:40')).status, 'posted');
    assert.equal(walletTxs(`tsunagu-ex-${ex.id}`).length, 1);
    const sends = wallet.log.filter((l) => l.key === `tsunagu-ex-${ex.id}`).map((l) => l.status);
    assert.deepEqual(sends, [500, 200]);
  });

  it('pending credits survive a restart and are delivered once by the next process', async () => {
    wallet.down = true;
    const ex = await exchange('res-b', 60, 'ev-restart:60');
    await drain(1); // attempt 1 fails
    await t.stop();
    wallet.down = false;
    await start();
    await drain(1);
    assert.equal((await current('ev-restart:60')).status, 'posted');
    assert.equal(walletTxs(`tsunagu-ex-${ex.id}`).length, 1);
    assert.equal(await healthBalance('res-b'), 9940);
  });

  it('a credit that lands after staff voided the exchange is taken back by a compensating debit', async () => {
    wallet.down = true;
    const ex = await exchange('res-a', 25, 'ev-staffvoid:25');
    await drain(1);
    await points.voidExchange(ex.id, 'resident asked', 'staff:1');
    const walletBefore = wallet.accounts.get('NP-A')!.balance;
    wallet.down = false;
    await drain(2);
    const reference = `tsunagu-ex-${ex.id}`;
    assert.deepEqual(
      wallet.transactions.filter((x) => x.external_id.startsWith(reference)).map((x) => [x.type, x.amount]),
      [
        ['credit', 25],
        ['debit', 25],
      ],
    );
    assert.equal(wallet.accounts.get('NP-A')!.balance, walletBefore);
    assert.equal((await current('ev-staffvoid:25')).status, 'voided');
  });

  it('the daily reconciliation compares both sides, posts credits found in the wallet and reports the rest', async () => {
    wallet.applyThenFail(1);
    const found = await exchange('res-a', 15, 'ev-found:15');
    await adapters.kit.outbox.runOnce(); // answer lost: still pending here, credited there
    assert.equal((await current('ev-found:15')).status, 'pending');
    wallet.inject({ type: 'credit', account_id: 'NP-B', amount: 999, external_id: 'tsunagu-ex-99999' });
    wallet.inject({ type: 'credit', account_id: 'NP-B', amount: 5, external_id: 'shop-campaign-1' }); // not ours

    const res = await send(`${t.url}/api/admin/adapters/wallet/reconciliations`, {
      method: 'POST',
      headers: { authorization: 'Bearer staff' },
      body: { day: '2026-11-23' },
    });
    assert.equal(res.status, 201);
    assert.equal(res.body.status, 'discrepancies');
    const byResult = (result: string) =>
      res.body.items
        .filter((i: { result: string }) => i.result === result)
        .map((i: { reference: string }) => i.reference);
    assert.deepEqual(byResult('settled-now'), [`tsunagu-ex-${found.id}`]);
    assert.deepEqual(byResult('unknown-in-platform'), ['tsunagu-ex-99999']);
    assert.equal((await current('ev-found:15')).status, 'posted');
    assert.deepEqual(res.body.summary.results, {
      matched: 4, // ok, lost answer, restart, the compensating debit
      compensated: 1,
      refused: 1,
      voided: 1,
      'settled-now': 1,
      'unknown-in-platform': 1,
    });
    // The outbox message of the credit found meanwhile completes without crediting again.
    await drain(2);
    assert.equal(walletTxs(`tsunagu-ex-${found.id}`).length, 1);
    const day = await send(`${t.url}/api/admin/adapters/wallet/reconciliations/2026-11-23`, {
      headers: { authorization: 'Bearer staff' },
    });
    assert.equal(day.body.id, res.body.id);
    const audit = await t.platform.db.query(
      `SELECT actor, details FROM core.audit_log WHERE action = 'adapters.wallet.reconcile' ORDER BY seq DESC LIMIT 1`,
    );
    assert.deepEqual(audit.rows[0], {
      actor: 'staff:staff-1',
      details: { day: '2026-11-23', status: 'discrepancies', discrepancies: 1 },
    });
  });

  it('a reconciliation while the wallet is down is stored as failed; bad days are refused', async () => {
    wallet.down = true;
    const report = (await adapters.adapters['wallet']) as {
      reconcile: (d: string, a: string) => Promise<{ status: string; summary: unknown }>;
    };
    const failed = await report.reconcile('2026-11-23', 'system:test');
    assert.deepEqual(
      [failed.status, failed.summary],
      ['failed', { reason: 'wallet answered 503 unavailable' }],
    );
    wallet.down = false;
    const bad = await send(`${t.url}/api/admin/adapters/wallet/reconciliations`, {
      method: 'POST',
      headers: { authorization: 'Bearer staff' },
      body: { day: '23/11/2026' },
    });
    assert.deepEqual([bad.status, bad.body.code], [400, 'validation-failed']);
    const none = await send(`${t.url}/api/admin/adapters/wallet/reconciliations/2020-01-01`, {
      headers: { authorization: 'Bearer staff' },
    });
    assert.deepEqual([none.status, none.body.code], [404, 'wallet-reconciliation-unknown']);
  });
});
