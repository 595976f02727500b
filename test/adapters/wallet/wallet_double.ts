/**
 * A contract test double of a regional-currency wallet following adapters/wallet/CONTRACT.md, as a
 * real HTTP server on localhost. It enforces what the contract says a wallet enforces: the client
 * credentials token (HTTP Basic at the token endpoint, Bearer on calls, expiry), a required
 * Idempotency-Key with replay and `idempotency_key_reused`, strict bodies, frozen accounts, balance
 * limits, insufficient balance on debits, and the partner-scoped transaction list with a cursor.
 *
 * Faults for tests: `down` (503 to everything), `failNext(n)` (503 before applying), `applyThenFail(n)`
 * (applies the movement, then answers 500: the outcome the caller sees is unknown), `revokeTokens()`.
 *
 * @example
 *   const wallet = await startWalletDouble({ clientId: 'tsunagu', clientSecret: 's3cret' });
 *   wallet.openAccount('NP-000123', 1000);
 *   // … point the adapter at wallet.url …
 *   await wallet.stop();
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DoubleTransaction {
  id: string;
  type: 'credit' | 'debit';
  account_id: string;
  amount: number;
  external_id: string;
  description?: string;
  status: 'completed';
  balance_after: number;
  created_at: string;
}

interface Account {
  balance: number;
  frozen: boolean;
  limit: number;
}

export interface WalletDouble {
  url: string;
  accounts: Map<string, Account>;
  transactions: DoubleTransaction[];
  /** Every request: method, path, status (tests count calls). */
  log: Array<{ method: string; path: string; status: number; key?: string }>;
  down: boolean;
  /** The clock the double stamps transactions with. */
  now: () => Date;
  openAccount(id: string, balance?: number, options?: { frozen?: boolean; limit?: number }): void;
  failNext(n: number): void;
  applyThenFail(n: number): void;
  revokeTokens(): void;
  /** Records a transaction as if made outside the platform (reconciliation tests). */
  inject(
    tx: Omit<DoubleTransaction, 'id' | 'status' | 'balance_after' | 'created_at'> & { created_at?: string },
  ): void;
  stop(): Promise<void>;
}

const MAX_AMOUNT = 1_000_000;

