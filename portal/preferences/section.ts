/** Notification settings (`/portal/preferences`) and the service other modules read (`services.portal.preferences`). */
import type { ModuleContext } from '../../core/index.ts';
import type { PortalSection } from '../shared/section.ts';
import {
  createNotificationPreferences,
  type NotificationPreferences,
  PREFERENCES_MIGRATIONS,
} from './preferences.ts';
import { preferencesPage } from './preferences_page.ts';

const BASE = '/portal/preferences';
const built = new WeakMap<ModuleContext, NotificationPreferences>();

export function preferencesFor(ctx: ModuleContext): NotificationPreferences {
  let p = built.get(ctx);
  if (!p) {
    p = createNotificationPreferences({ db: ctx.db, audit: ctx.audit, now: ctx.now });
    built.set(ctx, p);
  }
  return p;
}

export const preferencesSection: PortalSection = {
  name: 'preferences',
  prefix: BASE,
  migrations: PREFERENCES_MIGRATIONS,
  nav: [{ href: BASE, ja: '通知の設定', en: 'Notifications', order: 80 }],
  services: (ctx) => ({ preferences: preferencesFor(ctx) }),
  create: (portal) => preferencesPage(portal, preferencesFor(portal.ctx), BASE),
};
