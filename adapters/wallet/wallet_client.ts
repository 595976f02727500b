/**
 * REST client for a regional-currency wallet following CONTRACT.md (paths and field names from the
 * settings). It never throws for what the wallet answers: every call resolves to one of
 *
 *   done     the wallet applied it (or had applied it: a replay of the same key)
 *   refused  the wallet definitely did not apply it and never will (a 4xx with a definite code)
 *   unknown  it may or may not have happened (5xx, 401, 429, timeout, connection error); resend
 *            with the same Idempotency-Key
 *
 * so the outbox can decide between done, dead and retry without reading HTTP details.
 *
 * @example
 *   const wallet = createWalletClient(settings);
 *   const r = await wallet.credit({ account: 'NP-000123', amount: 500, reference: 'tsunagu-ex-42' });
 *   if (r.kind === 'done') console.log(r.transaction.id);
 */
import type { WalletSettings } from './wallet_settings.ts';

export interface WalletTransaction {
  id: string;
  type: 'credit' | 'debit';
  account: string;
  amount: number;
  reference: string;
  status: string;
  balanceAfter: number | null;
  createdAt: string;
}

export type WalletOutcome<T> =
  | { kind: 'done'; value: T; replayed: boolean }
  | { kind: 'refused'; code: string; message: string; status: number }
  | { kind: 'unknown'; reason: string; retryAfterMs?: number };

export interface WalletMovement {
  account: string;
  amount: number;
  /** The platform's reference, also the Idempotency-Key (the exchange id for exchanges). */
  reference: string;
  description?: string;
}

/** The port the wallet adapter uses; `createWalletClient` implements it over HTTP. */
export interface WalletApi {
  credit(movement: WalletMovement): Promise<WalletOutcome<WalletTransaction>>;
  debit(movement: WalletMovement): Promise<WalletOutcome<WalletTransaction>>;
  balance(account: string): Promise<WalletOutcome<{ account: string; balance: number }>>;
  /** The partner's transaction with this reference (null when the wallet has none). */
  findByReference(reference: string): Promise<WalletOutcome<WalletTransaction | null>>;
  /** Every partner transaction with from ≤ created_at < to, following the cursor. */
  transactions(from: Date, to: Date): Promise<WalletOutcome<WalletTransaction[]>>;
}

/** Codes after which the wallet has definitely not applied the request (CONTRACT.md, Errors). */
const DEFINITE = new Set([
  'invalid_request',
  'account_not_found',
  'account_frozen',
  'insufficient_balance',
  'limit_exceeded',
  'idempotency_key_reused',
]);

type Fetch = typeof fetch;

function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}

