/**
 * portal — the web front ends. Today: the resident's consent pages (`/portal/consent`, built in
 * `portal/consent/`), signed in through the platform's own OpenID provider.
 *
 * The pages are an OpenID client of the identity provider like any partner. The portal registers
 * that client once per deployment, keeps its secret sealed (AES-256-GCM under a key derived from
 * MASTER_KEY) in `portal.oidc_clients`, and every instance reuses it: an advisory lock makes
 * instances starting together register it only once.
 */

import { deriveKey, type ModuleFactory, openWith, ProblemError, sealWith } from '../core/index.ts';
import type { IdpServices } from '../idp/index.ts';
import { mountConsentPortal } from './consent/mount.ts';

const CONSENT_BASE = '/portal/consent';
const CLIENT_LOCK = 0x706f7274; // "port"

export const createPortalModule: ModuleFactory = (ctx) => {
  const key = deriveKey(ctx.config, 'tsunagu/portal/client-secret');
  let consentPages: ReturnType<typeof mountConsentPortal> | undefined;

  /** The consent pages' OpenID client: registered on first start, reused afterwards. */
  async function consentClient(): Promise<{ clientId: string; clientSecret: string }> {
    const idp = ctx.services['idp'] as IdpServices | undefined;
    if (!idp) throw new Error('the portal needs the idp module before it');
    return ctx.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [CLIENT_LOCK]);
      const { rows } = await tx.query<{ client_id: string; sealed_secret: string }>(
        `SELECT client_id, sealed_secret FROM portal.oidc_clients WHERE purpose = 'consent-pages'`,
      );
      const stored = rows[0];
      if (stored) {
        return {
          clientId: stored.client_id,
          clientSecret: openWith(key, stored.client_id, stored.sealed_secret),
        };
      }
      const created = await idp.clients.create(
        {
          name: '住民ポータル / Resident portal',
          grantTypes: ['authorization_code'],
          scopes: ['consent:self'],
          redirectUris: [`${ctx.config.publicUrl}${CONSENT_BASE}/callback`],
        },
        'system:portal',
      );
      const clientId = created.client.clientId;
      await tx.query(
        `INSERT INTO portal.oidc_clients (purpose, client_id, sealed_secret) VALUES ('consent-pages', $1, $2)`,
        [clientId, sealWith(key, clientId, created.clientSecret!)],
      );
      return { clientId, clientSecret: created.clientSecret! };
    });
  }

  return {
    name: 'portal',
    migrations: {
      module: 'portal',
      schema: 'portal',
      migrations: [
        {
          id: '001_oidc_clients',
          sql: `
            CREATE TABLE portal.oidc_clients (
              purpose        text PRIMARY KEY,
              client_id      text NOT NULL,
              sealed_secret  text NOT NULL,
              created_at     timestamptz NOT NULL DEFAULT now()
            );`,
        },
      ],
    },
    routers: [
      {
        prefix: CONSENT_BASE,
        router: (req, res, next) =>
          consentPages
            ? consentPages.handler(req, res, next)
            : next(new ProblemError('not-ready', { detail: 'The portal is starting.' })),
      },
    ],
    services: {},
    async start() {
      const pages = mountConsentPortal(ctx, { base: CONSENT_BASE, client: await consentClient() });
      await pages.start();
      consentPages = pages;
    },
  };
};
