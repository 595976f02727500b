/**
 * The public site as a portal section mounted at `/`: home, merchant directory with map, where to
 * earn, open data, sitemap and robots (see `public_router.ts`), and the staff API that approves
 * merchants' directory changes and keeps the activities list (`admin_api.ts`). Paths it does not
 * know fall through to the rest of the platform.
 */
import express from 'express';
import type { DashboardsServices } from '../../dashboards/index.ts';
import type { PortalSection } from '../shared/section.ts';
import { DIRECTORY_ADMIN_PREFIX, directoryAdminApi } from './admin_api.ts';
import { directoryFor } from './directory_store.ts';
import { createEarnStore } from './earn_store.ts';
import { PUBLIC_MIGRATIONS } from './migrations.ts';
import { publicRouter } from './public_router.ts';
import { publicSiteSettings } from './settings.ts';

/**
 * What the home page needs from the notices section: notices staff marked public, newest first.
 * The notices store (`services.portal.notices`) has no public flag yet; until it offers
 * `listPublic`, the home page says there is no news rather than show residents' notices.
 */
interface PublicNoticesPort {
  listPublic(limit: number): Promise<Array<{ titleJa: string; titleEn: string; sentAt: string }>>;
}

async function publicNews(services: Readonly<Record<string, unknown>>) {
  const notices = (services['portal'] as { notices?: Partial<PublicNoticesPort> } | undefined)?.notices;
  if (typeof notices?.listPublic !== 'function') return null;
  const list = await (notices as PublicNoticesPort).listPublic(5);
  return list.map((n) => ({ title: n.titleJa, titleEn: n.titleEn, publishedAt: n.sentAt }));
}

export const publicSection: PortalSection = {
  name: 'public',
  prefix: '/',
  migrations: PUBLIC_MIGRATIONS,
  async create({ ctx }) {
    const dashboards = ctx.services['dashboards'] as DashboardsServices | undefined;
    const settings = publicSiteSettings(process.env);
    const store = directoryFor(ctx, settings.directoryTtlMs);
    if (
      settings.tileUrl &&
      !settings.tileUrl.startsWith('https://') &&
      !settings.tileUrl.startsWith(ctx.config.publicUrl)
    )
      ctx.logger.warn(
        "PUBLIC_MAP_TILE_URL is not https: the pages' CSP (img-src 'self' https:) blocks its tiles",
      );
    const earn = createEarnStore(ctx);
    await store.facts();
    const router = express.Router();
    router.use(DIRECTORY_ADMIN_PREFIX, directoryAdminApi(ctx, store, earn));
    router.use(
      publicRouter({
        ctx,
        settings,
        store,
        earn,
        news: () => publicNews(ctx.services),
        publishedCharts: async () => (dashboards ? dashboards.catalogue.listPublished('residents') : null),
      }),
    );
    return router;
  },
};
