/**
 * The portal's own routes under `/portal`: the shared resident sign-in (`/portal/login`,
 * `/portal/callback`, `/portal/logout`). Every other path falls through to the sections.
 */
import express, { type RequestHandler } from 'express';
import { ProblemError } from '../core/index.ts';
import { bi, page } from './shared/html.ts';
import type { ResidentSession } from './shared/resident_session.ts';

export const PORTAL_BASE = '/portal';

/** A return path the sign-in may send the resident back to: under `/portal`, never another host. */
export function safeReturn(wanted: unknown): string {
  if (typeof wanted !== 'string' || wanted.startsWith('//') || wanted.includes('\\')) return PORTAL_BASE;
  return wanted === PORTAL_BASE ||
    wanted.startsWith(`${PORTAL_BASE}/`) ||
    wanted.startsWith(`${PORTAL_BASE}?`)
    ? wanted
    : PORTAL_BASE;
}

export function residentLoginUrl(returnTo: string): string {
  return `${PORTAL_BASE}/login?return=${encodeURIComponent(safeReturn(returnTo))}`;
}

/**
 * The sign-in routes (`/login`, `/callback`, `/logout`) for pages mounted at `base`: the portal's own
 * at `/portal`, and the consent pages' when they run on their own.
 */
export function portalShell(session: ResidentSession, base = PORTAL_BASE): RequestHandler {
  const router = express.Router();
  router.get('/login', async (req, res) => {
    await session.login(req, res, safeReturn(req.query['return']));
  });
  router.get('/callback', async (req, res) => {
    const returnTo = await session.callback(req, res);
    if (returnTo) return res.redirect(303, returnTo);
    res
      .status(400)
      .type('html')
      .send(
        page({
          title: 'ログインできませんでした',
          titleEn: 'Sign-in did not complete',
          current: null,
          base,
          body: `<p class="error" role="alert">${bi('もう一度お試しください。', 'Please try again.')}</p>
<p><a class="button" href="${base}/login">${bi('ログインする', 'Sign in')}</a></p>`,
        }),
      );
  });
  router.post('/logout', (req, res) => {
    if (!session.checkCsrf(req, (req.body as { csrf?: unknown } | undefined)?.csrf))
      throw new ProblemError('forbidden', { detail: 'The form is out of date. Reload the page.' });
    session.logout(res);
    res
      .status(200)
      .type('html')
      .send(
        page({
          title: 'ログアウトしました',
          titleEn: 'Signed out',
          current: null,
          base,
          body: `<p><a class="button" href="${base}/login">${bi('もう一度ログインする', 'Sign in again')}</a></p>`,
        }),
      );
  });
  return router;
}
