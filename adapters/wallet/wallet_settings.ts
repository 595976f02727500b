/**
 * The wallet adapter's settings, from environment variables (listed in the adapters README). The
 * paths and field names default to CONTRACT.md; a wallet that names things differently is served
 * by overriding them (`WALLET_PATHS`, `WALLET_FIELDS` as JSON objects).
 */

export interface WalletPaths extends Record<string, string> {
  token: string;
  credit: string;
  debit: string;
  /** `{account}` is replaced by the URL-encoded account id. */
  balance: string;
  transactions: string;
}

/** The wallet's names for each field the adapter reads or writes. */
export interface WalletFields extends Record<string, string> {
  account: string;
  amount: string;
  reference: string;
  description: string;
  /** Envelope of a single transaction in a credit/debit answer ('' when the answer is the transaction). */
  transaction: string;
  id: string;
  type: string;
  status: string;
  balanceAfter: string;
  createdAt: string;
  balance: string;
  /** Envelope of a list and its cursor. */
  list: string;
  nextCursor: string;
  /** Query parameters of the transaction list. */
  referenceQuery: string;
  fromQuery: string;
  toQuery: string;
}

export type WalletAuth =
  | { kind: 'oauth2'; clientId: string; clientSecret: string; scope?: string; tokenUrl?: string }
  | { kind: 'api-key'; header: string; key: string };

export interface WalletSettings {
  /** The points currency that mirrors the wallet (`external_wallet`), e.g. `nepi-pay`. */
  currency: string;
  /**
   * The service id residents link their wallet account to (consent service links); unset: the
   * owning service of the points currency `currency`.
   */
  service?: string;
  baseUrl: string;
  auth: WalletAuth;
  paths: WalletPaths;
  fields: WalletFields;
  timeoutMs: number;
  /** Text shown to the resident in the wallet's records. */
  description: string;
  /** Daily reconciliation time (JST HH:MM) or 'off'. */
  reconcileAtJst: string;
}

export const DEFAULT_PATHS: WalletPaths = {
  token: '/oauth/token',
  credit: '/v1/credits',
  debit: '/v1/debits',
  balance: '/v1/accounts/{account}/balance',
  transactions: '/v1/transactions',
};

export const DEFAULT_FIELDS: WalletFields = {
  account: 'account_id',
  amount: 'amount',
  reference: 'external_id',
  description: 'description',
  transaction: 'transaction',
  id: 'id',
  type: 'type',
  status: 'status',
  balanceAfter: 'balance_after',
  createdAt: 'created_at',
  balance: 'balance',
  list: 'data',
  nextCursor: 'next_cursor',
  referenceQuery: 'external_id',
  fromQuery: 'created_from',
  toQuery: 'created_to',
};

export class WalletSettingsError extends Error {
  override name = 'WalletSettingsError';
}

function overrides<T extends Record<string, string>>(name: string, text: string | undefined, defaults: T): T {
  if (!text) return { ...defaults };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new WalletSettingsError(`${name} must be a JSON object`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new WalletSettingsError(`${name} must be a JSON object`);
  const result: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(parsed)) {
    if (!(key in defaults)) throw new WalletSettingsError(`${name}: unknown key ${key}`);
    if (typeof value !== 'string') throw new WalletSettingsError(`${name}: ${key} must be a string`);
    result[key] = value;
  }
  return result as T;
}

/** Settings from the environment; undefined when `WALLET_BASE_URL` is unset (the adapter is off). */
export function walletSettingsFromEnv(env: Record<string, string | undefined>): WalletSettings | undefined {
  const baseUrl = env['WALLET_BASE_URL'];
  if (!baseUrl) return undefined;
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new WalletSettingsError('WALLET_BASE_URL is not a URL');
  }
  if (env['NODE_ENV'] === 'production' && url.protocol !== 'https:')
    throw new WalletSettingsError('WALLET_BASE_URL must be https in production');
  const authKind = env['WALLET_AUTH'] ?? 'oauth2';
  let auth: WalletAuth;
  if (authKind === 'oauth2') {
    const clientId = env['WALLET_CLIENT_ID'];
    const clientSecret = env['WALLET_CLIENT_SECRET'];
    if (!clientId || !clientSecret)
      throw new WalletSettingsError('WALLET_CLIENT_ID and WALLET_CLIENT_SECRET are required for oauth2');
    auth = { kind: 'oauth2', clientId, clientSecret };
    if (env['WALLET_SCOPE']) auth.scope = env['WALLET_SCOPE'];
    if (env['WALLET_TOKEN_URL']) auth.tokenUrl = env['WALLET_TOKEN_URL'];
  } else if (authKind === 'api-key') {
    const key = env['WALLET_API_KEY'];
    if (!key) throw new WalletSettingsError('WALLET_API_KEY is required for api-key');
    auth = { kind: 'api-key', header: env['WALLET_API_KEY_HEADER'] ?? 'X-API-Key', key };
  } else throw new WalletSettingsError('WALLET_AUTH must be oauth2 or api-key');
  const timeoutMs = Number(env['WALLET_TIMEOUT_MS'] ?? '10000');
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100)
    throw new WalletSettingsError('WALLET_TIMEOUT_MS must be an integer ≥ 100');
  const reconcileAtJst = env['WALLET_RECONCILE_AT_JST'] ?? '04:30';
  if (reconcileAtJst !== 'off' && !/^([01][0-9]|2[0-3]):[0-5][0-9]$/.test(reconcileAtJst))
    throw new WalletSettingsError('WALLET_RECONCILE_AT_JST must be HH:MM or off');
  return {
    currency: env['WALLET_CURRENCY'] ?? 'nepi-pay',
    ...(env['WALLET_SERVICE'] ? { service: env['WALLET_SERVICE'] } : {}),
    baseUrl: url.toString().replace(/\/$/, ''),
    auth,
    paths: overrides('WALLET_PATHS', env['WALLET_PATHS'], DEFAULT_PATHS),
    fields: overrides('WALLET_FIELDS', env['WALLET_FIELDS'], DEFAULT_FIELDS),
    timeoutMs,
    description: env['WALLET_DESCRIPTION'] ?? 'つなぐ ポイント交換 / Tsunagu point exchange',
    reconcileAtJst,
  };
}
