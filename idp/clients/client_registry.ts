/**
 * Partner clients (連携サービス): the services allowed to obtain tokens. Staff register them from the
 * admin API or the CLI; the OpenID provider reads them through `providerMetadata` (its `Client`
 * model). Secrets are generated here, shown once, and stored sealed.
 *
 * @example
 *   const { client, clientSecret } = await registry.create(
 *     { name: '健康アプリ', grantTypes: ['client_credentials'], scopes: ['points:write'], ipAllowList: ['203.0.113.0/24'] },
 *     'staff:7',
 *   );
 */
import { randomBytes } from 'node:crypto';
import type { AdapterPayload } from 'oidc-provider';
import {
  type AuditLog,
  createAddressMatcher,
  type Database,
  defineProblem,
  ProblemError,
  parseCidr,
} from '../../core/index.ts';
import type { Sealer } from '../keys/seal.ts';
import { ACR } from '../provider/create_provider.ts';

/** Assurance levels, weakest first. */
const ACR_ORDER = [ACR.federated, ACR.jpkiAuth, ACR.jpkiSign];

defineProblem('client-not-found', { status: 404, title: 'Partner client not found' });
defineProblem('invalid-client-metadata', { status: 400, title: 'Partner client metadata is invalid' });

export type GrantType = 'client_credentials' | 'authorization_code' | 'refresh_token';
export type AuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

export interface PartnerClientInput {
  name: string;
  grantTypes: GrantType[];
  scopes: string[];
  tokenEndpointAuthMethod?: AuthMethod;
  /** Public keys for `private_key_jwt`. */
  jwks?: { keys: Array<Record<string, unknown>> };
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  /** CIDRs allowed at the token endpoint and on every API call with the client's tokens; empty = any. */
  ipAllowList?: string[];
  /** May receive OpenID Connect for Identity Assurance `verified_claims`. */
  verifiedClaims?: boolean;
  /** The admin console: staff sign in (password + TOTP) instead of residents. */
  staffConsole?: boolean;
  /** The lowest resident assurance level (acr) the service accepts, e.g. JPKI signature verification. */
  minimumAcr?: string;
}

export interface PartnerClient {
  clientId: string;
  name: string;
  grantTypes: GrantType[];
  scopes: string[];
  tokenEndpointAuthMethod: AuthMethod;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  ipAllowList: string[];
  verifiedClaims: boolean;
  staffConsole: boolean;
  minimumAcr: string | null;
  status: 'active' | 'disabled';
  createdAt: string;
  updatedAt: string;
}

export type PartnerClientPatch = Partial<
  Pick<
    PartnerClientInput,
    'name' | 'scopes' | 'redirectUris' | 'postLogoutRedirectUris' | 'ipAllowList' | 'verifiedClaims'
  >
>;

export interface ClientRegistry {
  create(input: PartnerClientInput, actor: string): Promise<{ client: PartnerClient; clientSecret?: string }>;
  get(clientId: string): Promise<PartnerClient>;
  list(): Promise<PartnerClient[]>;
  update(clientId: string, patch: PartnerClientPatch, actor: string): Promise<PartnerClient>;
  rotateSecret(clientId: string, actor: string): Promise<{ client: PartnerClient; clientSecret: string }>;
  /** Disables the client and revokes every token, code and grant issued to it. */
  disable(clientId: string, actor: string): Promise<PartnerClient>;
  /** The client as seen within the last few seconds (for hot paths: token issue and verification). */
  cached(clientId: string): Promise<PartnerClient | undefined>;
  /** Whether `ip` may act for the client (cached for a few seconds). */
  checkAddress(clientId: string, ip: string | undefined): Promise<'allowed' | 'denied' | 'inactive'>;
  /** The client as oidc-provider metadata, or undefined when unknown or disabled. */
  providerMetadata(clientId: string): Promise<AdapterPayload | undefined>;
}

interface Row {
  client_id: string;
  name: string;
  sealed_secret: string | null;
  metadata: Stored;
  ip_allowlist: string[];
  status: 'active' | 'disabled';
  created_at: Date;
  updated_at: Date;
}

interface Stored {
  grantTypes: GrantType[];
  scopes: string[];
  tokenEndpointAuthMethod: AuthMethod;
  jwks?: { keys: Array<Record<string, unknown>> };
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  verifiedClaims: boolean;
  staffConsole?: boolean;
  minimumAcr?: string;
}

const SCOPE = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;
const CACHE_MS = 5000;

