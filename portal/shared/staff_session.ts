/**
 * Signing staff in to the admin console (`/admin`) through our OpenID provider. The console is a
 * client registered with `staffConsole: true`, so the provider shows its staff sign-in page
 * (password + TOTP, only from ADMIN_IP_ALLOWLIST) instead of the resident card login. The console
 * accepts an ID token only with the staff `acr` and a staff id as subject, then keeps its own
 * session: a cookie (path `/admin`) holding the staff id and an expiry, HMAC-signed, that ends with
 * the provider's 30-minute staff session. The login state (state, nonce, PKCE verifier, return path)
 * lives in a second short-lived signed cookie. Every sign-in asks for the password and code again
 * (`prompt=login`), so a provider session left open elsewhere never signs anyone in to the console.
 *
 * @example
 *   const session = createStaffSession({ issuer, client, redirectUri, secret, … });
 *   router.get('/login', (req, res) => session.login(req, res, '/admin'));
 *   const who = session.staffOf(req); // { staffId: 'st_…', username: 'sato' } or undefined
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import * as oidc from 'openid-client';

/** An entry in the admin console's navigation; shown only to staff holding `role` (when set). */
export interface AdminNavEntry {
  href: string;
  ja: string;
  en: string;
  role?: string;
}

/** Who is signed in to the console, as the session cookie says. */
export interface StaffIdentity {
  staffId: string;
  username: string;
}

/** A signed-in staff member with what they may do (set by `requireStaff` on `res.locals.staff`). */
export interface StaffMember extends StaffIdentity {
  /** Privileged staff (created with `--privileged`) hold every role. */
  privileged: boolean;
  roles: readonly string[];
  has(role: string): boolean;
  /** The form token for this session (CSRF); put it in a hidden `csrf` field of every POST form. */
  csrf: string;
}

export interface StaffSessionOptions {
  /** The OpenID provider's issuer (`idp.issuer`). */
  issuer: string;
  client: { clientId: string; clientSecret: string };
  /** Absolute URL of the callback route, registered with the client. */
  redirectUri: string;
  /** Key for the cookie signatures (≥ 32 bytes). */
  secret: Buffer;
  /** The ACR a staff sign-in carries (`ACR.staff`). */
  staffAcr: string;
  /** The staff member's username when the account is active, else undefined. */
  activeStaff(staffId: string): Promise<string | undefined>;
  secureCookies: boolean;
  /** Cookie path: the console's base path. */
  path: string;
  now: () => Date;
  ttlSeconds?: number;
}

export interface StaffSession {
  /** The signed-in staff member, if the session cookie is valid now (not yet checked against the account). */
  staffOf(req: Request): StaffIdentity | undefined;
  /** A token bound to the session, for forms (CSRF). */
  csrfFor(req: Request): string;
  checkCsrf(req: Request, token: unknown): boolean;
  /** Redirects to the provider's staff sign-in; `returnTo` must be a path under the console. */
  login(req: Request, res: Response, returnTo: string): Promise<void>;
  /** Completes the sign-in; resolves the path to return to, or undefined when it failed. */
  callback(req: Request, res: Response): Promise<{ returnTo: string; staffId: string } | undefined>;
  logout(res: Response): void;
}

const SESSION = 'tsunagu_admin';
const LOGIN = 'tsunagu_admin_login';

function cookies(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

export function createStaffSession(o: StaffSessionOptions): StaffSession {
  const ttl = o.ttlSeconds ?? 1800;
  const mac = (purpose: string, value: string) =>
    createHmac('sha256', o.secret).update(`staff\u0000${purpose}\u0000${value}`).digest('base64url');
  const seal = (purpose: string, payload: unknown) => {
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${mac(purpose, body)}`;
  };
  const same = (a: string, b: string) => {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length === y.length && timingSafeEqual(x, y);
  };
  const unseal = <T>(purpose: string, value: string | undefined): T | undefined => {
    if (!value) return undefined;
    const [body, tag] = value.split('.');
    if (!body || !tag || !same(mac(purpose, body), tag)) return undefined;
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
    staffOf(req) {
      const s = unseal<{ sid: string; name: string }>('session', sessionValue(req));
      return s ? { staffId: s.sid, username: s.name } : undefined;
    },
    csrfFor(req) {
      return mac('csrf', sessionValue(req) ?? '');
    },
    checkCsrf(req, token) {
      const value = sessionValue(req);
      return Boolean(value) && typeof token === 'string' && same(mac('csrf', value!), token);
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
        prompt: 'login',
        acr_values: o.staffAcr,
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
        const claims = tokens.claims();
        // Only a staff sign-in (password + TOTP at the provider) opens the console.
        if (!claims?.sub.startsWith('st_') || claims['acr'] !== o.staffAcr) return undefined;
        const username = await o.activeStaff(claims.sub);
        if (username === undefined) return undefined;
        const exp = Math.floor(o.now().getTime() / 1000) + ttl;
        cookie(res, SESSION, seal('session', { sid: claims.sub, name: username, exp }), ttl);
        return { returnTo: login.returnTo, staffId: claims.sub };
      } catch {
        return undefined;
      }
    },
    logout(res) {
      res.clearCookie(SESSION, { path: o.path });
    },
  };
}