function retryAfter(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

export function createWalletClient(settings: WalletSettings, options: { fetch?: Fetch } = {}): WalletApi {
  const doFetch = options.fetch ?? fetch;
  const { paths, fields: f, auth } = settings;
  let token: { value: string; expiresAt: number } | undefined;

  async function accessToken(): Promise<string | { unknown: string }> {
    if (auth.kind !== 'oauth2') return '';
    if (token && token.expiresAt > Date.now() + 30_000) return token.value;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (auth.scope) form.set('scope', auth.scope);
    const basic = Buffer.from(
      `${encodeURIComponent(auth.clientId)}:${encodeURIComponent(auth.clientSecret)}`,
    ).toString('base64');
    let res: Response;
    try {
      res = await doFetch(auth.tokenUrl ?? `${settings.baseUrl}${paths.token}`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${basic}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: form.toString(),
        signal: AbortSignal.timeout(settings.timeoutMs),
      });
    } catch (err) {
      return { unknown: `token request failed: ${(err as Error).name}` };
    }
    const body = (await res.json().catch(() => null)) as Record<string, unknown> | null;
    const value = body?.['access_token'];
    if (!res.ok || typeof value !== 'string')
      return { unknown: `token endpoint answered ${res.status} ${String(body?.['error'] ?? '')}`.trim() };
    const expiresIn = typeof body?.['expires_in'] === 'number' ? body['expires_in'] : 300;
    token = { value, expiresAt: Date.now() + expiresIn * 1000 };
    return value;
  }

  async function call(
    method: 'GET' | 'POST',
    path: string,
    init: { body?: Record<string, unknown>; idempotencyKey?: string },
    retried = false,
  ): Promise<WalletOutcome<unknown>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const bearer = await accessToken();
    if (typeof bearer === 'object') return { kind: 'unknown', reason: bearer.unknown };
    if (auth.kind === 'oauth2') headers['authorization'] = `Bearer ${bearer}`;
    else headers[auth.header] = auth.key;
    if (init.idempotencyKey) headers['idempotency-key'] = init.idempotencyKey;
    if (init.body) headers['content-type'] = 'application/json; charset=utf-8';
    let res: Response;
    try {
      res = await doFetch(`${settings.baseUrl}${path}`, {
        method,
        headers,
        ...(init.body ? { body: JSON.stringify(init.body) } : {}),
        signal: AbortSignal.timeout(settings.timeoutMs),
      });
    } catch (err) {
      const name = (err as Error).name;
      return { kind: 'unknown', reason: name === 'TimeoutError' ? 'timeout' : `connection failed (${name})` };
    }
    const text = await res.text().catch(() => '');
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    if (res.ok)
      return { kind: 'done', value: body, replayed: res.headers.get('idempotent-replayed') === 'true' };
    if (res.status === 401 && auth.kind === 'oauth2' && !retried) {
      token = undefined; // expired or revoked: one fresh token, then give up for this attempt
      return call(method, path, init, true);
    }
    const error = field(body, 'error');
    const code = typeof field(error, 'code') === 'string' ? (field(error, 'code') as string) : '';
    const message = typeof field(error, 'message') === 'string' ? (field(error, 'message') as string) : '';
    if (res.status >= 400 && res.status < 500 && DEFINITE.has(code))
      return { kind: 'refused', code, message, status: res.status };
    const wait = retryAfter(res.headers.get('retry-after'));
    return {
      kind: 'unknown',
      reason: `wallet answered ${res.status}${code ? ` ${code}` : ''}`,
      ...(wait === undefined ? {} : { retryAfterMs: wait }),
    };
  }

  function toTransaction(raw: unknown): WalletTransaction | null {
    const id = field(raw, f.id);
    const amount = field(raw, f.amount);
    if (typeof id !== 'string' || typeof amount !== 'number') return null;
    const type = field(raw, f.type);
    const balanceAfter = field(raw, f.balanceAfter);
    return {
      id,
      type: type === 'debit' ? 'debit' : 'credit',
      account: String(field(raw, f.account) ?? ''),
      amount,
      reference: String(field(raw, f.reference) ?? ''),
      status: String(field(raw, f.status) ?? 'completed'),
      balanceAfter: typeof balanceAfter === 'number' ? balanceAfter : null,
      createdAt: String(field(raw, f.createdAt) ?? ''),
    };
  }

  async function move(path: string, m: WalletMovement): Promise<WalletOutcome<WalletTransaction>> {
    const body: Record<string, unknown> = {
      [f.account]: m.account,
      [f.amount]: m.amount,
      [f.reference]: m.reference,
    };
    const description = m.description ?? settings.description;
    if (description) body[f.description] = description.slice(0, 100);
    const r = await call('POST', path, { body, idempotencyKey: m.reference });
    if (r.kind !== 'done') return r;
    const tx = toTransaction(f.transaction ? field(r.value, f.transaction) : r.value);
    // A 2xx we cannot read still means the wallet took it; the reconciliation finds the id later.
    if (!tx) return { kind: 'unknown', reason: 'wallet answer without a transaction' };
    return { kind: 'done', value: tx, replayed: r.replayed };
  }

  async function list(query: URLSearchParams): Promise<WalletOutcome<WalletTransaction[]>> {
    const items: WalletTransaction[] = [];
    for (let page = 0; page < 10_000; page += 1) {
      const r = await call('GET', `${paths.transactions}?${query.toString()}`, {});
      if (r.kind !== 'done') return r;
      const data = field(r.value, f.list);
      if (!Array.isArray(data)) return { kind: 'unknown', reason: 'wallet list without data' };
      for (const raw of data) {
        const tx = toTransaction(raw);
        if (tx) items.push(tx);
      }
      const next = field(r.value, f.nextCursor);
      if (typeof next !== 'string' || !next) return { kind: 'done', value: items, replayed: false };
      query.set('cursor', next);
    }
    return { kind: 'unknown', reason: 'wallet list did not end' };
  }

  return {
    credit: (m) => move(paths.credit, m),
    debit: (m) => move(paths.debit, m),

    async balance(account) {
      const r = await call('GET', paths.balance.replace('{account}', encodeURIComponent(account)), {});
      if (r.kind !== 'done') return r;
      const balance = field(r.value, f.balance);
      if (typeof balance !== 'number') return { kind: 'unknown', reason: 'wallet balance unreadable' };
      return { kind: 'done', value: { account, balance }, replayed: false };
    },

    async findByReference(reference) {
      const r = await list(new URLSearchParams({ [f.referenceQuery]: reference }));
      if (r.kind !== 'done') return r;
      return { kind: 'done', value: r.value.find((t) => t.reference === reference) ?? null, replayed: false };
    },

    transactions(from, to) {
      return list(
        new URLSearchParams({
          [f.fromQuery]: from.toISOString(),
          [f.toQuery]: to.toISOString(),
          limit: '500',
        }),
      );
    },
  };
}
