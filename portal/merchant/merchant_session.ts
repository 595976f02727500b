/**
 * The merchant console's session: an HMAC-signed cookie (path `/merchant`, HttpOnly, SameSite=Lax,
 * Secure behind https) naming the account and its credential version, valid for 8 hours. Every
 * request re-reads the account, so a disabled account or a changed password ends the session at
 * once. Forms carry a CSRF token derived from the session cookie.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';

const COOKIE = 'tsunagu_merchant';
const TTL_SECONDS = 8 * 3600;

export interface MerchantSessionPayload {
  /** Account id and the credential version it was signed in with. */
  a: string;
  v: number;
  exp: number;
}

function cookieValue(req: Request): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === COOKIE) return part.slice(i + 1).trim();
  }
  return undefined;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function createMerchantSession(o: { secret: Buffer; path: string; secure: boolean; now: () => Date }) {
  const mac = (purpose: string, value: string) =>
    createHmac('sha256', o.secret).update(`${purpose}\u0000${value}`).digest('base64url');
  return {
    read(req: Request): MerchantSessionPayload | undefined {
      const value = cookieValue(req);
      const [body, tag] = value?.split('.') ?? [];
      if (!body || !tag || !same(mac('session', body), tag)) return undefined;
      const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as MerchantSessionPayload;
      return payload.exp * 1000 > o.now().getTime() ? payload : undefined;
    },
    start(res: Response, account: { id: string; credentialVersion: number }): void {
      const payload: MerchantSessionPayload = {
        a: account.id,
        v: account.credentialVersion,
        exp: Math.floor(o.now().getTime() / 1000) + TTL_SECONDS,
      };
      const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
      res.cookie(COOKIE, `${body}.${mac('session', body)}`, {
        httpOnly: true,
        sameSite: 'lax',
        secure: o.secure,
        path: o.path,
        maxAge: TTL_SECONDS * 1000,
      });
    },
    end(res: Response): void {
      res.clearCookie(COOKIE, { path: o.path, httpOnly: true, sameSite: 'lax', secure: o.secure });
    },
    csrfFor(req: Request): string {
      return mac('csrf', cookieValue(req) ?? '');
    },
    checkCsrf(req: Request, token: unknown): boolean {
      const value = cookieValue(req);
      return Boolean(value) && typeof token === 'string' && same(mac('csrf', value!), token);
    },
  };
}

export type MerchantSession = ReturnType<typeof createMerchantSession>;
