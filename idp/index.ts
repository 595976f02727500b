/**
 * idp — the identity provider: an OpenID provider (oidc-provider) at `${PUBLIC_URL}/oidc`, residents'
 * accounts and common IDs, partner clients, and the platform's token verifier.
 *
 * Other modules reach it through its services:
 *
 * @example
 *   const idp = ctx.services['idp'] as IdpServices;
 *   const commonId = await idp.accounts.commonIdForSubject(req.auth.clientId, sub);
 *   const { client, clientSecret } = await idp.clients.create({ name: 'SDGs', grantTypes: ['client_credentials'], scopes: ['points:write'] }, 'staff:1');
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RequestHandler } from 'express';
import type Provider from 'oidc-provider';
import { type ModuleContext, type ModuleFactory, ProblemError, type TsunaguModule } from '../core/index.ts';
import { type Accounts, createAccounts } from './accounts/accounts.ts';
import { createFindAccount } from './accounts/find_account.ts';
import { identityAdminRoutes } from './accounts/identity_admin_routes.ts';
import { createLinkChanges, type LinkChanges } from './accounts/link_changes.ts';
import { clientAdminRoutes } from './clients/admin_routes.ts';
import { type ClientRegistry, createClientRegistry } from './clients/client_registry.ts';
import { createFederation, type Federation, type UpstreamConfig } from './federation/upstream_federation.ts';
import { interactionRoutes } from './interactions/interaction_routes.ts';
import {
  createLoginThrottle,
  DEFAULT_THROTTLE,
  type ThrottleSettings,
} from './interactions/login_throttle.ts';
import { createIdentityProofing, type IdentityProofing } from './jpki/identity_proofing.ts';
import { createNonceStore } from './jpki/nonces.ts';
import { OcspRevocationSource } from './jpki/ocsp_source.ts';
import { CrlRevocationSource, firstDefinite, type RevocationSource } from './jpki/revocation.ts';
import { type TrustAnchors, verifyJpki } from './jpki/verify_jpki.ts';
import { createSealer } from './keys/seal.ts';
import { createSigningKeyStore, loadCookieKeys } from './keys/signing_keys.ts';
import { createProvider, STAFF_PREFIX } from './provider/create_provider.ts';
import { createPgAdapterFactory, sweepExpired } from './provider/pg_adapter.ts';
import { createTokenVerifier } from './provider/token_verifier.ts';
import { captureRequestContext, runWithRequest } from './request_context.ts';
import { idpMigrations } from './schema.ts';
import { residentAdminRoutes } from './bulk/admin_routes.ts';
import { type BulkRegistration, createBulkRegistration } from './bulk/bulk_registration.ts';
import { createDevices, type Devices } from './passkeys/devices.ts';
import { createPasskeys, type Passkeys } from './passkeys/passkeys.ts';
import { type Assurance, createAssurance } from './signup/assurance.ts';
import { createEmailAccounts, type EmailAccounts } from './signup/email_accounts.ts';
import { residentSignIn } from './signup/login_routes.ts';
import { createMemoryMailer, createSmtpMailer, type Mailer } from './signup/mailer.ts';
import { type BreachedPasswords, createRangeApiClient, defaultBreachList } from './signup/passwords.ts';
import { profileFieldsFrom } from './signup/profile_fields.ts';
import { createRaiseAssurance } from './signup/raise_assurance.ts';
import { residentApiRoutes } from './signup/resident_api.ts';
import { signupMigrations } from './signup/schema.ts';
import { signupRoutes } from './signup/signup_routes.ts';
import { createStaffAccounts, type StaffAccounts } from './staff/staff_accounts.ts';

export type { AccountRecord, Accounts, VerifiedProfile } from './accounts/accounts.ts';
export type { LinkChange, LinkChangeRequest, LinkChanges, LinkEvent } from './accounts/link_changes.ts';
export type { ClientRegistry, PartnerClient, PartnerClientInput } from './clients/client_registry.ts';
export type { Federation, FederationOutcome, UpstreamConfig } from './federation/upstream_federation.ts';
export type { IdentityProofing, ProofingResult } from './jpki/identity_proofing.ts';
export { OcspRevocationSource } from './jpki/ocsp_source.ts';
export type { RevocationSource, RevocationStatus } from './jpki/revocation.ts';
export { CrlRevocationSource, firstDefinite } from './jpki/revocation.ts';
export { ACR } from './provider/create_provider.ts';
export type { StaffAccounts, StaffAuthResult } from './staff/staff_accounts.ts';
export type { BulkOptions, BulkRegistration, BulkReport } from './bulk/bulk_registration.ts';
export type { Device, DeviceKind, Devices } from './passkeys/devices.ts';
export type { PasskeyInfo, Passkeys } from './passkeys/passkeys.ts';
export type { Assurance } from './signup/assurance.ts';
export type { EmailAccounts, EmailLogin } from './signup/email_accounts.ts';
export type { MailMessage, Mailer, MemoryMailer } from './signup/mailer.ts';
export { createMemoryMailer, createSmtpMailer } from './signup/mailer.ts';
export type { BreachedPasswords } from './signup/passwords.ts';
export { createLocalBreachList, createRangeApiClient } from './signup/passwords.ts';

export interface IdpServices {
  /** `${PUBLIC_URL}/oidc` */
  issuer: string;
  /** The resource indicator of the platform API (`${PUBLIC_URL}/api`): tokens for it pass `requireToken`. */
  apiResource: string;
  accounts: Accounts;
  clients: ClientRegistry;
  /** My Number card verification: nonces, enrollment, login, the duplicate review queue. */
  proofing: IdentityProofing;
  /** Upstream OpenID providers: our redirect URI is `${PUBLIC_URL}/idp/federation/callback`. */
  federation: Federation;
  /** Corrections of wrong links (two approvers) and the partner services' link events. */
  links: LinkChanges;
  /** Staff accounts for the admin console (password + TOTP); console clients are registered with `staffConsole`. */
  staff: StaffAccounts;
  /** Residents registered by e-mail (sign-up, invitations, profile, logical deletion). */
  residents: EmailAccounts;
  /** Staff bulk registration from CSV, and the user import of a migration. */
  bulk: BulkRegistration;
  /** Residents' passkeys (WebAuthn), listing and revocation. */
  passkeys: Passkeys;
  /** IC cards and card-reader terminals: usable or revoked; lost My Number cards. */
  devices: Devices;
  /** Residents' assurance levels and point types' minimums. */
  assurance: Assurance;
  /** Adds fresh signing keys, retires the current ones (still published) and reloads the provider. */
  rotateSigningKeys(actor: string): Promise<string[]>;
  /** The running provider (after start). */
  provider(): Provider;
}

