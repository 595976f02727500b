/**
 * Residents sign in to adapter pages (LINE account link, health-app link) through our own OpenID
 * provider: authorization code + PKCE with openid-client, like any partner client. The adapters
 * register one client per deployment on first start (secret sealed in `adapters.oidc_client`).
 * There is no session: a page starts a sign-in carrying what it needs (`carry`), the callback
 * gives back the resident's common ID with it, and the page finishes its flow at once.
 *
 * @example
 *   kit.signIn.on('line-link', async ({ commonId, carry }, req, res) => { … finish the link … });
 *   await kit.signIn.begin(res, { purpose: 'line-link', carry: { linkToken } });
 *   // → our provider → /adapters/signin/callback → the 'line-link' finisher
 */
import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import * as oidc from 'openid-client';
import type { ModuleContext } from '../../core/index.ts';
import { deriveKey, openWith, sealWith } from '../../core/index.ts';
import type { IdpServices } from '../../idp/index.ts';

export const SIGN_IN_BASE = '/adapters/signin';
const COOKIE = 'tsunagu_adapters_signin';
const CLIENT_LOCK = 0x61647031; // "adp1"
const STATE_TTL_S = 600;

export interface SignInState {
  /** Which finisher (`on(purpose, …)`) receives the result. */
  purpose: string;
  /** Data the page needs after the sign-in (e.g. LINE's link token). */
  carry: Record<string, string>;
}

export interface SignInResult extends SignInState {
  commonId: string;
}

export type SignInFinisher = (result: SignInResult, req: Request, res: Response) => Promise<void>;

export interface ResidentSignIn {
  /** Sends the browser to our provider; the result goes to the finisher registered for `purpose`. */
  begin(res: Response, state: SignInState): Promise<void>;
  on(purpose: string, finish: SignInFinisher): void;
  /** Completes the code flow; undefined when the state cookie or the code is not valid. */
  complete(req: Request, res: Response): Promise<SignInResult | undefined>;
  finisher(purpose: string): SignInFinisher | undefined;
}

function cookieOf(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

async function registeredClient(ctx: ModuleContext, idp: IdpServices, redirectUri: string) {
  const key = deriveKey(ctx.config, 'tsunagu/adapters/oidc-client');
  return ctx.db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [CLIENT_LOCK]);
    const { rows } = await tx.query<{ client_id: string; sealed_secret: string }>(
      'SELECT client_id, sealed_secret FROM adapters.oidc_client WHERE purpose = $1',
      ['resident-sign-in'],
    );
    if (rows[0])
      return {
        clientId: rows[0].client_id,
        clientSecret: openWith(key, rows[0].client_id, rows[0].sealed_secret),
      };
    const created = await idp.clients.create(
      {
        name: '外部サービス連携 / Service account links',
        grantTypes: ['authorization_code'],
        scopes: [],
        redirectUris: [redirectUri],
      },
      'system:adapters',
    );
    const clientId = created.client.clientId;
    await tx.query(
      'INSERT INTO adapters.oidc_client (purpose, client_id, sealed_secret) VALUES ($1, $2, $3)',
      ['resident-sign-in', clientId, sealWith(key, clientId, created.clientSecret!)],
    );
    return { clientId, clientSecret: created.clientSecret! };
  });
}

export function createResidentSignIn(ctx: ModuleContext): ResidentSignIn {
  const redirectUri = `${ctx.config.publicUrl}${SIGN_IN_BASE}/callback`;
  const finishers = new Map<string, SignInFinisher>();
  const stateKey = deriveKey(ctx.config, 'tsunagu/adapters/signin-state-seal');
  let configuration: Promise<{ config: oidc.Configuration; clientId: string }> | undefined;

  const idp = () => {
    const services = ctx.services['idp'] as IdpServices | undefined;
    if (!services) throw new Error('adapters: resident sign-in needs the idp module');
    return services;
  };
  const configure = () => {
    configuration ??= (async () => {
      const client = await registeredClient(ctx, idp(), redirectUri);
      const issuer = idp().issuer;
      const config = await oidc.discovery(
        new URL(issuer),
        client.clientId,
        { redirect_uris: [redirectUri] },
        oidc.ClientSecretBasic(client.clientSecret),
        issuer.startsWith('http://') ? { execute: [oidc.allowInsecureRequests] } : {},
      );
      return { config, clientId: client.clientId };
    })().catch((error: unknown) => {
      configuration = undefined;
      throw error;
    });
    return configuration;
  };

  return {
    async begin(res, state) {
      const { config } = await configure();
      const verifier = oidc.randomPKCECodeVerifier();
      const oauthState = oidc.randomState();
      const nonce = oidc.randomNonce();
      const exp = Math.floor(ctx.now().getTime() / 1000) + STATE_TTL_S;
      // Sealed (AES-GCM authenticates too): the carried link token must not be readable from the cookie.
      const id = randomBytes(9).toString('base64url');
      const body = sealWith(stateKey, id, JSON.stringify({ verifier, oauthState, nonce, exp, ...state }));
      res.cookie(COOKIE, `${id}~${body}`, {
        httpOnly: true,
        sameSite: 'lax',
        secure: ctx.config.publicUrl.startsWith('https://'),
        path: SIGN_IN_BASE,
        maxAge: STATE_TTL_S * 1000,
      });
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state: oauthState,
        nonce,
      });
      res.redirect(303, url.href);
    },

    on(purpose, finish) {
      finishers.set(purpose, finish);
    },
    finisher: (purpose) => finishers.get(purpose),

    async complete(req, res) {
      const raw = cookieOf(req, COOKIE);
      res.clearCookie(COOKIE, { path: SIGN_IN_BASE });
      const [id, body] = raw?.split('~') ?? [];
      if (!id || !body) return undefined;
      let state: SignInState & { verifier: string; oauthState: string; nonce: string; exp: number };
      try {
        state = JSON.parse(openWith(stateKey, id, body)) as typeof state;
      } catch {
        return undefined;
      }
      if (state.exp * 1000 <= ctx.now().getTime()) return undefined;
      try {
        const { config, clientId } = await configure();
        const tokens = await oidc.authorizationCodeGrant(config, new URL(req.originalUrl, redirectUri), {
          pkceCodeVerifier: state.verifier,
          expectedState: state.oauthState,
          expectedNonce: state.nonce,
          idTokenExpected: true,
        });
        const sub = tokens.claims()?.sub;
        const commonId = sub ? await idp().accounts.commonIdForSubject(clientId, sub) : undefined;
        if (!commonId) return undefined;
        return { commonId, purpose: state.purpose, carry: state.carry };
      } catch (err) {
        ctx.logger.info({ err }, 'adapters: resident sign-in failed');
        return undefined;
      }
    },
  };
}
