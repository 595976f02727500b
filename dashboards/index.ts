/**
 * dashboards — analytics for evidence-based policy making (EBPM): aggregate views filled from the
 * points and broker services, saved charts stored as versioned Vega-Lite specifications,
 * dashboards, publication with small-cell suppression, CSV export, the operator dashboard page and
 * a read-only role for BI tools. See README.md.
 *
 * @example
 *   // modules.ts: append createDashboardsModule after points and broker
 *   const dashboards = ctx.services['dashboards'] as DashboardsServices;
 *   await dashboards.refresher.refreshPoints({ currency: 'saijo-lsp', from: '2026-04-01', to: '2026-04-30' }, 'system:nightly');
 */
import { type RequestHandler, type Response, Router } from 'express';
import { type ModuleFactory, ProblemError } from '../core/index.ts';
import { adminRouter } from './admin_router.ts';
import { type BoundaryLayers, createBoundaryLayers } from './boundary_layers.ts';
import { type Catalogue, createCatalogue } from './catalogue_service.ts';
import type { BiLogin } from './commands.ts';
import { createKpiTargets } from './kpi_targets.ts';
import { BI_ROLE, dashboardsMigrations } from './migrations.ts';
import { operatorPageRouter } from './operator_page.ts';
import { createRefresher, dayBefore, jstDate, type Refresher } from './refresh_aggregates.ts';
import type { VisitsSource } from './visits_port.ts';
import { analystRouter, publicRouter } from './routes.ts';

export type { ChartDefinition } from './chart_definition.ts';
export { dashboardsCommands } from './commands.ts';
export { BI_ROLE, BI_TABLES } from './migrations.ts';
export type { AnalyticsView } from './views.ts';
export { VIEWS } from './views.ts';

export type { VisitsRow, VisitsSource } from './visits_port.ts';
export { AGE_BANDS } from './visits_port.ts';

export interface DashboardsServices extends BiLogin {
  catalogue: Catalogue;
  refresher: Refresher;
  layers: BoundaryLayers;
  /**
   * The analysts' pages and their API for the staff console: mount at STAFF_BASE behind the
   * console's staff gate, after setting `res.locals.dashboardsStaff` (StaffUse) for the member.
   */
  staffPages: Router;
}

/** Where the staff console serves the analysts' pages (portal/admin_dashboards mounts them). */
export const STAFF_BASE = '/admin/analytics';

/** What the staff console tells the pages about the signed-in member. */
export interface StaffUse {
  /** Audit actor, e.g. `staff:12`. */
  actor: string;
  /** Maintainer: may save, publish and arrange charts (viewers only look and preview). */
  maySave: boolean;
  /** The console's form token, sent back by the builder as X-CSRF-Token. */
  csrf: string;
}

function staffUse(res: Response): StaffUse | undefined {
  return res.locals['dashboardsStaff'] as StaffUse | undefined;
}

export interface DashboardsSettings {
  /** Small-cell threshold for publications (DASHBOARDS_MIN_CELL, default 10). */
  k: number;
  /** Currencies refreshed every JST night, comma-separated (DASHBOARDS_REFRESH_CURRENCIES). */
  refreshCurrencies: string[];
  /** Broker tenants recounted every night (DASHBOARDS_REFRESH_BROKER_SERVICES, default the default tenant). */
  refreshBrokerServices: string[];
  /** How often the nightly refresh checks whether the JST day changed (ms; 0 turns it off). */
  tickMs: number;
  /**
   * Map tiles, `{z}/{x}/{y}` template (DASHBOARDS_TILE_URL, e.g. the GSI's
   * https://cyberjapandata.gsi.go.jp/xyz/pale/{z}/{x}/{y}.png); empty draws boundary layers only.
   */
  tileUrl: string;
  /** Attribution shown with the tiles (DASHBOARDS_TILE_ATTRIBUTION). */
  tileAttribution: string;
  /** Origins allowed to embed published charts in a frame (DASHBOARDS_EMBED_ORIGINS, comma-separated). */
  embedOrigins: string[];
  /** The visits port (tests, deployments); else the card-reader adapter's services when assembled. */
  visits?: VisitsSource;
  /**
   * Superset for guest tokens (SUPERSET_URL, SUPERSET_USERNAME, SUPERSET_PASSWORD of a service account
   * with can_grant_guest_token, SUPERSET_EMBEDDED_UUID from `superset provision`); unset turns the
   * guest-token route off.
   */
  superset?: { url: string; username: string; password: string; embeddedUuid: string };
}

export function dashboardsSettings(env: Record<string, string | undefined>): DashboardsSettings {
  const k = Number(env['DASHBOARDS_MIN_CELL'] ?? 10);
  if (!Number.isInteger(k) || k < 2) throw new Error('DASHBOARDS_MIN_CELL must be an integer of at least 2');
  const list = (v: string | undefined, fallback: string[]) =>
    v === undefined ? fallback : v.split(',').map((s) => s.trim());
  return {
    k,
    refreshCurrencies: list(env['DASHBOARDS_REFRESH_CURRENCIES'], []).filter(Boolean),
    refreshBrokerServices: list(env['DASHBOARDS_REFRESH_BROKER_SERVICES'], ['']),
    tickMs: 60_000,
    tileUrl: checkTileUrl(env['DASHBOARDS_TILE_URL'] ?? ''),
    tileAttribution: env['DASHBOARDS_TILE_ATTRIBUTION'] ?? '',
    embedOrigins: list(env['DASHBOARDS_EMBED_ORIGINS'], []).filter(Boolean).map(checkOrigin),
    ...(env['SUPERSET_URL'] && env['SUPERSET_EMBEDDED_UUID']
      ? {
          superset: {
            url: env['SUPERSET_URL'],
            username: env['SUPERSET_USERNAME'] ?? '',
            password: env['SUPERSET_PASSWORD'] ?? '',
            embeddedUuid: env['SUPERSET_EMBEDDED_UUID'],
          },
        }
      : {}),
  };
}

