/**
 * The OpenID provider's configuration, in one place. State lives in PostgreSQL (pg_adapter.ts),
 * keys come sealed from the database (signing_keys.ts), partner clients from the registry, accounts
 * from the accounts service. Notable choices:
 *
 *   devInteractions off       our own login/consent pages under /idp/interaction/:uid
 *   PKCE required             for every client, public or confidential
 *   opaque access tokens      so they can be introspected and revoked
 *   resource indicators       the platform API (`${PUBLIC_URL}/api`) is the one resource server;
 *                             client-credentials tokens default to it
 *   pairwise subjects         per partner service (the client id is the sector)
 *   IP allow-lists            checked whenever a token is issued to a client (extraTokenClaims)
 */
import type { Account, Adapter, Configuration, FindAccount, JWK, KoaContextWithOIDC } from 'oidc-provider';
import Provider, { errors, interactionPolicy } from 'oidc-provider';
import { renderErrorPage, renderLogoutPrompt, renderLogoutSuccess } from '../interactions/provider_pages.ts';
import { currentRequest } from '../request_context.ts';

export const ACR = {
  /** E-mail verified, password or passkey, self-declared profile (no identity document). */
  selfAsserted: 'urn:tsunagu:acr:self-asserted',
  federated: 'urn:tsunagu:acr:federated',
  jpkiAuth: 'urn:tsunagu:acr:jpki-auth',
  jpkiSign: 'urn:tsunagu:acr:jpki-sign',
  /** Staff: password + TOTP. */
  staff: 'urn:tsunagu:acr:staff-mfa',
} as const;

/** Resident assurance levels, weakest first. */
export const ACR_RANK: readonly string[] = [ACR.selfAsserted, ACR.federated, ACR.jpkiAuth, ACR.jpkiSign];

/** Whether a session's acr meets a client's minimum (no minimum: always). */
export function meetsAcr(acr: string | undefined, minimum: string | undefined): boolean {
  if (!minimum) return true;
  return ACR_RANK.indexOf(acr ?? '') >= ACR_RANK.indexOf(minimum);
}

/** Staff ids start with this; residents' common IDs never do (base32 lower case). */
export const STAFF_PREFIX = 'st_';
/** Staff sessions end after this much time (the console must sign in again). */
export const STAFF_SESSION_SECONDS = 30 * 60;

export interface ProviderOptions {
  issuer: string;
  /** The resource indicator of the platform API. */
  apiResource: string;
  jwks: { keys: JWK[] };
  cookieKeys: string[];
  adapter: (model: string) => Adapter;
  findAccount: FindAccount;
  /** Pairwise subject for an account at a client. */
  pairwiseSubject: (accountId: string, clientId: string) => Promise<string>;
  /** Whether the client may act from the current request's address. */
  allowsAddress: (clientId: string, ip: string | undefined) => Promise<boolean>;
  /** Scopes the client may hold for the platform API. */
  apiScopesOf: (clientId: string) => Promise<string[]>;
  /** Whether the client may receive `verified_claims`. */
  mayReceiveVerifiedClaims: (clientId: string) => Promise<boolean>;
  /** The lowest resident assurance level the client accepts, if any. */
  minimumAcrOf: (clientId: string) => Promise<string | undefined>;
  interactionsPath: string;
  secureCookies: boolean;
  /** Behind TLS-terminating proxies (TRUSTED_PROXIES set): honour X-Forwarded-Proto for cookies and URLs. */
  trustProxy: boolean;
  ttl: { accessToken: number; clientCredentials: number };
}

export const CLAIMS = {
  openid: ['sub'],
  profile: ['name', 'birthdate', 'gender', 'address', 'preferred_username'],
  verified_claims: ['verified_claims'],
} as const;

