/** The wallet REST client against the contract test double: outcomes, idempotency, auth, mapping, faults. */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createWalletClient, type WalletApi } from '../../../adapters/wallet/wallet_client.ts';
import { walletSettingsFromEnv, WalletSettingsError } from '../../../adapters/wallet/wallet_settings.ts';
import { freePort } from '../../support/ports.ts';
import { startWalletDouble, type WalletDouble } from './wallet_double.ts';

function clientFor(url: string, env: Record<string, string> = {}): WalletApi {
  const settings = walletSettingsFromEnv({
    WALLET_BASE_URL: url,
    WALLET_CLIENT_ID: 'tsunagu',
    WALLET_CLIENT_SECRET: 'wallet-secret',
    WALLET_TIMEOUT_MS: '1000',
    ...env,
  });
  assert.ok(settings);
  return createWalletClient(settings);
}

describe('wallet client (contract v1)', () => {
  let wallet: WalletDouble;
  let client: WalletApi;
  before(async () => {
    wallet = await startWalletDouble({ pageSize: 2 });
    client = clientFor(wallet.url);
    wallet.openAccount('NP-1', 1000);
    wallet.openAccount('NP-frozen', 0, { frozen: true });
    wallet.openAccount('NP-capped', 900, { limit: 1000 });
  });
  after(() => wallet.stop());

  it('credits once per reference; a resend is a replay of the same transaction', async () => {
    const first = await client.credit({ account: 'NP-1', amount: 500, reference: 'ex-1' });
    assert.equal(first.kind, 'done');
    assert.ok(first.kind === 'done' && !first.replayed);
    const again = await client.credit({ account: 'NP-1', amount: 500, reference: 'ex-1' });
    assert.ok(again.kind === 'done' && again.replayed);
    assert.equal(again.value.id, first.kind === 'done' ? first.value.id : '');
    assert.equal(wallet.accounts.get('NP-1')!.balance, 1500);
    assert.deepEqual(
      {
        type: again.value.type,
        amount: again.value.amount,
        reference: again.value.reference,
        balanceAfter: again.value.balanceAfter,
      },
      { type: 'credit', amount: 500, reference: 'ex-1', balanceAfter: 1500 },
    );
  });

  it('reports definite refusals with the wallet code and changes nothing', async () => {
    const cases = [
      [{ account: 'NP-none', amount: 1, reference: 'r-none' }, 'account_not_found', 404],
      [{ account: 'NP-frozen', amount: 1, reference: 'r-frozen' }, 'account_frozen', 409],
      [{ account: 'NP-capped', amount: 101, reference: 'r-cap' }, 'limit_exceeded', 422],
      [{ account: 'NP-1', amount: 2, reference: 'ex-1' }, 'idempotency_key_reused', 422],
    ] as const;
    const before = wallet.transactions.length;
    for (const [movement, code, status] of cases) {
      const r = await client.credit(movement);
      assert.deepEqual(r.kind === 'refused' ? [r.code, r.status] : r, [code, status]);
    }
    const debit = await client.debit({ account: 'NP-capped', amount: 901, reference: 'r-debit' });
    assert.ok(debit.kind === 'refused' && debit.code === 'insufficient_balance');
    assert.equal(wallet.transactions.length, before);
    assert.equal(wallet.accounts.get('NP-capped')!.balance, 900);
  });

  it('debits, reads balances and finds transactions by reference across pages', async () => {
    const d = await client.debit({ account: 'NP-1', amount: 200, reference: 'ex-d1' });
    assert.ok(d.kind === 'done' && d.value.type === 'debit' && d.value.balanceAfter === 1300);
    const b = await client.balance('NP-1');
    assert.deepEqual(b, { kind: 'done', value: { account: 'NP-1', balance: 1300 }, replayed: false });
    for (let i = 0; i < 4; i += 1)
      await client.credit({ account: 'NP-1', amount: 1, reference: `page-${i}` });
    const found = await client.findByReference('page-3');
    assert.ok(found.kind === 'done' && found.value?.reference === 'page-3');
    const missing = await client.findByReference('never');
    assert.deepEqual(missing, { kind: 'done', value: null, replayed: false });
    const all = await client.transactions(new Date(Date.now() - 60_000), new Date(Date.now() + 60_000));
    assert.ok(all.kind === 'done');
    assert.equal(all.value.length, wallet.transactions.length); // 2 per page: the cursor was followed
  });

  it('a 5xx before or after applying is an unknown outcome; the resend applies exactly once', async () => {
    wallet.failNext(1);
    const refusedAtDoor = await client.credit({ account: 'NP-1', amount: 10, reference: 'ex-5xx' });
    assert.equal(refusedAtDoor.kind, 'unknown');
    wallet.applyThenFail(1);
    const lost = await client.credit({ account: 'NP-1', amount: 10, reference: 'ex-5xx' });
    assert.equal(lost.kind, 'unknown');
    const balance = wallet.accounts.get('NP-1')!.balance;
    const resent = await client.credit({ account: 'NP-1', amount: 10, reference: 'ex-5xx' });
    assert.ok(resent.kind === 'done' && resent.replayed);
    assert.equal(wallet.accounts.get('NP-1')!.balance, balance);
    assert.equal(wallet.transactions.filter((t) => t.external_id === 'ex-5xx').length, 1);
  });

  it('an outage is unknown with the Retry-After delay', async () => {
    wallet.down = true;
    const r = await client.credit({ account: 'NP-1', amount: 10, reference: 'ex-down' });
    wallet.down = false;
    assert.deepEqual(r, { kind: 'unknown', reason: 'wallet answered 503 unavailable', retryAfterMs: 1000 });
  });

  it('fetches a new token once when the wallet revoked the old one', async () => {
    wallet.revokeTokens();
    const r = await client.balance('NP-1');
    assert.equal(r.kind, 'done');
    const wrong = clientFor(wallet.url, { WALLET_CLIENT_SECRET: 'wrong' });
    const denied = await wrong.credit({ account: 'NP-1', amount: 1, reference: 'ex-wrong-secret' });
    assert.deepEqual(denied, { kind: 'unknown', reason: 'token endpoint answered 401 invalid_client' });
  });

  it('a silent or absent wallet is unknown (timeout, connection refused)', async () => {
    const silent = createTcpServer(() => {}); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const slow = clientFor(`http://127.0.0.1:${port}`, {
      WALLET_AUTH: 'api-key',
      WALLET_API_KEY: 'k',
      WALLET_TIMEOUT_MS: '200',
    });
    assert.deepEqual(await slow.balance('NP-1'), { kind: 'unknown', reason: 'timeout' });
    silent.close();
    const closed = clientFor(`http://127.0.0.1:${await freePort()}`, {
      WALLET_AUTH: 'api-key',
      WALLET_API_KEY: 'k',
    });
    const r = await closed.credit({ account: 'NP-1', amount: 1, reference: 'x' });
    assert.equal(r.kind, 'unknown');
  });

  it('maps paths and field names for a wallet that names them differently (API key auth)', async () => {
    const seen: Array<{ path: string; body: unknown; key: string | undefined; apiKey: string | undefined }> =
      [];
    const other = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        seen.push({
          path: req.url ?? '',
          body: text ? JSON.parse(text) : null,
          key: req.headers['idempotency-key'] as string | undefined,
          apiKey: req.headers['x-partner-key'] as string | undefined,
        });
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            txn_no: 'T-9',
            kind: 'credit',
            user_id: 'U-7',
            value: 300,
            partner_ref: 'ex-9',
            state: 'ok',
            ts: '2026-11-23T00:00:00Z',
          }),
        );
      });
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const port = (other.address() as { port: number }).port;
    const mapped = clientFor(`http://127.0.0.1:${port}/api`, {
      WALLET_AUTH: 'api-key',
      WALLET_API_KEY: 'pk-1',
      WALLET_API_KEY_HEADER: 'X-Partner-Key',
      WALLET_PATHS: JSON.stringify({ credit: '/charge' }),
      WALLET_FIELDS: JSON.stringify({
        account: 'user_id',
        amount: 'value',
        reference: 'partner_ref',
        description: 'memo',
        transaction: '',
        id: 'txn_no',
        type: 'kind',
        status: 'state',
        createdAt: 'ts',
      }),
    });
    const r = await mapped.credit({ account: 'U-7', amount: 300, reference: 'ex-9', description: '交換' });
    other.close();
    assert.deepEqual(seen[0], {
      path: '/api/charge',
      body: { user_id: 'U-7', value: 300, partner_ref: 'ex-9', memo: '交換' },
      key: 'ex-9',
      apiKey: 'pk-1',
    });
    assert.deepEqual(r, {
      kind: 'done',
      replayed: false,
      value: {
        id: 'T-9',
        type: 'credit',
        account: 'U-7',
        amount: 300,
        reference: 'ex-9',
        status: 'ok',
        balanceAfter: null,
        createdAt: '2026-11-23T00:00:00Z',
      },
    });
  });
});