function checkTileUrl(url: string): string {
  if (url === '') return url;
  if (!/^https?:\/\/[^/]+\/.*\{z\}.*\{x\}.*\{y\}/.test(url))
    throw new Error('DASHBOARDS_TILE_URL must be an http(s) URL template with {z}, {x} and {y}');
  return url;
}

function checkOrigin(origin: string): string {
  if (!/^https?:\/\/[A-Za-z0-9.-]+(:\d+)?$/.test(origin))
    throw new Error(`DASHBOARDS_EMBED_ORIGINS: ${origin} is not an origin (scheme://host[:port])`);
  return origin;
}

/** The module with settings overriding the DASHBOARDS_* environment variables (tests). */
export function dashboardsModule(
  overrides: Partial<DashboardsSettings> = {},
): ModuleFactory<DashboardsServices> {
  return (ctx) => {
    const settings = { ...dashboardsSettings(process.env), ...overrides };
    const deps = { db: ctx.db, audit: ctx.audit, now: ctx.now };
    const layers = createBoundaryLayers(deps);
    const catalogue = createCatalogue({ ...deps, defaultK: settings.k, layers });
    const refresher = createRefresher({ ...deps, services: ctx.services, layers, visits: settings.visits });
    const targets = createKpiTargets(deps);
    const tiles = { url: settings.tileUrl, attribution: settings.tileAttribution };
    const allowListed = { base: '/admin/dashboards', gate: ctx.http.adminOnly };
    // The staff console's variant: the same pages and API, let in by the console's session.
    const staffSeen: RequestHandler = (_req, res, next) =>
      next(staffUse(res) ? undefined : new ProblemError('forbidden', { detail: 'Staff sign-in required.' }));
    const staffSaves: RequestHandler = (_req, res, next) =>
      next(
        staffUse(res)?.maySave
          ? undefined
          : new ProblemError('forbidden', { detail: 'Saving needs the dashboards-maintainer role.' }),
      );
    const staffMount = {
      base: STAFF_BASE,
      gate: staffSeen,
      staffApi: { url: `${STAFF_BASE}/api`, csrfOf: (res: Response) => staffUse(res)?.csrf ?? '' },
    };
    const staffPages = Router();
    staffPages.use(
      '/api',
      analystRouter(ctx, catalogue, refresher, layers, targets, settings.superset, {
        prefix: `${STAFF_BASE}/api`,
        read: staffSeen,
        write: staffSaves,
        actorOf: (req) => staffUse(req.res!)!.actor,
      }).router,
    );
    staffPages.use(adminRouter(ctx, catalogue, layers, tiles, staffMount).router);
    staffPages.use(operatorPageRouter(ctx, staffMount).router);
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<void> | undefined;
    return {
      name: 'dashboards',
      migrations: dashboardsMigrations,
      routers: [
        analystRouter(ctx, catalogue, refresher, layers, targets, settings.superset),
        publicRouter(ctx, catalogue, layers, settings.embedOrigins),
        operatorPageRouter(ctx, allowListed),
        adminRouter(ctx, catalogue, layers, tiles, allowListed),
      ],
      services: {
        catalogue,
        refresher,
        layers,
        staffPages,
        async enableBiLogin(password) {
          const { rows } = await ctx.db.query<{ sql: string }>(
            `SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', $1::text, $2::text) AS sql`,
            [BI_ROLE, password],
          );
          await ctx.db.query(rows[0]!.sql);
          await ctx.audit.record({
            actor: 'system:cli',
            action: 'dashboards.bi.login',
            target: `role:${BI_ROLE}`,
          });
        },
      },
      async start() {
        if (settings.tickMs <= 0) return;
        // At the first tick after midnight JST, every day not yet refreshed up to the one that ended
        // (more than one when the process was down over midnight).
        let pending = jstDate(ctx.now());
        timer = setInterval(() => {
          const today = jstDate(ctx.now());
          if (today <= pending || running) return;
          const from = pending;
          pending = today;
          running = refresher
            .nightly({
              from,
              to: dayBefore(today),
              currencies: settings.refreshCurrencies,
              brokerServices: settings.refreshBrokerServices,
            })
            .catch((err: unknown) => ctx.logger.error({ err }, 'dashboards nightly refresh failed'))
            .finally(() => {
              running = undefined;
            });
        }, settings.tickMs);
        timer.unref();
      },
      async stop() {
        if (timer) clearInterval(timer);
        await running;
      },
    };
  };
}

export const createDashboardsModule: ModuleFactory<DashboardsServices> = dashboardsModule();