const SWEEP_MS = 60_000;

export interface IdpOptions {
  jpki?: {
    /** Trust anchors (PEM bundle text or DER certificates) for JPKI certificate chains. */
    trustAnchors?: string | Uint8Array[];
    /** The anchors are a test CA: production refuses to start with them. */
    test?: boolean;
    /** CRLs (DER) for the built-in CRL revocation source. */
    crls?: Uint8Array[];
    /** OCSP responder asked first; the CRLs answer when it cannot. */
    ocspUrl?: string;
    /** Replaces the revocation source (OCSP, a J-LIS platform-operator adapter). */
    revocation?: RevocationSource;
  };
  /** Upstream OpenID providers residents may sign in with (more can be added via `services.federation.add`). */
  upstreams?: UpstreamConfig[];
  /** Failed card logins allowed per client address and per certificate within a window (default 10 in 15 min). */
  loginThrottle?: ThrottleSettings;
  /** How often expired state is swept and rotated keys are picked up (default one minute). */
  maintenanceIntervalMs?: number;
  /** Sends verification links and invitations (default: SMTP_URL, else kept in memory with a warning). */
  mailer?: Mailer;
  /** Breached-password check (default: BREACHED_PASSWORDS_URL's range API, else the shipped list). */
  breachedPasswords?: BreachedPasswords;
  /** Sign-up profile fields (`SIGNUP_PROFILE_FIELDS`, default `name,birthdate,postal_code`). */
  profileFields?: string;
}

