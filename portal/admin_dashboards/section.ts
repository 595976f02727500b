/**
 * The analysts' pages in the admin console (Hirakata 6(3)⑥, Kasai 6(4)): the operator dashboard,
 * the chart builder, saved dashboards and the map, served by the dashboards module
 * (`services.dashboards.staffPages`) behind the console's staff sign-in.
 *
 *   role `dashboards`              viewer: every page, previews, exports nothing changes
 *   role `dashboards-maintainer`   maintainer (with `dashboards`): save, version, publish, arrange
 *
 * The builder calls the module's API under `/admin/analytics/api` with the console session and its
 * form token (X-CSRF-Token); each change is audited as `staff:<id>`.
 */
import express from 'express';
import { type DashboardsServices, STAFF_BASE, type StaffUse } from '../../dashboards/index.ts';
import { sendAdminPage, staffMember } from '../admin/layout.ts';
import { bi } from '../shared/html.ts';
import type { PortalSection } from '../shared/section.ts';

export const dashboardsAdminSection: PortalSection = {
  name: 'admin-dashboards',
  prefix: STAFF_BASE,
  adminNav: [
    { href: STAFF_BASE, ja: '分析ダッシュボード', en: 'Analytics', role: 'dashboards' },
    { href: `${STAFF_BASE}/builder`, ja: 'グラフ作成', en: 'Chart builder', role: 'dashboards-maintainer' },
  ],
  create(p) {
    const router = express.Router();
    router.use(p.requireStaff('dashboards'));
    router.use((req, res, next) => {
      const dashboards = p.ctx.services['dashboards'] as DashboardsServices | undefined;
      if (!dashboards)
        return sendAdminPage(req, res, {
          title: '分析ダッシュボード',
          titleEn: 'Analytics',
          status: 503,
          body: `<p>${bi('分析モジュールが動いていません。', 'The dashboards module is not running.')}</p>`,
        });
      const m = staffMember(res);
      const use: StaffUse = {
        actor: `staff:${m.staffId}`,
        maySave: m.has('dashboards-maintainer'),
        csrf: m.csrf,
      };
      res.locals['dashboardsStaff'] = use;
      dashboards.staffPages(req, res, next);
    });
    return router;
  },
};
