/**
 * Signing residents in to the consent pages through our OpenID provider (authorization code + PKCE,
 * openid-client as the relying party). The portal is a partner client like any other: its ID
 * token carries the resident's pairwise subject, which the identity provider maps back to the
 * common ID. The session is a cookie holding that common ID and an expiry, HMAC-signed; the login
 * state (state, nonce, PKCE verifier, where to return) lives in a second short-lived signed cookie.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import * as oidc from 'openid-client';

export interface ResidentSessionOptions {
  /** The OpenID provider's issuer (`idp.issuer`). */
  issuer: string;
  client: { clientId: string; clientSecret: string };
  /** Absolute URL of the callback route, registered with the client. */
  redirectUri: string;
  /** Key for the cookie signatures (≥ 32 bytes). */
  secret: Buffer;
  commonIdForSubject(clientId: string, sub: string): Promise<string | undefined>;
  secureCookies: boolean;
  /** Cookie path: the pages' base path. */
  path: string;
  now: () => Date;
  ttlSeconds?: number;
}

export interface ResidentSession {
  /** The signed-in resident's common ID, if the session cookie is valid now. */
  residentOf(req: Request): string | undefined;
  /** A token bound to the session, for forms (CSRF). */
  csrfFor(req: Request): string;
  checkCsrf(req: Request, token: unknown): boolean;
  /** Redirects to the provider; `returnTo` must be a path under the pages. */
  login(req: Request, res: Response, returnTo: string): Promise<void>;
  /** Completes the login; resolves the path to return to, or undefined when it failed. */
  callback(req: Request, res: Response): Promise<string | undefined>;
  logout(res: Response): void;
}

const SESSION = 'tsunagu_portal';
const LOGIN = 'tsunagu_portal_login';

function cookies(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

export function createResidentSession(o: ResidentSessionOptions): ResidentSession {
  const ttl = o.ttlSeconds ?? 1800;
  const mac = (purpose: string, value: string) =>
    createHmac('sha256', o.secret).update(`${purpose}\u0000${value}`).digest('base64url');
  const seal = (purpose: string, payload: unknown) => {
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${mac(purpose, body)}`;
  };
  const unseal = <T>(purpose: string, value: string | undefined): T | undefined => {
    if (!value) return undefined;
    const [body, tag] = value.split('.');
    if (!body || !tag) return undefined;
    const expected = Buffer.from(mac(purpose, body));
    const given = Buffer.from(tag);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as T & { exp: number };
    return payload.exp * 1000 > o.now().getTime() ? payload : undefined;
  };
  const cookie = (res: Response, name: string, value: string, maxAge: number) =>
    res.cookie(name, value, {
      httpOnly: true,
      sameSite: 'lax',
      secure: o.secureCookies,
      path: o.path,
      maxAge: maxAge * 1000,
    });

  let config: Promise<oidc.Configuration> | undefined;
  const configuration = () => {
    config ??= oidc
      .discovery(
        new URL(o.issuer),
        o.client.clientId,
        { redirect_uris: [o.redirectUri] },
        oidc.ClientSecretBasic(o.client.clientSecret),
        o.issuer.startsWith('http://') ? { execute: [oidc.allowInsecureRequests] } : {},
      )
      .catch((error: unknown) => {
        config = undefined;
        throw error;
      });
    return config;
  };
  const sessionValue = (req: Request) => cookies(req)[SESSION];

  return {
    residentOf(req) {
      return unseal<{ cid: string }>('session', sessionValue(req))?.cid;
    },
    csrfFor(req) {
      return mac('csrf', sessionValue(req) ?? '');
    },
    checkCsrf(req, token) {
      const value = sessionValue(req);
      if (!value || typeof token !== 'string') return false;
      const expected = Buffer.from(mac('csrf', value));
      const given = Buffer.from(token);
      return expected.length === given.length && timingSafeEqual(expected, given);
    },
    async login(_req, res, returnTo) {
      const c = await configuration();
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const exp = Math.floor(o.now().getTime() / 1000) + 600;
      cookie(res, LOGIN, seal('login', { verifier, state, nonce, returnTo, exp }), 600);
      const url = oidc.buildAuthorizationUrl(c, {
        redirect_uri: o.redirectUri,
        scope: 'openid',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      res.redirect(303, url.href);
    },
    async callback(req, res) {
      const login = unseal<{ verifier: string; state: string; nonce: string; returnTo: string }>(
        'login',
        cookies(req)[LOGIN],
      );
      res.clearCookie(LOGIN, { path: o.path });
      if (!login) return undefined;
      try {
        const c = await configuration();
        const current = new URL(req.originalUrl, o.redirectUri);
        const tokens = await oidc.authorizationCodeGrant(c, current, {
          pkceCodeVerifier: login.verifier,
          expectedState: login.state,
          expectedNonce: login.nonce,
          idTokenExpected: true,
        });
        const sub = tokens.claims()?.sub;
        const cid = sub ? await o.commonIdForSubject(o.client.clientId, sub) : undefined;
        if (!cid) return undefined;
        cookie(res, SESSION, seal('session', { cid, exp: Math.floor(o.now().getTime() / 1000) + ttl }), ttl);
        return login.returnTo;
      } catch {
        return undefined;
      }
    },
    logout(res) {
      res.clearCookie(SESSION, { path: o.path });
    },
  };
}
