/**
 * portal — the web front ends: resident pages under `/portal`, staff pages under `/admin`, the public
 * site. Each group of pages is a section (`portal/shared/section.ts`) listed in SECTIONS below.
 *
 * Residents sign in once for every resident page: the portal is an OpenID client of the platform's
 * own provider like any partner. It registers that client once per deployment, keeps its secret
 * sealed (AES-256-GCM under a key derived from MASTER_KEY) in `portal.oidc_clients`, and every
 * instance reuses it: an advisory lock makes instances starting together register it only once.
 */

import type { RequestHandler } from 'express';
import {
  deriveKey,
  type ModuleContext,
  type ModuleFactory,
  type ModuleMigrations,
  openWith,
  ProblemError,
  sealWith,
} from '../core/index.ts';
import type { IdpServices } from '../idp/index.ts';
import { accessAdminSection, accessSection } from './access/section.ts';
import { adminSection } from './admin/section.ts';
import { adaptersAdminSection } from './admin_adapters/section.ts';
import { dashboardsAdminSection } from './admin_dashboards/section.ts';
import { sheltersAdminSection } from './admin_shelters/section.ts';
import { createStaffConsole } from './admin/staff_console.ts';
import type { LinkPartners } from './consent/link_partners.ts';
import { consentSection, linkPartnersAdminSection } from './consent/section.ts';
import { servicesAdminSection, servicesSection } from './municipal_services/section.ts';
import { noticesAdminSection, noticesSection } from './notices/section.ts';
import { surveysAdminSection, surveysSection } from './surveys/section.ts';
import { directoryStaffSection, merchantAdminSection, merchantSection } from './merchant/section.ts';
import { publicSection } from './public/section.ts';
import { homeSection } from './home/section.ts';
import { pointsSection } from './points/section.ts';
import type { NotificationPreferences } from './preferences/preferences.ts';
import { preferencesSection } from './preferences/section.ts';
import type { ResidentQrService } from './qr/resident_qr.ts';
import { qrSection } from './qr/section.ts';
import { apiDocsSection, helpSection, staffHelpSection } from './help/section.ts';
import type { PortalContext, PortalSection } from './shared/section.ts';
import { createResidentSession } from './shared/resident_session.ts';
import { PORTAL_BASE, portalShell, residentLoginUrl } from './shell.ts';

export type { PortalContext, PortalSection } from './shared/section.ts';
export type { LinkPartner, LinkPartners } from './consent/link_partners.ts';
export type {
  NotificationPreferences,
  NotificationKind,
  NotificationChannel,
} from './preferences/preferences.ts';
export type { ResidentQrService, VerifiedResidentQr } from './qr/resident_qr.ts';

/** What other modules may call (`ctx.services['portal']`); sections add theirs (see README). */
export interface PortalServices {
  /** The resident's QR code: `verify(token, actor)`, `redeem(token, { purpose, actor })`. */
  qr: ResidentQrService;
  /** Notification preferences per resident, kind and channel (opt-in). */
  preferences: NotificationPreferences;
  /** Partners residents link by signing in there (OAuth/OIDC redirect). */
  linkPartners: LinkPartners;
}

/** Every section the portal serves, in mounting order. */
const SECTIONS: readonly PortalSection[] = [
  adminSection,
  servicesAdminSection,
  noticesAdminSection,
  noticesSection,
  surveysAdminSection,
  surveysSection,
  servicesSection,
  homeSection,
  pointsSection,
  qrSection,
  preferencesSection,
  consentSection,
  linkPartnersAdminSection,
  merchantSection,
  merchantAdminSection,
  directoryStaffSection,
  accessSection,
  accessAdminSection,
  sheltersAdminSection,
  adaptersAdminSection,
  dashboardsAdminSection,
  helpSection,
  staffHelpSection,
  apiDocsSection,
  // The public site is mounted at `/` and passes on every path it does not serve: keep it last.
  publicSection,
];

const CLIENT_LOCK = 0x706f7274; // "port"
const CLIENT_PURPOSE = 'resident-portal';

const OWN_MIGRATIONS: ModuleMigrations = {
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
};

/** The resident pages' OpenID client: registered on first start, reused afterwards. */
async function residentClient(ctx: ModuleContext, idp: IdpServices) {
  const key = deriveKey(ctx.config, 'tsunagu/portal/client-secret');
  return ctx.db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [CLIENT_LOCK]);
    const { rows } = await tx.query<{ client_id: string; sealed_secret: string }>(
      `SELECT client_id, sealed_secret FROM portal.oidc_clients WHERE purpose = $1`,
      [CLIENT_PURPOSE],
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
        redirectUris: [`${ctx.config.publicUrl}${PORTAL_BASE}/callback`],
      },
      'system:portal',
    );
    const clientId = created.client.clientId;
    await tx.query(
      `INSERT INTO portal.oidc_clients (purpose, client_id, sealed_secret) VALUES ($1, $2, $3)`,
      [CLIENT_PURPOSE, clientId, sealWith(key, clientId, created.clientSecret!)],
    );
    return { clientId, clientSecret: created.clientSecret! };
  });
}

/** A handler that answers 503 until the section is built in `start()`. */
function lateHandler(): { handler: RequestHandler; set(h: RequestHandler): void } {
  let current: RequestHandler | undefined;
  return {
    handler: (req, res, next) =>
      current
        ? current(req, res, next)
        : next(new ProblemError('not-ready', { detail: 'The portal is starting.' })),
    set: (h) => {
      current = h;
    },
  };
}

export const createPortalModule: ModuleFactory = (ctx) => {
  const shell = lateHandler();
  const mounted = SECTIONS.map((section) => ({ section, late: lateHandler() }));

  return {
    name: 'portal',
    migrations: [
      OWN_MIGRATIONS,
      ...SECTIONS.filter((s) => s.migrations?.length).map((s): ModuleMigrations => ({
        module: `portal/${s.name}`,
        schema: 'portal',
        migrations: s.migrations!,
      })),
    ],
    routers: [
      { prefix: PORTAL_BASE, router: shell.handler },
      ...mounted.map(({ section, late }) => ({
        prefix: section.prefix,
        router: late.handler,
        parseBody: section.parseBody ?? true,
        rateLimit: section.rateLimit ?? true,
      })),
    ],
    services: Object.assign({}, ...SECTIONS.map((s) => s.services?.(ctx) ?? {})) as PortalServices,
    async start() {
      const idp = ctx.services['idp'] as IdpServices | undefined;
      if (!idp) throw new Error('the portal needs the idp module before it');
      const resident = createResidentSession({
        issuer: idp.issuer,
        client: await residentClient(ctx, idp),
        redirectUri: `${ctx.config.publicUrl}${PORTAL_BASE}/callback`,
        secret: deriveKey(ctx.config, 'tsunagu/portal/resident-session'),
        commonIdForSubject: (clientId, sub) => idp.accounts.commonIdForSubject(clientId, sub),
        secureCookies: ctx.config.publicUrl.startsWith('https://'),
        path: PORTAL_BASE,
        now: ctx.now,
      });
      const staff = await createStaffConsole(
        ctx,
        idp,
        SECTIONS.flatMap((s) => s.adminNav ?? []),
      );
      const portal: PortalContext = {
        ctx,
        idp,
        resident,
        residentLoginUrl,
        residentNav: SECTIONS.flatMap((s) => s.nav ?? []),
        staff,
        requireStaff: staff.requireStaff,
      };
      shell.set(portalShell(resident));
      for (const { section, late } of mounted) late.set(await section.create(portal));
    },
    async stop() {
      for (const { section } of mounted) await section.stop?.();
    },
  };
};