describe('wallet settings', () => {
  it('is off without a base URL and names each bad setting', () => {
    assert.equal(walletSettingsFromEnv({}), undefined);
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ WALLET_BASE_URL: 'not a url' }, /not a URL/],
      [
        {
          WALLET_BASE_URL: 'http://w',
          NODE_ENV: 'production',
          WALLET_CLIENT_ID: 'a',
          WALLET_CLIENT_SECRET: 'b',
        },
        /https/,
      ],
      [{ WALLET_BASE_URL: 'http://w' }, /WALLET_CLIENT_ID/],
      [{ WALLET_BASE_URL: 'http://w', WALLET_AUTH: 'api-key' }, /WALLET_API_KEY/],
      [{ WALLET_BASE_URL: 'http://w', WALLET_AUTH: 'magic' }, /oauth2 or api-key/],
      [
        {
          WALLET_BASE_URL: 'http://w',
          WALLET_AUTH: 'api-key',
          WALLET_API_KEY: 'k',
          WALLET_FIELDS: '{"acount":"x"}',
        },
        /unknown key acount/,
      ],
      [
        { WALLET_BASE_URL: 'http://w', WALLET_AUTH: 'api-key', WALLET_API_KEY: 'k', WALLET_PATHS: '[1]' },
        /JSON object/,
      ],
      [
        {
          WALLET_BASE_URL: 'http://w',
          WALLET_AUTH: 'api-key',
          WALLET_API_KEY: 'k',
          WALLET_RECONCILE_AT_JST: '25:00',
        },
        /HH:MM/,
      ],
    ];
    for (const [env, message] of bad)
      assert.throws(
        () => walletSettingsFromEnv(env),
        (e: unknown) => e instanceof WalletSettingsError && message.test(e.message),
      );
  });
});
