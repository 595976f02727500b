/**
 * Who accessed my data: the resident's access history (`/portal/access`); for staff, the access log
 * (`/admin/mediation/log`, role `access-log`) and the registry of partner services
 * (`/admin/mediation/services`, role `mediation-services`). All read the mediation module's services.
 */
import express from 'express';
import type { PortalSection } from '../shared/section.ts';
import { accessPages } from './access_pages.ts';
import { servicePages } from './service_pages.ts';
import { staffAccessPages } from './staff_pages.ts';

export const accessSection: PortalSection = {
  name: 'access',
  prefix: '/portal/access',
  nav: [{ href: '/portal/access', ja: 'アクセス履歴', en: 'Who accessed my data', order: 75 }],
  create: (portal) => accessPages(portal, '/portal/access'),
};

export const accessAdminSection: PortalSection = {
  name: 'access-admin',
  prefix: '/admin/mediation',
  adminNav: [
    { href: '/admin/mediation/log', ja: 'アクセスログ', en: 'Access log', role: 'access-log' },
    {
      href: '/admin/mediation/services',
      ja: '連携サービスの登録',
      en: 'Partner services',
      role: 'mediation-services',
    },
  ],
  create(portal) {
    const router = express.Router();
    router.use('/log', staffAccessPages(portal, '/admin/mediation/log'));
    router.use('/services', servicePages(portal, '/admin/mediation/services'));
    return router;
  },
};
