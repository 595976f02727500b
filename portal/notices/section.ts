/**
 * Notices (お知らせ) as portal sections: staff send them at `/admin/notices` (role `notices`),
 * residents read them at `/portal/notices`, and a worker delivers them by e-mail and LINE to
 * residents who allow it (`delivery.ts`). Other modules and sections reach the store through
 * `ctx.services['portal'].notices` (e.g. the home page's unread count).
 */
import type { ModuleContext } from '../../core/index.ts';
import { municipalServicesFor } from '../municipal_services/section.ts';
import type { PortalSection } from '../shared/section.ts';
import { channelsFrom, createDeliveryWorker, type DeliveryWorker } from './delivery.ts';
import {
  createNoticeStore,
  NOTICE_MIGRATIONS,
  type NoticeStore,
  type PreferencesPort,
} from './notice_store.ts';
import { NOTICES_BASE, noticesResidentPages } from './resident_pages.ts';
import { NOTICES_ADMIN_BASE, noticesStaffPages } from './staff_pages.ts';

/** How often due deliveries are worked (`NOTICE_DELIVERY_INTERVAL_MS`, default 10 s; 0 turns the timer off). */
const intervalMs = () => Number(process.env['NOTICE_DELIVERY_INTERVAL_MS'] ?? 10_000);

const built = new WeakMap<ModuleContext, { store: NoticeStore; worker: DeliveryWorker }>();

/** The notice store and delivery worker of this portal (one per module context). */
export function noticesFor(ctx: ModuleContext): { store: NoticeStore; worker: DeliveryWorker } {
  let b = built.get(ctx);
  if (!b) {
    const { registry, directory } = municipalServicesFor(ctx);
    b = {
      store: createNoticeStore({
        db: ctx.db,
        audit: ctx.audit,
        now: ctx.now,
        directory,
        services: registry,
        preferences: () =>
          (ctx.services['portal'] as { preferences?: PreferencesPort } | undefined)?.preferences,
      }),
      worker: createDeliveryWorker({
        ctx,
        channels: channelsFrom(ctx),
        noticeUrl: (id) => `${ctx.config.publicUrl}${NOTICES_BASE}/${id}`,
      }),
    };
    built.set(ctx, b);
  }
  return b;
}

/** Workers started in this process (one per platform); `stop` drains them all. */
const startedWorkers = new Set<DeliveryWorker>();

export const noticesAdminSection: PortalSection = {
  name: 'notices',
  prefix: NOTICES_ADMIN_BASE,
  migrations: NOTICE_MIGRATIONS,
  adminNav: [{ href: NOTICES_ADMIN_BASE, ja: 'お知らせ', en: 'Notices', role: 'notices' }],
  services: (ctx) => ({ notices: noticesFor(ctx).store, noticeDeliveries: noticesFor(ctx).worker }),
  create(p) {
    const { store, worker } = noticesFor(p.ctx);
    worker.start(intervalMs());
    startedWorkers.add(worker);
    return noticesStaffPages(p, store, municipalServicesFor(p.ctx).registry);
  },
  async stop() {
    for (const worker of startedWorkers) await worker.stop();
    startedWorkers.clear();
  },
};

export const noticesSection: PortalSection = {
  name: 'notices-resident',
  prefix: NOTICES_BASE,
  nav: [{ href: NOTICES_BASE, ja: 'お知らせ', en: 'Notices', order: 20 }],
  create: (p) => noticesResidentPages(p, noticesFor(p.ctx).store, municipalServicesFor(p.ctx).directory),
};
