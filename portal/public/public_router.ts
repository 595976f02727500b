/**
 * The public site's routes (no sign-in; server-rendered; `Cache-Control: public` with the ETag
 * Express computes, so a repeat visit gets 304):
 *
 *   GET /                         home: the service, how to join, municipalities, campaigns, news
 *   GET /shops                    directory search (q, category, area, page) + map
 *   GET /shops/map.geojson        the shops matching the same filters (or ?id=), for the map
 *   GET /shops/boundaries.geojson configured boundary layers (PUBLIC_MAP_BOUNDARIES)
 *   GET /shops/:id                one shop (LocalBusiness JSON-LD)
 *   GET /earn                     activities that grant points (Event JSON-LD)
 *   GET /opendata                 published datasets and charts
 *   GET /sitemap.xml, /robots.txt
 *   GET /static/public/*          map.js and Leaflet from node_modules (no CDN)
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import express, { type Request, type Response, type Router } from 'express';
import type { ModuleContext } from '../../core/index.ts';
import type { OpendataService } from '../../opendata/index.ts';
import { isCategory } from './categories.ts';
import type { DirectoryStore, SearchQuery } from './directory_store.ts';
import type { EarnStore } from './earn_store.ts';
import {
  type DatasetEntry,
  type NewsItem,
  renderEarnPage,
  renderHomePage,
  renderOpendataPage,
} from './info_pages.ts';
import { STATIC_BASE, STYLE_PATH, siteCss } from './layout.ts';
import type { PublicSiteSettings } from './settings.ts';
import { LEAFLET_BASE, renderShopPage, renderShopsPage, shopsGeoJson } from './shop_pages.ts';

export interface PublicRouterDeps {
  ctx: ModuleContext;
  settings: PublicSiteSettings;
  store: DirectoryStore;
  earn: EarnStore;
  /** Notices marked public, newest first; null when no notices module is present. */
  news(): Promise<NewsItem[] | null>;
  publishedCharts(): Promise<Array<{ token: string; title: string; publishedAt: string }> | null>;
}

const leafletDir = path.join(
  path.dirname(createRequire(import.meta.url).resolve('leaflet/package.json')),
  'dist',
);

function text(value: unknown, max: number): string | undefined {
  if (typeof value !== 'string') return undefined;
  const v = value.trim();
  return v === '' ? undefined : v.slice(0, max);
}

/** The search filters from the query string; anything malformed is dropped, never an error page. */
export function searchQuery(req: Request): SearchQuery {
  const page = Number(req.query['page']);
  const q: SearchQuery = {};
  const words = text(req.query['q'], 100);
  if (words) q.q = words;
  const category = text(req.query['category'], 32);
  if (isCategory(category)) q.category = category;
  const area = text(req.query['area'], 120);
  if (area) q.area = area;
  if (Number.isInteger(page) && page > 1 && page <= 10_000) q.page = page;
  return q;
}

function cacheable(res: Response, seconds: number): void {
  res.setHeader('Cache-Control', `public, max-age=${seconds}`);
}

export function publicRouter(deps: PublicRouterDeps): Router {
  const { ctx, settings, store, earn } = deps;
  const publicUrl = ctx.config.publicUrl;
  const router = express.Router();
  const html = (res: Response, body: string) => {
    cacheable(res, settings.cacheSeconds);
    res.type('html').send(body);
  };
  const pageContext = async () => ({
    settings,
    publicUrl,
    directory: (await store.facts()).directory,
    now: ctx.now(),
  });

  router.get('/', async (_req, res) => {
    const p = await pageContext();
    const merchants = p.directory.campaigns.flatMap((c) => (c.merchant ? [c.merchant] : []));
    const [news, count, names] = await Promise.all([
      deps.news(),
      store.search({ pageSize: 1 }),
      store.displayNames([...new Set(merchants)]),
    ]);
    html(res, renderHomePage(p, news, count.total, names));
  });

  router.get('/shops', async (req, res) => {
    const q = searchQuery(req);
    const [p, result, facts] = await Promise.all([pageContext(), store.search(q), store.facts()]);
    html(res, renderShopsPage(p, q, result, facts.areas));
  });

  router.get('/shops/map.geojson', async (req, res) => {
    const id = text(req.query['id'], 100);
    const shops = id
      ? [await store.shop(id)].filter((s) => s !== undefined)
      : (await store.search({ ...searchQuery(req), page: 1, pageSize: 5000 })).shops;
    cacheable(res, settings.cacheSeconds);
    res.type('application/geo+json').send(JSON.stringify(shopsGeoJson(shops)));
  });

  const boundaries = JSON.stringify({
    type: 'FeatureCollection',
    features: settings.boundaries.flatMap((g) => {
      const geo = g as { type: string; features?: unknown[] };
      return geo.type === 'FeatureCollection' ? (geo.features ?? []) : [geo];
    }),
  });
  router.get('/shops/boundaries.geojson', (_req, res) => {
    cacheable(res, 86_400);
    res.type('application/geo+json').send(boundaries);
  });

  router.get('/shops/:id', async (req, res, next) => {
    const shop = await store.shop(req.params['id'] as string);
    if (!shop) return next();
    html(res, renderShopPage(await pageContext(), shop));
  });

  router.get('/earn', async (_req, res) => {
    const [p, activities] = await Promise.all([pageContext(), earn.upcoming()]);
    html(res, renderEarnPage(p, activities));
  });

  router.get('/opendata', async (_req, res) => {
    const opendata = ctx.services['opendata'] as OpendataService | undefined;
    const [p, datasets, charts] = await Promise.all([
      pageContext(),
      opendata ? (opendata.listDatasets(true) as Promise<DatasetEntry[]>) : Promise.resolve(null),
      deps.publishedCharts(),
    ]);
    html(res, renderOpendataPage(p, datasets, charts));
  });

  router.get('/sitemap.xml', async (_req, res) => {
    const shops = await store.allActiveIds();
    const url = (loc: string, lastmod?: string | null) =>
      `<url><loc>${publicUrl}${loc}</loc>${lastmod ? `<lastmod>${lastmod}</lastmod>` : ''}</url>`;
    const body = `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
${[url('/'), url('/shops'), url('/earn'), url('/opendata')].join('\n')}
${shops.map((s) => url(`/shops/${encodeURIComponent(s.merchantId)}`, s.approvedAt)).join('\n')}
</urlset>
`;
    cacheable(res, 3600);
    res.type('application/xml').send(body);
  });

  router.get('/robots.txt', (_req, res) => {
    cacheable(res, 86_400);
    res.type('text/plain').send(
      `User-agent: *
Allow: /
Disallow: /api/
Disallow: /admin/
Disallow: /merchant
Disallow: /portal/
Disallow: /oidc/
Disallow: /idp/
Sitemap: ${publicUrl}/sitemap.xml
`,
    );
  });

  router.use(
    LEAFLET_BASE,
    express.static(leafletDir, { immutable: true, maxAge: '365d', index: false, fallthrough: true }),
  );
  router.get(STYLE_PATH, (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    res.type('text/css').send(siteCss());
  });
  router.get(`${STATIC_BASE}/map.js`, (_req, res) => {
    res.sendFile(path.join(import.meta.dirname, 'assets', 'map.js'), {
      headers: { 'Cache-Control': 'public, max-age=3600', 'Content-Type': 'text/javascript; charset=utf-8' },
    });
  });

  return router;
}