export async function startWalletDouble(
  options: {
    clientId?: string;
    clientSecret?: string;
    apiKey?: string;
    tokenTtlSeconds?: number;
    pageSize?: number;
  } = {},
): Promise<WalletDouble> {
  const clientId = options.clientId ?? 'tsunagu';
  const clientSecret = options.clientSecret ?? 'wallet-secret';
  const tokens = new Map<string, number>(); // token → expiry (ms)
  const idempotency = new Map<string, { hash: string; tx: DoubleTransaction }>();
  let failures = 0;
  let applyFailures = 0;
  let sequence = 0;

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  }
  const error = (res: ServerResponse, status: number, code: string, message: string, headers = {}) =>
    send(res, status, { error: { code, message } }, headers);

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  function authorized(req: IncomingMessage): boolean {
    if (options.apiKey) return req.headers['x-api-key'] === options.apiKey;
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const expires = m ? tokens.get(m[1]!) : undefined;
    return expires !== undefined && expires > Date.now();
  }

  function movement(
    type: 'credit' | 'debit',
    body: Record<string, unknown>,
    key: string,
    res: ServerResponse,
  ) {
    const allowed = new Set(['account_id', 'amount', 'external_id', 'description']);
    const unknown = Object.keys(body).filter((k) => !allowed.has(k));
    const { account_id: accountId, amount, external_id: externalId, description } = body;
    if (
      unknown.length > 0 ||
      typeof accountId !== 'string' ||
      typeof externalId !== 'string' ||
      externalId.length === 0 ||
      externalId.length > 64 ||
      typeof amount !== 'number' ||
      !Number.isInteger(amount) ||
      amount < 1 ||
      amount > MAX_AMOUNT ||
      (description !== undefined && (typeof description !== 'string' || description.length > 100))
    )
      return error(
        res,
        400,
        'invalid_request',
        unknown.length ? `unknown fields: ${unknown.join(',')}` : 'bad body',
      );
    const hash = JSON.stringify([type, accountId, amount, externalId, description ?? null]);
    const seen = idempotency.get(key);
    if (seen) {
      if (seen.hash !== hash)
        return error(res, 422, 'idempotency_key_reused', 'key used for another request');
      return send(res, 200, { transaction: seen.tx }, { 'idempotent-replayed': 'true' });
    }
    if (failures > 0) {
      failures -= 1;
      return error(res, 503, 'unavailable', 'try again later');
    }
    const account = double.accounts.get(accountId);
    if (!account) return error(res, 404, 'account_not_found', 'no such account');
    if (account.frozen) return error(res, 409, 'account_frozen', 'account suspended');
    if (type === 'credit' && account.balance + amount > account.limit)
      return error(res, 422, 'limit_exceeded', 'balance limit');
    if (type === 'debit' && account.balance < amount)
      return error(res, 409, 'insufficient_balance', 'balance too low');
    account.balance += type === 'credit' ? amount : -amount;
    sequence += 1;
    const tx: DoubleTransaction = {
      id: `wtx_${String(sequence).padStart(8, '0')}_${randomBytes(4).toString('hex')}`,
      type,
      account_id: accountId,
      amount,
      external_id: externalId,
      ...(description === undefined ? {} : { description: description as string }),
      status: 'completed',
      balance_after: account.balance,
      created_at: double.now().toISOString(),
    };
    double.transactions.push(tx);
    idempotency.set(key, { hash, tx });
    if (applyFailures > 0) {
      applyFailures -= 1;
      return error(res, 500, 'internal', 'something broke after commit');
    }
    return send(res, 201, { transaction: tx });
  }

  function list(url: URL, res: ServerResponse) {
    const reference = url.searchParams.get('external_id');
    const from = url.searchParams.get('created_from');
    const to = url.searchParams.get('created_to');
    const limit = Number(url.searchParams.get('limit') ?? options.pageSize ?? 100);
    const cursor = Number(url.searchParams.get('cursor')?.replace(/^c_/, '') ?? '0');
    if (!Number.isInteger(limit) || limit < 1 || limit > 500 || !Number.isInteger(cursor) || cursor < 0)
      return error(res, 400, 'invalid_request', 'bad limit or cursor');
    if ((from && Number.isNaN(Date.parse(from))) || (to && Number.isNaN(Date.parse(to))))
      return error(res, 400, 'invalid_request', 'bad time');
    const pageSize = Math.min(limit, options.pageSize ?? 500);
    const matching = double.transactions.filter(
      (t) =>
        (!reference || t.external_id === reference) &&
        (!from || Date.parse(t.created_at) >= Date.parse(from)) &&
        (!to || Date.parse(t.created_at) < Date.parse(to)),
    );
    const page = matching.slice(cursor, cursor + pageSize);
    const next = cursor + pageSize < matching.length ? `c_${cursor + pageSize}` : null;
    return send(res, 200, { data: page, next_cursor: next });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<number> {
    const url = new URL(req.url ?? '/', 'http://wallet.local');
    const text = await readBody(req);
    if (double.down) {
      error(res, 503, 'unavailable', 'maintenance', { 'retry-after': '1' });
      return 503;
    }
    if (req.method === 'POST' && url.pathname === '/oauth/token') {
      const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
      const [id, secret] = basic ? Buffer.from(basic[1]!, 'base64').toString().split(':') : [];
      const form = new URLSearchParams(text);
      if (decodeURIComponent(id ?? '') !== clientId || decodeURIComponent(secret ?? '') !== clientSecret) {
        send(res, 401, { error: 'invalid_client' }, { 'www-authenticate': 'Basic realm="wallet"' });
        return 401;
      }
      if (form.get('grant_type') !== 'client_credentials') {
        send(res, 400, { error: 'unsupported_grant_type' });
        return 400;
      }
      const token = randomBytes(16).toString('hex');
      const ttl = options.tokenTtlSeconds ?? 3600;
      tokens.set(token, Date.now() + ttl * 1000);
      send(res, 200, { access_token: token, token_type: 'Bearer', expires_in: ttl });
      return 200;
    }
    if (!authorized(req)) {
      error(res, 401, 'unauthorized', 'credentials required', {
        'www-authenticate': 'Bearer error="invalid_token"',
      });
      return 401;
    }
    const balance = /^\/v1\/accounts\/([^/]+)\/balance$/.exec(url.pathname);
    if (req.method === 'GET' && balance) {
      const id = decodeURIComponent(balance[1]!);
      const account = double.accounts.get(id);
      if (!account) error(res, 404, 'account_not_found', 'no such account');
      else
        send(res, 200, {
          account_id: id,
          balance: account.balance,
          currency: 'JPY',
          updated_at: double.now().toISOString(),
        });
      return res.statusCode;
    }
    if (req.method === 'GET' && url.pathname === '/v1/transactions') {
      list(url, res);
      return res.statusCode;
    }
    const move = /^\/v1\/(credits|debits)$/.exec(url.pathname);
    if (req.method === 'POST' && move) {
      const key = req.headers['idempotency-key'];
      if (typeof key !== 'string' || key.length === 0 || key.length > 64) {
        error(res, 400, 'invalid_request', 'Idempotency-Key required');
        return 400;
      }
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
        error(res, 400, 'invalid_request', 'JSON body required');
        return 400;
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        error(res, 400, 'invalid_request', 'malformed JSON');
        return 400;
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        error(res, 400, 'invalid_request', 'object body required');
        return 400;
      }
      movement(move[1] === 'credits' ? 'credit' : 'debit', body as Record<string, unknown>, key, res);
      return res.statusCode;
    }
    error(res, 404, 'not_found', 'no such route');
    return 404;
  }

  const server: Server = createServer((req, res) => {
    handle(req, res)
      .then((status) => {
        const key = req.headers['idempotency-key'];
        double.log.push({
          method: req.method ?? '',
          path: (req.url ?? '').split('?')[0]!,
          status,
          ...(typeof key === 'string' ? { key } : {}),
        });
      })
      .catch(() => {
        if (!res.headersSent) error(res, 500, 'internal', 'double failed');
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const double: WalletDouble = {
    url: `http://127.0.0.1:${port}`,
    accounts: new Map(),
    transactions: [],
    log: [],
    down: false,
    now: () => new Date(),
    openAccount(id, balance = 0, o = {}) {
      double.accounts.set(id, { balance, frozen: o.frozen ?? false, limit: o.limit ?? 10_000_000 });
    },
    failNext(n) {
      failures = n;
    },
    applyThenFail(n) {
      applyFailures = n;
    },
    revokeTokens() {
      tokens.clear();
    },
    inject(tx) {
      const account = double.accounts.get(tx.account_id);
      if (account) account.balance += tx.type === 'credit' ? tx.amount : -tx.amount;
      sequence += 1;
      double.transactions.push({
        ...tx,
        id: `wtx_${String(sequence).padStart(8, '0')}_ext`,
        status: 'completed',
        balance_after: account?.balance ?? 0,
        created_at: tx.created_at ?? double.now().toISOString(),
      });
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return double;
}
