/** The resident's consent pages (`/portal/consent`) as a portal section. */
import type { PortalSection } from '../shared/section.ts';
import { mountConsentPortal } from './mount.ts';

export const consentSection: PortalSection = {
  name: 'consent',
  prefix: '/portal/consent',
  async create(portal) {
    const pages = mountConsentPortal(portal.ctx, { base: '/portal/consent', session: portal.resident });
    await pages.start();
    return pages.handler;
  },
};