function pemCertificates(text: string): X509Certificate[] {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)].map(
    (m) => new X509Certificate(m[0]),
  );
}

/**
 * Options from the environment until core's configuration has idp settings:
 * JPKI_TRUST_ANCHORS_FILE (PEM bundle of the J-LIS CA certificates), JPKI_CRL_FILES (comma-separated
 * DER CRLs) and JPKI_OCSP_URL (an OCSP responder asked before the CRLs).
 */
export function idpOptionsFromEnv(env: Record<string, string | undefined> = process.env): IdpOptions {
  const anchors = env['JPKI_TRUST_ANCHORS_FILE'];
  const ocspUrl = env['JPKI_OCSP_URL'];
  const crls = (env['JPKI_CRL_FILES'] ?? '')
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  const smtp = env['SMTP_URL'];
  const breached = env['BREACHED_PASSWORDS_URL'];
  return {
    ...(smtp
      ? { mailer: createSmtpMailer({ url: smtp, from: env['SMTP_FROM'] ?? 'noreply@tsunagu.invalid' }) }
      : {}),
    ...(breached ? { breachedPasswords: createRangeApiClient({ url: breached }) } : {}),
    ...(env['SIGNUP_PROFILE_FIELDS'] ? { profileFields: env['SIGNUP_PROFILE_FIELDS'] } : {}),
    jpki: {
      ...(anchors ? { trustAnchors: readFileSync(anchors, 'utf8') } : {}),
      crls: crls.map((f) => readFileSync(f)),
      ...(ocspUrl ? { ocspUrl } : {}),
    },
  };
}

export function createIdpModuleWith(options: IdpOptions): ModuleFactory<IdpServices> {
  return (ctx) => createIdp(ctx, options);
}

/** The identity provider configured from the environment (see `idpOptionsFromEnv`). */
export const createIdpModule: ModuleFactory<IdpServices> = (ctx) => createIdp(ctx, idpOptionsFromEnv());

