/**
 * The resident's consent pages (`/portal/consent`) and linked services (`/portal/consent/links`) as
 * a portal section, on the shared resident shell; `services.portal.linkPartners` registers the
 * partners residents link by signing in there.
 */
import { deriveKey, type ModuleContext } from '../../core/index.ts';
import type { PortalSection } from '../shared/section.ts';
import { consentNav } from './consent_pages.ts';
import { createLinkPartners, LINK_PARTNER_MIGRATIONS, type LinkPartners } from './link_partners.ts';
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
