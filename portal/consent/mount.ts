/**
 * Wiring for the portal entry: the consent pages with their OpenID sign-in, built from the module
 * context once the identity provider runs.
 *
 * @example
 *   // in the portal module's factory
 *   const pages = mountConsentPortal(ctx, { client: { clientId, clientSecret } });
 *   return { …, routers: [{ prefix: '/portal/consent', router: pages.handler }], start: pages.start };
 *
 * Without `client`, `start()` registers a fresh portal client with the identity provider (fine for
 * development and tests; a deployment passes a configured one so every instance shares it).
 */
import type { RequestHandler } from 'express';
import type { ConsentServices } from '../../consent/index.ts';
import { deriveKey, type ModuleContext, ProblemError } from '../../core/index.ts';
import type { IdpServices } from '../../idp/index.ts';
import type { NavEntry } from '../shared/html.ts';
import { consentPages } from './consent_pages.ts';
import type { RedirectLinkDeps } from './link_redirect.ts';
import { createResidentSession, type ResidentSession } from '../shared/resident_session.ts';

export interface ConsentPortalOptions {
  /** Where the pages are mounted (default `/portal/consent`). */
  base?: string;
  client?: { clientId: string; clientSecret: string };
  /** The portal's shared resident session (sign-in at `/portal/login`); without it the pages sign in on their own. */
  session?: ResidentSession;
  /** The resident menu (the portal's); default: the consent pages' own entries. */
  nav?: readonly NavEntry[];
  /** Linking by signing in at the partner (OAuth/OIDC redirect). */
  redirectLinks?: RedirectLinkDeps;
  /** Where a resident who is not signed in goes (the portal's `/portal/login?return=…`). */
  loginUrl?(returnTo: string): string;
}

function sessionKey(ctx: ModuleContext): Buffer {
  return deriveKey(ctx.config, 'tsunagu/portal/consent-session');
}

export function mountConsentPortal(
  ctx: ModuleContext,
  options: ConsentPortalOptions = {},
): { handler: RequestHandler; start(): Promise<void> } {
  const base = options.base ?? '/portal/consent';
  let pages: RequestHandler | undefined;
  return {
    handler: (req, res, next) =>
      pages
        ? pages(req, res, next)
        : next(new ProblemError('not-ready', { detail: 'The portal is starting.' })),
    async start() {
      const idp = ctx.services['idp'] as IdpServices | undefined;
      const consent = ctx.services['consent'] as ConsentServices | undefined;
      if (!idp || !consent) throw new Error('the consent pages need the idp and consent modules before them');
      const serviceName = async (id: string) => (await idp.clients.get(id)).name;
      const extra = {
        ...(options.nav ? { nav: options.nav } : {}),
        ...(options.redirectLinks ? { redirectLinks: options.redirectLinks } : {}),
        ...(options.loginUrl ? { loginUrl: options.loginUrl } : {}),
      };
      if (options.session) {
        pages = consentPages({ consent, session: options.session, base, serviceName, ...extra });
        return;
      }
      const redirectUri = `${ctx.config.publicUrl}${base}/callback`;
      let client = options.client;
      if (!client) {
        const created = await idp.clients.create(
          {
            name: '住民ポータル / Resident portal',
            grantTypes: ['authorization_code'],
            scopes: ['consent:self'],
            redirectUris: [redirectUri],
          },
          'system:portal',
        );
        client = { clientId: created.client.clientId, clientSecret: created.clientSecret! };
      }
      const session = createResidentSession({
        issuer: idp.issuer,
        client,
        redirectUri,
        secret: sessionKey(ctx),
        commonIdForSubject: (clientId, sub) => idp.accounts.commonIdForSubject(clientId, sub),
        secureCookies: ctx.config.publicUrl.startsWith('https://'),
        path: base,
        now: ctx.now,
      });
      pages = consentPages({
        consent,
        session,
        base,
        serviceName,
        logoutAction: `${base}/logout`,
        ...extra,
      });
    },
  };
}