function createIdp(ctx: ModuleContext, options: IdpOptions): TsunaguModule<IdpServices> {
  const { config, db, audit, now } = ctx;
  const anchorInput = options.jpki?.trustAnchors;
  const anchors: TrustAnchors = {
    certificates:
      anchorInput === undefined
        ? []
        : typeof anchorInput === 'string'
          ? pemCertificates(anchorInput)
          : anchorInput.map((d) => new X509Certificate(d)),
    isTest: options.jpki?.test === true,
  };
  if (anchors.isTest && config.env === 'production') {
    throw new Error('idp: refusing to start in production with a test JPKI trust anchor');
  }
  if (anchors.isTest)
    ctx.logger.warn(
      'UNSAFE DEFAULT: JPKI trust anchors are a test CA; identities are marked trust_framework=test',
    );
  if (anchors.certificates.length === 0)
    ctx.logger.warn(
      'idp: no JPKI trust anchors configured (JPKI_TRUST_ANCHORS_FILE); card login is unavailable',
    );
  const crlSource = new CrlRevocationSource();
  for (const crl of options.jpki?.crls ?? []) crlSource.add(crl);
  const ocspUrl = options.jpki?.ocspUrl;
  const revocation =
    options.jpki?.revocation ??
    (ocspUrl ? firstDefinite([new OcspRevocationSource({ url: ocspUrl }), crlSource]) : crlSource);
  const issuer = `${config.publicUrl}/oidc`;
  const apiResource = `${config.publicUrl}/api`;
  const sealer = createSealer(config);
  const keys = createSigningKeyStore(db, sealer, now);
  const accounts = createAccounts(db, sealer, now);
  const staff = createStaffAccounts({ db, audit, sealer, allowedRanges: config.adminIpAllowList, now });

  let provider: Provider | undefined;
  let callback: ReturnType<Provider['callback']> | undefined;
  const running = () => {
    if (!provider) throw new ProblemError('not-ready', { detail: 'The identity provider is starting.' });
    return provider;
  };

  const clients: ClientRegistry = createClientRegistry({
    db,
    audit,
    sealer,
    now,
    validate: async (metadata) => {
      await running().Client.validate(metadata as Parameters<Provider['Client']['validate']>[0]);
    },
    revokeClient: async (clientId) => {
      await db.query('DELETE FROM idp.oidc_payloads WHERE client_id = $1', [clientId]);
    },
  });
  const mayReceiveVerifiedClaims = async (clientId: string) =>
    (await clients.cached(clientId))?.verifiedClaims === true;

  async function rotateSigningKeys(actor: string): Promise<string[]> {
    const kids = await keys.rotate();
    await audit.record({ actor, action: 'idp.keys.rotate', target: 'idp:signing-keys', details: { kids } });
    await build();
    return kids;
  }

  let keyVersion = '';
  const build = async () => {
    keyVersion = await keys.version();
    const next = createProvider({
      issuer,
      apiResource,
      jwks: await keys.load(),
      cookieKeys: await loadCookieKeys(db, sealer, now),
      adapter: createPgAdapterFactory(db, now, (id) => clients.providerMetadata(id)),
      findAccount: createFindAccount({ accounts, audit, mayReceiveVerifiedClaims, staff }),
      pairwiseSubject: (accountId, clientId) => accounts.pairwiseSubject(accountId, clientId),
      allowsAddress: async (clientId, ip) => (await clients.checkAddress(clientId, ip)) === 'allowed',
      apiScopesOf: async (clientId) => (await clients.cached(clientId))?.scopes ?? [],
      mayReceiveVerifiedClaims,
      minimumAcrOf: async (clientId) => (await clients.cached(clientId))?.minimumAcr ?? undefined,
      interactionsPath: '/idp/interaction',
      secureCookies: config.publicUrl.startsWith('https://'),
      trustProxy: config.trustedProxies.length > 0,
      ttl: { accessToken: 600, clientCredentials: 600 },
    });
    next.on('server_error', (_ctx, error) => ctx.logger.error({ err: error }, 'oidc provider error'));
    provider = next;
    callback = next.callback();
  };

  const oidc: RequestHandler = (req, res, next) => {
    if (!callback)
      return next(new ProblemError('not-ready', { detail: 'The identity provider is starting.' }));
    const handle = callback;
    runWithRequest({ ip: req.ip }, () => handle(req, res));
  };

  const admin = clientAdminRoutes(ctx, clients, (actor) => rotateSigningKeys(actor));
  const links = createLinkChanges({ db, audit, sealer, accounts, now });
  const proofing = createIdentityProofing({
    db,
    audit,
    sealer,
    accounts,
    nonces: createNonceStore(db, now),
    anchors: () => anchors,
    revocation: () => revocation,
    now,
  });
  const federation = createFederation({
    db,
    audit,
    sealer,
    accounts,
    redirectUri: `${config.publicUrl}/idp/federation/callback`,
    upstreams: options.upstreams ?? [],
    now,
  });
  const throttle = createLoginThrottle(db, now, options.loginThrottle ?? DEFAULT_THROTTLE);
  if (!options.mailer)
    ctx.logger.warn(
      'UNSAFE DEFAULT: no SMTP_URL; sign-up links and invitations are kept in memory, not sent',
    );
  const passkeys = createPasskeys({ db, audit, now, publicUrl: config.publicUrl, rpName: 'つなぐ Tsunagu' });
  const residents = createEmailAccounts({
    db,
    audit,
    sealer,
    accounts,
    passkeys,
    mailer: options.mailer ?? createMemoryMailer(),
    breached: options.breachedPasswords ?? defaultBreachList(),
    fields: profileFieldsFrom(options.profileFields),
    publicUrl: config.publicUrl,
    now,
  });
  const nonceStore = createNonceStore(db, now);
  const raise = createRaiseAssurance({
    db,
    audit,
    sealer,
    accounts,
    nonces: nonceStore,
    verify: (card, nonce, expected) =>
      verifyJpki(
        {
          certificate: card.certificate,
          intermediates: card.intermediates ?? [],
          signature: card.signature,
          nonce,
          expected,
        },
        anchors,
        revocation,
        now(),
      ),
    isTest: () => anchors.isTest,
    now,
  });
  const assurance = createAssurance({ db, audit, now });
  const devices = createDevices({ db, audit, sealer, now });
  const bulk = createBulkRegistration({ db, audit, emailAccounts: residents, now });
  const minimumAcrOfClient = async (clientId: string) =>
    (await clients.cached(clientId))?.minimumAcr ?? undefined;
  const interactions = interactionRoutes({
    ctx,
    provider: running,
    proofing,
    federation,
    throttle,
    staff,
    isStaffConsole: async (clientId) => (await clients.cached(clientId))?.staffConsole === true,
    minimumAcrOf: async (clientId) => (await clients.cached(clientId))?.minimumAcr ?? undefined,
    resident: residentSignIn({
      emailAccounts: residents,
      passkeys,
      raise,
      throttle,
      audit,
      minimumAcrOf: minimumAcrOfClient,
    }),
  });
  const identityRoutes = identityAdminRoutes(ctx, links, proofing);

  let sweeper: NodeJS.Timeout | undefined;
  return {
    name: 'idp',
    migrations: [{ module: 'idp', schema: 'idp', migrations: idpMigrations }, signupMigrations],
    routers: [
      // First: every later module's requests carry the client address for the token verifier.
      { prefix: '/', router: captureRequestContext },
      { prefix: '/oidc', router: oidc, parseBody: false },
      { prefix: '/idp', router: interactions.router },
      { prefix: '/idp', router: signupRoutes({ emailAccounts: residents, passkeys, throttle }) },
      {
        prefix: '/api/admin/idp',
        router: residentAdminRoutes(ctx, { bulk, emailAccounts: residents, passkeys, devices, assurance })
          .router,
      },
      {
        prefix: '/api/idp',
        router: residentApiRoutes(ctx, { emailAccounts: residents, passkeys, devices, assurance }).router,
      },
      { prefix: '/api/admin/idp', router: admin.router },
      { prefix: '/api/admin/idp', router: identityRoutes.admin.router },
      { prefix: '/api/idp', router: identityRoutes.partner.router },
    ],
    services: {
      issuer,
      apiResource,
      accounts,
      clients,
      proofing,
      federation,
      links,
      staff,
      residents,
      bulk,
      passkeys,
      devices,
      assurance,
      provider: running,
      rotateSigningKeys,
    },
    tokenVerifier: createTokenVerifier({
      db,
      apiResource,
      now,
      checkAddress: (clientId, ip) => clients.checkAddress(clientId, ip),
      accountActive: (id) => (id.startsWith(STAFF_PREFIX) ? staff.isActive(id) : accounts.isActive(id)),
    }),
    async start() {
      await keys.ensure();
      await build();
      // Every minute: drop expired provider state, and reload keys another instance rotated.
      sweeper = setInterval(() => {
        sweepExpired(db, now())
          .then(async () => {
            if ((await keys.version()) !== keyVersion) await build();
          })
          .catch((error) => ctx.logger.warn({ err: error }, 'idp sweep failed'));
      }, options.maintenanceIntervalMs ?? SWEEP_MS);
      sweeper.unref();
    },
    async stop() {
      if (sweeper) clearInterval(sweeper);
    },
  };
}
