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
import type { ModuleFactory } from '../core/index.ts';
import { type Catalogue, createCatalogue } from './catalogue_service.ts';
import { dashboardsMigrations } from './migrations.ts';
import { operatorPageRouter } from './operator_page.ts';
import { createRefresher, type Refresher } from './refresh_aggregates.ts';
import { analystRouter, publicRouter } from './routes.ts';

export type { ChartDefinition } from './chart_definition.ts';
export { BI_ROLE, BI_TABLES } from './migrations.ts';
export type { AnalyticsView } from './views.ts';
export { VIEWS } from './views.ts';

export interface DashboardsServices {
  catalogue: Catalogue;
  refresher: Refresher;
}

export interface DashboardsSettings {
  /** Small-cell threshold for publications (DASHBOARDS_MIN_CELL, default 10). */
  k: number;
}

export function dashboardsSettings(env: Record<string, string | undefined>): DashboardsSettings {
  const k = Number(env['DASHBOARDS_MIN_CELL'] ?? 10);
  if (!Number.isInteger(k) || k < 2) throw new Error('DASHBOARDS_MIN_CELL must be an integer of at least 2');
  return { k };
}

/** The module with settings overriding the DASHBOARDS_* environment variables (tests). */
export function dashboardsModule(
  overrides: Partial<DashboardsSettings> = {},
): ModuleFactory<DashboardsServices> {
  return (ctx) => {
    const settings = { ...dashboardsSettings(process.env), ...overrides };
    const deps = { db: ctx.db, audit: ctx.audit, now: ctx.now };
    const catalogue = createCatalogue({ ...deps, defaultK: settings.k });
    const refresher = createRefresher({ ...deps, services: ctx.services });
    return {
      name: 'dashboards',
      migrations: dashboardsMigrations,
      routers: [
        analystRouter(ctx, catalogue, refresher),
        publicRouter(ctx, catalogue),
        operatorPageRouter(ctx),
      ],
      services: { catalogue, refresher },
    };
  };
}

export const createDashboardsModule: ModuleFactory<DashboardsServices> = dashboardsModule();
