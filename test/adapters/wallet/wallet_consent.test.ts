/**
 * Kasai's flow end to end with the real identity, consent and ledger modules: a resident linked to
 * the health app and to ねっぴ～Pay, with a consented points-history flow for point exchange,
 * exchanges health points into the wallet (the account from the consent link); without the flow
 * consent the exchange is refused and nothing moves.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type AdaptersServices, adaptersModule, createAdapterPortsModule } from '../../../adapters/index.ts';
import { walletAdapter } from '../../../adapters/wallet/index.ts';
import { type ConsentServices, createConsentModule } from '../../../consent/index.ts';
import { createCoreModule, ProblemError } from '../../../core/index.ts';
import { createIdpModule, type IdpServices } from '../../../idp/index.ts';
import { type PointsService, pointsModule } from '../../../points/index.ts';
import { startTestPlatform, type TestPlatform } from '../../support/platform.ts';
import { startWalletDouble, type WalletDouble } from './wallet_double.ts';

describe('wallet exchange through consent links', () => {
  let wallet: WalletDouble;
  let t: TestPlatform;
  let points: PointsService;
  let consent: ConsentServices;
  let adapters: AdaptersServices;
  let health: string;
  let nepi: string;
  const staff = 'staff:setup';

  async function resident(withFlow: boolean): Promise<string> {
    const idp = t.platform.services['idp'] as IdpServices;
    const id = await t.platform.db.transaction((tx) => idp.accounts.create(tx, 'test', null));
    await consent.linkVerified({
      resident: id,
      service: health,
      accountRef: `H-${id}`,
      method: 'oauth-redirect',
    });
    await consent.linkVerified({
      resident: id,
      service: nepi,
      accountRef: `NP-${id}`,
      method: 'oauth-redirect',
    });
    wallet.openAccount(`NP-${id}`, 0);
    if (withFlow) {
      const notice = await consent.currentNotice('nepi-exchange');
      await consent.give({
        resident: id,
        service: nepi,
        source: health,
        items: ['points-history'],
        purpose: 'point-exchange',
        notice: { id: 'nepi-exchange', version: notice!.latest.version },
      });
    }
    await points.grant({
      currency: 'health-pt',
      pool: 'health-app',
      resident: id,
      amount: 1000,
      pointType: 'walk',
      idempotency: { scope: 't', key: `g-${id}` },
      actor: staff,
    });
    return id;
  }

  before(async () => {
    wallet = await startWalletDouble();
    t = await startTestPlatform({
      modules: [
        createCoreModule,
        createIdpModule,
        createConsentModule,
        pointsModule(),
        adaptersModule({
          adapters: [walletAdapter],
          env: {
            WALLET_BASE_URL: wallet.url,
            WALLET_CLIENT_ID: 'tsunagu',
            WALLET_CLIENT_SECRET: 'wallet-secret',
            WALLET_CURRENCY: 'nepi-pay',
            WALLET_RECONCILE_AT_JST: 'off',
            ADAPTERS_OUTBOX_POLL_MS: '0',
          },
        }),
        createAdapterPortsModule,
      ],
    });
    points = t.platform.services['points'] as PointsService;
    consent = t.platform.services['consent'] as ConsentServices;
    adapters = t.platform.services['adapters'] as AdaptersServices;
    const idp = t.platform.services['idp'] as IdpServices;
    const client = async (name: string) =>
      (
        await idp.clients.create(
          { name, grantTypes: ['client_credentials'], scopes: ['points:exchange'] },
          staff,
        )
      ).client.clientId;
    health = await client('健幸アプリ');
    nepi = await client('ねっぴ～Pay');
    await consent.publishNotice(
      {
        noticeId: 'nepi-exchange',
        service: nepi,
        purposes: ['point-exchange'],
        titleJa: 'ポイント交換',
        titleEn: 'Point exchange',
        bodyJa: '健幸ポイントをねっぴ～Payに交換します。',
        bodyEn: 'Health points are exchanged into Neppi Pay.',
        material: true,
      },
      staff,
    );
    await points.createCurrency(
      { code: 'health-pt', municipality: 'kasai', name: '健幸ポイント', service: health },
      staff,
    );
    await points.createPointType(
      { currency: 'health-pt', code: 'walk', name: '歩数', issuer: 'health-app' },
      staff,
    );
    await points.createPool({ currency: 'health-pt', pool: 'health-app' }, staff);
    await points.fundPool({
      currency: 'health-pt',
      pool: 'health-app',
      amount: 100_000,
      idempotency: { scope: 't', key: 'fund' },
      actor: staff,
    });
    await points.createCurrency(
      { code: 'nepi-pay', municipality: 'kasai', name: 'ねっぴ～Pay', service: nepi, externalWallet: true },
      staff,
    );
    await points.setRate(
      { source: 'health-pt', target: 'nepi-pay', rateNum: 1, rateDen: 1, rounding: 'floor' },
      staff,
    );
  });
  after(async () => {
    await t.stop();
    await wallet.stop();
  });

  const exchange = (resident: string, eventId: string, amount: number) =>
    points.exchange({
      service: health,
      eventId,
      resident,
      source: 'health-pt',
      target: 'nepi-pay',
      amount,
      actor: `client:${health}`,
    });

  it('credits the account the resident linked, once', async () => {
    const id = await resident(true);
    const ex = await exchange(id, 'kasai-1', 400);
    assert.equal(ex.status, 'pending');
    await adapters.kit.outbox.runOnce();
    assert.equal((await exchange(id, 'kasai-1', 400)).status, 'posted');
    assert.equal(wallet.accounts.get(`NP-${id}`)!.balance, 400);
    assert.equal((await points.balance({ currency: 'health-pt', holder: id })).balance, 600);
  });

  it('without the data-flow consent nothing is held, queued or credited', async () => {
    const id = await resident(false);
    const refused = await exchange(id, 'kasai-2', 400).catch((e: unknown) => e);
    assert.ok(refused instanceof ProblemError);
    assert.equal(refused.code, 'exchange-not-permitted');
    await adapters.kit.outbox.runOnce();
    assert.equal(wallet.accounts.get(`NP-${id}`)!.balance, 0);
    assert.equal((await points.balance({ currency: 'health-pt', holder: id })).balance, 1000);
    assert.equal((await adapters.kit.outbox.list({ adapter: 'wallet' })).length, 1); // the first test's only
  });
});
