/**
 * The merchant console (`/merchant`): merchant staff sign in with credentials city staff issue
 * (`/api/admin/portal/merchant-accounts`) and edit their shop's directory entry; a change becomes
 * public once staff approve it (`/api/admin/portal/directory/changes`).
 */
import { deriveKey } from '../../core/index.ts';
import type { PointsService } from '../../points/index.ts';
import { directoryFor } from '../public/directory_store.ts';
import { publicSiteSettings } from '../public/settings.ts';
import type { PortalSection } from '../shared/section.ts';
import { MERCHANT_ADMIN_PREFIX, merchantAdminApi } from './admin_api.ts';
import { MERCHANT_BASE, merchantConsole } from './console_pages.ts';
import { createMerchantAccounts } from './merchant_accounts.ts';
import { createMerchantSession } from './merchant_session.ts';
import { MERCHANT_MIGRATIONS } from './migrations.ts';
import { DIRECTORY_ROLE, DIRECTORY_STAFF_BASE, directoryStaffPages } from './staff_pages.ts';

function points(services: Readonly<Record<string, unknown>>): PointsService {
  const p = services['points'] as PointsService | undefined;
  if (!p) throw new Error('the merchant console needs the points module before the portal');
  return p;
}

export const merchantSection: PortalSection = {
  name: 'merchant',
  prefix: MERCHANT_BASE,
  migrations: MERCHANT_MIGRATIONS,
  create({ ctx }) {
    const settings = publicSiteSettings(process.env);
    return merchantConsole({
      accounts: createMerchantAccounts(ctx, points(ctx.services)),
      session: createMerchantSession({
        secret: deriveKey(ctx.config, 'tsunagu/portal/merchant-session'),
        path: MERCHANT_BASE,
        secure: ctx.config.publicUrl.startsWith('https://'),
        now: ctx.now,
      }),
      store: directoryFor(ctx, settings.directoryTtlMs),
      settings,
      publicUrl: ctx.config.publicUrl,
    });
  },
};

export const merchantAdminSection: PortalSection = {
  name: 'merchant-admin',
  prefix: MERCHANT_ADMIN_PREFIX,
  create({ ctx }) {
    return merchantAdminApi(ctx, createMerchantAccounts(ctx, points(ctx.services)));
  },
};

/** The admin console page: approve merchants' entry changes, issue merchant sign-ins (role `directory`). */
export const directoryStaffSection: PortalSection = {
  name: 'directory-staff',
  prefix: DIRECTORY_STAFF_BASE,
  adminNav: [
    { href: DIRECTORY_STAFF_BASE, ja: '加盟店掲載の承認', en: 'Shop directory', role: DIRECTORY_ROLE },
  ],
  create(p) {
    const settings = publicSiteSettings(process.env);
    const pts = points(p.ctx.services);
    return directoryStaffPages(
      p,
      directoryFor(p.ctx, settings.directoryTtlMs),
      createMerchantAccounts(p.ctx, pts),
    );
  },
};
