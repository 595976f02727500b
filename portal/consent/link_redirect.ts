/**
 * Linking a partner account by signing in at the partner (OAuth 2.0 authorization code + PKCE with
 * OpenID Connect, openid-client as the relying party):
 *
 *   POST {base}/links/:service/connect   (CSRF) → 303 to the partner's authorization endpoint
 *   GET  {base}/links/callback           the partner's answer → link under its subject → links page
 *
 * The login state (service, state, nonce, PKCE verifier, the resident who started) rides in a
 * short-lived HMAC-signed cookie scoped to `{base}/links`; the callback links only when the same
 * resident is still signed in, the state matches and the partner's ID token verifies. The link's
 * `accountRef` is the ID token's `sub`: the partner's (pairwise) identifier of that account.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Request, Response, Router } from 'express';
import * as oidc from 'openid-client';
import type { ConsentServices } from '../../consent/index.ts';
import { ProblemError } from '../../core/index.ts';
import type { LinkPartners } from './link_partners.ts';

export interface RedirectLinkDeps {
  partners: LinkPartners;
  /** Key for the state cookie (≥ 32 bytes). */
  secret: Buffer;
  secureCookies: boolean;
  now: () => Date;
}

const COOKIE = 'tsunagu_link';
const STATE_TTL_S = 600;

interface LinkState {
  service: string;
  resident: string;
  state: string;
  nonce: string;
  verifier: string;
  exp: number;
}

export function redirectLinkRoutes(
  router: Router,
  d: RedirectLinkDeps & {
    consent: ConsentServices;
    base: string;
    signedIn(req: Request, res: Response): string | undefined;
    checkCsrf(req: Request): void;
  },
): void {
  const cookiePath = `${d.base}/links`;
  const mac = (body: string) =>
    createHmac('sha256', d.secret).update(`link-state\u0000${body}`).digest('base64url');
  const readState = (req: Request): LinkState | undefined => {
    const raw = (req.headers.cookie ?? '')
      .split(';')
      .map((p) => p.trim())
      .find((p) => p.startsWith(`${COOKIE}=`))
      ?.slice(COOKIE.length + 1);
    const [body, tag] = (raw ?? '').split('.');
    if (!body || !tag) return undefined;
    const expected = Buffer.from(mac(body));
    const given = Buffer.from(tag);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    const state = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as LinkState;
    return state.exp * 1000 > d.now().getTime() ? state : undefined;
  };

  const configs = new Map<string, Promise<oidc.Configuration>>();
  const configuration = async (service: string) => {
    const partner = await d.partners.secretOf(service);
    if (!partner) return undefined;
    const key = JSON.stringify([partner.issuer, partner.clientId, partner.clientSecret]);
    let config = configs.get(key);
    if (!config) {
      config = oidc
        .discovery(
          new URL(partner.issuer),
          partner.clientId,
          { redirect_uris: [d.partners.redirectUri] },
          oidc.ClientSecretBasic(partner.clientSecret),
          partner.issuer.startsWith('http://') ? { execute: [oidc.allowInsecureRequests] } : {},
        )
        .catch((error: unknown) => {
          configs.delete(key);
          throw error;
        });
      configs.set(key, config);
    }
    return { partner, config: await config };
  };
  const back = (res: Response, m: string) => {
    res.clearCookie(COOKIE, { path: cookiePath });
    res.redirect(303, `${d.base}/links?m=${m}`);
  };

  router.post('/links/:service/connect', async (req, res) => {
    const resident = d.signedIn(req, res);
    if (!resident) return;
    d.checkCsrf(req);
    const service = String(req.params['service']);
    if (await d.consent.isLinked(resident, service)) return back(res, 'already');
    let found: Awaited<ReturnType<typeof configuration>>;
    try {
      found = await configuration(service);
    } catch {
      return back(res, 'partner-unavailable');
    }
    if (!found)
      throw new ProblemError('not-found', { detail: 'This service does not offer linking by sign-in.' });
    const verifier = oidc.randomPKCECodeVerifier();
    const state: LinkState = {
      service,
      resident,
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      verifier,
      exp: Math.floor(d.now().getTime() / 1000) + STATE_TTL_S,
    };
    const body = Buffer.from(JSON.stringify(state)).toString('base64url');
    res.cookie(COOKIE, `${body}.${mac(body)}`, {
      httpOnly: true,
      sameSite: 'lax',
      secure: d.secureCookies,
      path: cookiePath,
      maxAge: STATE_TTL_S * 1000,
    });
    const url = oidc.buildAuthorizationUrl(found.config, {
      redirect_uri: d.partners.redirectUri,
      scope: found.partner.scope,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: state.state,
      nonce: state.nonce,
    });
    res.redirect(303, url.href);
  });

  router.get('/links/callback', async (req, res) => {
    const resident = d.signedIn(req, res);
    if (!resident) return;
    const state = readState(req);
    if (!state || state.resident !== resident) return back(res, 'redirect-failed');
    if (typeof req.query['error'] === 'string') return back(res, 'cancelled');
    let sub: string | undefined;
    try {
      const found = await configuration(state.service);
      if (!found) return back(res, 'redirect-failed');
      const tokens = await oidc.authorizationCodeGrant(
        found.config,
        new URL(req.originalUrl, d.partners.redirectUri),
        {
          pkceCodeVerifier: state.verifier,
          expectedState: state.state,
          expectedNonce: state.nonce,
          idTokenExpected: true,
        },
      );
      sub = tokens.claims()?.sub;
    } catch {
      return back(res, 'redirect-failed');
    }
    if (!sub) return back(res, 'redirect-failed');
    try {
      await d.consent.linkVerified(
        { resident, service: state.service, accountRef: sub, method: 'oauth-redirect' },
        'resident',
      );
    } catch (error) {
      if (error instanceof ProblemError && error.code === 'already-linked') return back(res, 'already');
      throw error;
    }
    back(res, 'linked');
  });
}