function toClient(row: Row): PartnerClient {
  const m = row.metadata;
  return {
    clientId: row.client_id,
    name: row.name,
    grantTypes: m.grantTypes,
    scopes: m.scopes,
    tokenEndpointAuthMethod: m.tokenEndpointAuthMethod,
    redirectUris: m.redirectUris,
    postLogoutRedirectUris: m.postLogoutRedirectUris,
    ipAllowList: row.ip_allowlist,
    verifiedClaims: m.verifiedClaims,
    staffConsole: m.staffConsole === true,
    minimumAcr: m.minimumAcr ?? null,
    status: row.status,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function invalid(detail: string): ProblemError {
  return new ProblemError('invalid-client-metadata', { detail });
}

function checkInput(m: Stored, ipAllowList: string[]): void {
  if (m.grantTypes.length === 0) throw invalid('grantTypes must not be empty');
  if (m.grantTypes.includes('refresh_token') && !m.grantTypes.includes('authorization_code')) {
    throw invalid('refresh_token needs authorization_code');
  }
  for (const s of m.scopes) if (!SCOPE.test(s)) throw invalid(`bad scope ${JSON.stringify(s)}`);
  if (m.grantTypes.includes('authorization_code') && m.redirectUris.length === 0) {
    throw invalid('authorization_code clients need at least one redirect URI');
  }
  if (m.minimumAcr !== undefined && !ACR_ORDER.includes(m.minimumAcr as (typeof ACR_ORDER)[number])) {
    throw invalid(`minimumAcr must be one of ${ACR_ORDER.join(', ')}`);
  }
  if (m.tokenEndpointAuthMethod === 'private_key_jwt' && !m.jwks?.keys?.length) {
    throw invalid('private_key_jwt clients need jwks');
  }
  for (const cidr of ipAllowList) {
    try {
      parseCidr(cidr);
    } catch (error) {
      throw invalid((error as Error).message);
    }
  }
}

/**
 * @param validate checks the resulting provider metadata (oidc-provider's own client validation);
 *   throws with a message on invalid metadata.
 */
export function createClientRegistry(options: {
  db: Database;
  audit: AuditLog;
  sealer: Sealer;
  now: () => Date;
  validate: (metadata: AdapterPayload) => Promise<void>;
  /** Revokes everything the provider stored for a client. */
  revokeClient: (clientId: string) => Promise<void>;
}): ClientRegistry {
  const { db, audit, sealer, now } = options;
  const cache = new Map<string, { at: number; row: Row | undefined; metadata?: AdapterPayload }>();

  const load = async (clientId: string, fresh = false): Promise<Row | undefined> => {
    const hit = cache.get(clientId);
    if (!fresh && hit && Date.now() - hit.at < CACHE_MS) return hit.row;
    const { rows } = await db.query<Row>('SELECT * FROM idp.clients WHERE client_id = $1', [clientId]);
    cache.set(clientId, { at: Date.now(), row: rows[0] });
    if (cache.size > 10_000) cache.delete(cache.keys().next().value as string);
    return rows[0];
  };
  const mustLoad = async (clientId: string): Promise<Row> => {
    const row = await load(clientId, true);
    if (!row) throw new ProblemError('client-not-found', { detail: `No partner client ${clientId}.` });
    return row;
  };

  const metadataOf = (
    clientId: string,
    name: string,
    m: Stored,
    secret: string | undefined,
  ): AdapterPayload => {
    const code = m.grantTypes.includes('authorization_code');
    return {
      client_id: clientId,
      ...(secret === undefined ? {} : { client_secret: secret }),
      client_name: name,
      grant_types: m.grantTypes,
      response_types: code ? ['code'] : [],
      redirect_uris: m.redirectUris,
      post_logout_redirect_uris: m.postLogoutRedirectUris,
      token_endpoint_auth_method: m.tokenEndpointAuthMethod,
      ...(m.jwks ? { jwks: m.jwks } : {}),
      // Only OpenID scopes here: API scopes are granted per resource server (getResourceServerInfo).
      ...(code
        ? {
            scope: [
              'openid',
              'offline_access',
              'profile',
              ...(m.verifiedClaims ? ['verified_claims'] : []),
            ].join(' '),
          }
        : {}),
      // Pairwise subjects per service; default acr values so every ID token states its assurance level.
      // The admin console sees staff ids as they are.
      ...(code && m.staffConsole ? { subject_type: 'public', default_acr_values: [ACR.staff] } : {}),
      ...(code && !m.staffConsole ? { subject_type: 'pairwise', default_acr_values: [...ACR_ORDER] } : {}),
    } as AdapterPayload;
  };

  const newSecret = (m: Stored) =>
    m.tokenEndpointAuthMethod === 'private_key_jwt' ? undefined : randomBytes(32).toString('base64url');

  const save = async (row: Row, action: string, actor: string, details: Record<string, unknown>) => {
    await db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO idp.clients (client_id, name, sealed_secret, metadata, ip_allowlist, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (client_id) DO UPDATE SET name = EXCLUDED.name, sealed_secret = EXCLUDED.sealed_secret,
           metadata = EXCLUDED.metadata, ip_allowlist = EXCLUDED.ip_allowlist, status = EXCLUDED.status,
           updated_at = EXCLUDED.updated_at`,
        [
          row.client_id,
          row.name,
          row.sealed_secret,
          JSON.stringify(row.metadata),
          row.ip_allowlist,
          row.status,
          row.created_at,
          row.updated_at,
        ],
      );
      await audit.recordInTransaction(tx, { actor, action, target: `client:${row.client_id}`, details });
    });
    cache.delete(row.client_id);
  };

  const validated = async (clientId: string, name: string, m: Stored, secret: string | undefined) => {
    checkInput(m, []);
    try {
      await options.validate(metadataOf(clientId, name, m, secret ?? 'x'.repeat(43)));
    } catch (error) {
      throw invalid((error as { error_description?: string }).error_description ?? (error as Error).message);
    }
  };

  return {
    async create(input, actor) {
      const clientId = `c_${randomBytes(12).toString('base64url')}`;
      const m: Stored = {
        grantTypes: [...new Set(input.grantTypes)],
        scopes: [...new Set(input.scopes)],
        tokenEndpointAuthMethod: input.tokenEndpointAuthMethod ?? 'client_secret_basic',
        ...(input.jwks ? { jwks: input.jwks } : {}),
        redirectUris: input.redirectUris ?? [],
        postLogoutRedirectUris: input.postLogoutRedirectUris ?? [],
        verifiedClaims: input.verifiedClaims ?? false,
        ...(input.staffConsole ? { staffConsole: true } : {}),
        ...(input.minimumAcr ? { minimumAcr: input.minimumAcr } : {}),
      };
      const ipAllowList = input.ipAllowList ?? [];
      checkInput(m, ipAllowList);
      const secret = newSecret(m);
      await validated(clientId, input.name, m, secret);
      const at = now();
      const row: Row = {
        client_id: clientId,
        name: input.name,
        sealed_secret: secret === undefined ? null : sealer.seal(`client-secret:${clientId}`, secret),
        metadata: m,
        ip_allowlist: ipAllowList,
        status: 'active',
        created_at: at,
        updated_at: at,
      };
      await save(row, 'idp.client.create', actor, {
        grantTypes: m.grantTypes,
        scopes: m.scopes,
        authMethod: m.tokenEndpointAuthMethod,
        ipAllowList,
      });
      return { client: toClient(row), ...(secret === undefined ? {} : { clientSecret: secret }) };
    },
    async get(clientId) {
      return toClient(await mustLoad(clientId));
    },
    async cached(clientId) {
      const row = await load(clientId);
      return row ? toClient(row) : undefined;
    },
    async list() {
      const { rows } = await db.query<Row>('SELECT * FROM idp.clients ORDER BY created_at, client_id');
      return rows.map(toClient);
    },
    async update(clientId, patch, actor) {
      const row = await mustLoad(clientId);
      const m: Stored = {
        ...row.metadata,
        ...(patch.scopes ? { scopes: [...new Set(patch.scopes)] } : {}),
        ...(patch.redirectUris ? { redirectUris: patch.redirectUris } : {}),
        ...(patch.postLogoutRedirectUris ? { postLogoutRedirectUris: patch.postLogoutRedirectUris } : {}),
        ...(patch.verifiedClaims === undefined ? {} : { verifiedClaims: patch.verifiedClaims }),
      };
      const ipAllowList = patch.ipAllowList ?? row.ip_allowlist;
      checkInput(m, ipAllowList);
      const name = patch.name ?? row.name;
      await validated(clientId, name, m, undefined);
      const next: Row = { ...row, name, metadata: m, ip_allowlist: ipAllowList, updated_at: now() };
      await save(next, 'idp.client.update', actor, { changed: Object.keys(patch).sort() });
      return toClient(next);
    },
    async rotateSecret(clientId, actor) {
      const row = await mustLoad(clientId);
      const secret = newSecret(row.metadata);
      if (secret === undefined) throw invalid('private_key_jwt clients have no secret');
      const next: Row = {
        ...row,
        sealed_secret: sealer.seal(`client-secret:${clientId}`, secret),
        updated_at: now(),
      };
      await save(next, 'idp.client.rotate-secret', actor, {});
      return { client: toClient(next), clientSecret: secret };
    },
    async disable(clientId, actor) {
      const row = await mustLoad(clientId);
      const next: Row = { ...row, status: 'disabled', updated_at: now() };
      await save(next, 'idp.client.disable', actor, {});
      await options.revokeClient(clientId);
      return toClient(next);
    },
    async checkAddress(clientId, ip) {
      const row = await load(clientId);
      if (row?.status !== 'active') return 'inactive';
      if (row.ip_allowlist.length === 0) return 'allowed';
      return ip !== undefined && createAddressMatcher(row.ip_allowlist).allows(ip) ? 'allowed' : 'denied';
    },
    async providerMetadata(clientId) {
      const row = await load(clientId);
      if (row?.status !== 'active') return undefined;
      const entry = cache.get(clientId);
      if (entry?.row === row && entry.metadata) return entry.metadata;
      const secret = row.sealed_secret
        ? sealer.open(`client-secret:${clientId}`, row.sealed_secret)
        : undefined;
      const metadata = metadataOf(clientId, row.name, row.metadata, secret);
      if (entry?.row === row) entry.metadata = metadata;
      return metadata;
    },
  };
}