export function createProvider(o: ProviderOptions): Provider {
  // A client with a minimum assurance level sends a resident whose session is weaker back to login.
  const policy = interactionPolicy.base();
  policy.get('login')!.checks.add(
    new interactionPolicy.Check(
      'acr_below_minimum',
      'the client requires a higher assurance level',
      async (ctx) => {
        const session = ctx.oidc.session;
        if (!session?.accountId || session.accountId.startsWith(STAFF_PREFIX))
          return interactionPolicy.Check.NO_NEED_TO_PROMPT;
        const minimum = await o.minimumAcrOf(ctx.oidc.client!.clientId);
        return meetsAcr(session.acr, minimum)
          ? interactionPolicy.Check.NO_NEED_TO_PROMPT
          : interactionPolicy.Check.REQUEST_PROMPT;
      },
    ),
  );
  const configuration: Configuration = {
    adapter: o.adapter,
    findAccount: o.findAccount,
    jwks: o.jwks,
    cookies: {
      keys: o.cookieKeys,
      long: { signed: true, secure: o.secureCookies },
      short: { signed: true, secure: o.secureCookies },
    },
    interactions: { policy, url: (_ctx, interaction) => `${o.interactionsPath}/${interaction.uid}` },
    claims: {
      acr: null,
      sid: null,
      auth_time: null,
      iss: null,
      ...CLAIMS,
    } as unknown as Configuration['claims'],
    scopes: ['openid', 'offline_access', 'profile', 'verified_claims'],
    acrValues: [ACR.federated, ACR.jpkiAuth, ACR.jpkiSign, ACR.staff],
    responseTypes: ['code'],
    subjectTypes: ['public', 'pairwise'],
    pairwiseIdentifier: (_ctx, accountId, client) => o.pairwiseSubject(accountId, client.clientId),
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // A client may introspect its own tokens; resource servers need the `idp:introspect` API scope.
      introspection: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) =>
          token.clientId === client.clientId ||
          (await o.apiScopesOf(client.clientId)).includes('idp:introspect'),
      },
      revocation: {
        enabled: true,
        allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId,
      },
      userinfo: { enabled: true },
      claimsParameter: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          ctx.type = 'html';
          ctx.body = renderLogoutPrompt(form);
        },
        postLogoutSuccessSource: (ctx) => {
          ctx.type = 'html';
          ctx.body = renderLogoutSuccess();
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: (ctx, _client, oneOf) => {
          if (oneOf) return oneOf.includes(o.apiResource) ? o.apiResource : undefined;
          return ctx.oidc.params?.['grant_type'] === 'client_credentials' ? o.apiResource : undefined;
        },
        useGrantedResource: () => false,
        getResourceServerInfo: async (ctx, resource, client) => {
          if (resource !== o.apiResource) throw new errors.InvalidTarget();
          const allowed = await o.apiScopesOf(client.clientId);
          if (ctx.oidc.params?.['grant_type'] === 'client_credentials') {
            const requested = String(ctx.oidc.params['scope'] ?? '')
              .split(' ')
              .filter(Boolean);
            const refused = requested.filter((s) => !allowed.includes(s));
            if (refused.length > 0)
              throw new errors.InvalidScope('requested scope is not allowed', refused.join(' '));
          }
          return {
            scope: allowed.join(' '),
            audience: o.apiResource,
            accessTokenFormat: 'opaque',
            accessTokenTTL: o.ttl.accessToken,
          };
        },
      },
    },
    // Staff get no refresh tokens: their console signs in again after the short staff session.
    issueRefreshToken: (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') &&
      code.scopes.has('offline_access') &&
      !String(code.accountId ?? '').startsWith(STAFF_PREFIX),
    extraTokenClaims: async (_ctx, token) => {
      if (!(await o.allowsAddress(token.clientId as string, currentRequest()?.ip))) {
        throw new errors.UnauthorizedClient('client address is not allowed');
      }
      return undefined;
    },
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? o.ttl.accessToken,
      AuthorizationCode: 60,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? o.ttl.clientCredentials,
      IdToken: 3600,
      Interaction: 3600,
      Grant: 14 * 24 * 3600,
      Session: (_ctx, session) =>
        session.accountId?.startsWith(STAFF_PREFIX) ? STAFF_SESSION_SECONDS : 14 * 24 * 3600,
      RefreshToken: 14 * 24 * 3600,
    },
    renderError: (ctx: KoaContextWithOIDC, out) => {
      ctx.type = 'html';
      ctx.body = renderErrorPage(out.error, out.error_description);
    },
    conformIdTokenClaims: true,
  };
  const provider = new Provider(o.issuer, configuration);
  // Client addresses come from Express (which honours only TRUSTED_PROXIES), never from Koa's ctx.ip.
  provider.proxy = o.trustProxy;
  return provider;
}

export type { Account };
