/**
 * Who accessed my data: the resident's access history (`/portal/access`) and the staff view of the
 * access log (`/admin/access-log`, role `access-log`), both reading the mediation module's services.
 */
import type { PortalSection } from '../shared/section.ts';
import { accessPages } from './access_pages.ts';
import { staffAccessPages } from './staff_pages.ts';

export const accessSection: PortalSection = {
  name: 'access',
  prefix: '/portal/access',
  nav: [{ href: '/portal/access', ja: 'アクセス履歴', en: 'Who accessed my data', order: 75 }],
  create: (portal) => accessPages(portal, '/portal/access'),
};

export const accessAdminSection: PortalSection = {
  name: 'access-admin',
  prefix: '/admin/access-log',
  adminNav: [{ href: '/admin/access-log', ja: 'アクセスログ', en: 'Access log', role: 'access-log' }],
  create: (portal) => staffAccessPages(portal, '/admin/access-log'),
};
