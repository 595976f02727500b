/**
 * The resident's consent pages (`/portal/consent`) and linked services (`/portal/consent/links`) as
 * a portal section, on the shared resident shell; `services.portal.linkPartners` registers the
 * partners residents link by signing in there.
 */
import { deriveKey, type ModuleContext, ProblemError } from '../../core/index.ts';
import type { IdpServices } from '../../idp/index.ts';
import type { PortalSection } from '../shared/section.ts';
import { consentNav } from './consent_pages.ts';
import { createLinkPartners, LINK_PARTNER_MIGRATIONS, type LinkPartners } from './link_partners.ts';
import { LINK_PARTNERS_ADMIN_PREFIX, linkPartnersAdminApi } from './link_partners_api.ts';
import { mountConsentPortal } from './mount.ts';

const BASE = '/portal/consent';
const built = new WeakMap<ModuleContext, LinkPartners>();

export function linkPartnersFor(ctx: ModuleContext): LinkPartners {
  let partners = built.get(ctx);
  if (!partners) {
    partners = createLinkPartners({
      db: ctx.db,
      audit: ctx.audit,
      config: ctx.config,
      base: BASE,
      now: ctx.now,
      async serviceExists(service) {
        const idp = ctx.services['idp'] as IdpServices | undefined;
        if (!idp) return false;
        try {
          await idp.clients.get(service);
          return true;
        } catch (error) {
          if (error instanceof ProblemError && error.status === 404) return false;
          throw error;
        }
      },
    });
    built.set(ctx, partners);
  }
  return partners;
}

export const consentSection: PortalSection = {
  name: 'consent',
  prefix: BASE,
  migrations: LINK_PARTNER_MIGRATIONS,
  nav: consentNav(BASE),
  services: (ctx) => ({ linkPartners: linkPartnersFor(ctx) }),
  async create(portal) {
    const pages = mountConsentPortal(portal.ctx, {
      base: BASE,
      session: portal.resident,
      nav: portal.residentNav,
      loginUrl: portal.residentLoginUrl,
      redirectLinks: {
        partners: linkPartnersFor(portal.ctx),
        secret: deriveKey(portal.ctx.config, 'tsunagu/portal/link-state'),
        secureCookies: portal.ctx.config.publicUrl.startsWith('https://'),
        now: portal.ctx.now,
      },
    });
    await pages.start();
    return pages.handler;
  },
};

/** Staff API for the partners residents link by signing in there (`link_partners_api.ts`). */
export const linkPartnersAdminSection: PortalSection = {
  name: 'link-partners-admin',
  prefix: LINK_PARTNERS_ADMIN_PREFIX,
  create: ({ ctx }) => linkPartnersAdminApi(ctx, linkPartnersFor(ctx)),
};
