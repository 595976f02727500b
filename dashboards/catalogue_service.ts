/**
 * Saved charts (every change a new version), dashboards arranging them, and publications: a
 * publication pins one chart version and its suppression threshold k, and serves only suppressed
 * aggregates. Every change writes its audit entry in the same transaction.
 */
import { randomBytes } from 'node:crypto';
import type { AuditLog, Database } from '../core/index.ts';
import { defineProblem, ProblemError } from '../core/index.ts';
import type { BoundaryLayers } from './boundary_layers.ts';
import { type ChartDefinition, checkDefinition, toVegaLite } from './chart_definition.ts';
import { type QueryResult, runQuery } from './run_query.ts';
import { findView } from './views.ts';

defineProblem('chart-not-found', { status: 404, title: 'No such chart' });
defineProblem('dashboard-not-found', { status: 404, title: 'No such dashboard' });
defineProblem('publication-not-found', { status: 404, title: 'No such publication' });
defineProblem('version-conflict', { status: 409, title: 'The resource changed since the version you read' });
defineProblem('slug-taken', { status: 409, title: 'A dashboard with this slug exists' });
defineProblem('view-not-publishable', { status: 422, title: 'This view cannot be published safely' });

interface Deps {
  db: Database;
  audit: AuditLog;
  now: () => Date;
  /** Default small-cell threshold (k). */
  defaultK: number;
  layers: BoundaryLayers;
}

export interface ChartVersion {
  id: number;
  title: string;
  version: number;
  definition: ChartDefinition;
  vegaLite: Record<string, unknown>;
  createdBy: string;
  createdAt: string;
}

export interface LayoutItem {
  chartId: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Dashboard {
  id: number;
  slug: string;
  title: string;
  layout: LayoutItem[];
  version: number;
}

const VERSION_SQL = `SELECT v.chart_id::int AS id, v.title, v.version, v.definition, v.vega_lite AS "vegaLite",
  v.created_by AS "createdBy", to_char(v.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "createdAt"
  FROM analytics.chart_version v`;

export function createCatalogue({ db, audit, now, defaultK, layers }: Deps) {
  /** The definition fits its view, and a map's boundary layer exists. */
  async function checkChart(d: ChartDefinition) {
    const view = checkDefinition(d);
    if (d.layer !== undefined && !(await layers.exists(d.layer)))
      throw new ProblemError('layer-not-found', { detail: `No boundary layer ${d.layer}.` });
    return view;
  }

  async function chartVersion(id: number, version?: number): Promise<ChartVersion> {
    const { rows } = await db.query<ChartVersion>(
      version === undefined
        ? `${VERSION_SQL} JOIN analytics.chart c ON c.id = v.chart_id AND c.current_version = v.version WHERE v.chart_id = $1`
        : `${VERSION_SQL} WHERE v.chart_id = $1 AND v.version = $2`,
      version === undefined ? [id] : [id, version],
    );
    if (!rows[0])
      throw new ProblemError('chart-not-found', {
        detail: `No chart ${id}${version ? ` version ${version}` : ''}.`,
      });
    return rows[0];
  }

  async function checkCharts(ids: number[]): Promise<void> {
    const { rows } = await db.query<{ id: number }>(
      'SELECT id::int FROM analytics.chart WHERE id = ANY($1::bigint[])',
      [ids],
    );
    const known = new Set(rows.map((r) => r.id));
    const missing = ids.find((id) => !known.has(id));
    if (missing !== undefined) throw new ProblemError('chart-not-found', { detail: `No chart ${missing}.` });
  }

  return {
    chartVersion,

    async listCharts() {
      const { rows } = await db.query(
        `${VERSION_SQL} JOIN analytics.chart c ON c.id = v.chart_id AND c.current_version = v.version ORDER BY v.chart_id`,
      );
      return rows as ChartVersion[];
    },

    async createChart(
      input: { title: string; definition: ChartDefinition },
      actor: string,
    ): Promise<ChartVersion> {
      const view = await checkChart(input.definition);
      const spec = toVegaLite(input.title, input.definition, view);
      const at = now();
      const id = await db.transaction(async (tx) => {
        const { rows } = await tx.query<{ id: number }>(
          `INSERT INTO analytics.chart (title, current_version, created_by, created_at, updated_at)
           VALUES ($1, 1, $2, $3, $3) RETURNING id::int`,
          [input.title, actor, at],
        );
        const chartId = rows[0]!.id;
        await tx.query(
          `INSERT INTO analytics.chart_version (chart_id, version, title, definition, vega_lite, created_by, created_at)
           VALUES ($1, 1, $2, $3, $4, $5, $6)`,
          [chartId, input.title, input.definition, spec, actor, at],
        );
        await audit.recordInTransaction(tx, {
          actor,
          action: 'dashboards.chart.create',
          target: `chart:${chartId}`,
          details: { view: input.definition.view, chartType: input.definition.chartType },
        });
        return chartId;
      });
      return chartVersion(id, 1);
    },

    /** Saves a new version; `expectedVersion` must be the current one (optimistic locking). */
    async updateChart(
      id: number,
      input: { title: string; definition: ChartDefinition; expectedVersion: number },
      actor: string,
    ): Promise<ChartVersion> {
      const view = await checkChart(input.definition);
      const spec = toVegaLite(input.title, input.definition, view);
      const at = now();
      const version = await db.transaction(async (tx) => {
        const { rows } = await tx.query<{ current_version: number }>(
          'SELECT current_version FROM analytics.chart WHERE id = $1 FOR UPDATE',
          [id],
        );
        if (!rows[0]) throw new ProblemError('chart-not-found', { detail: `No chart ${id}.` });
        if (rows[0].current_version !== input.expectedVersion)
          throw new ProblemError('version-conflict', {
            detail: `Chart ${id} is at version ${rows[0].current_version}.`,
            currentVersion: rows[0].current_version,
          });
        const next = rows[0].current_version + 1;
        await tx.query(
          `INSERT INTO analytics.chart_version (chart_id, version, title, definition, vega_lite, created_by, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [id, next, input.title, input.definition, spec, actor, at],
        );
        await tx.query(
          'UPDATE analytics.chart SET title = $2, current_version = $3, updated_at = $4 WHERE id = $1',
          [id, input.title, next, at],
        );
        await audit.recordInTransaction(tx, {
          actor,
          action: 'dashboards.chart.update',
          target: `chart:${id}`,
          details: { version: next, view: input.definition.view, chartType: input.definition.chartType },
        });
        return next;
      });
      return chartVersion(id, version);
    },

    /** The chart's current data for analysts (aggregates, not suppressed). */
    async chartData(id: number): Promise<QueryResult & { chart: ChartVersion }> {
      const chart = await chartVersion(id);
      const view = checkDefinition(chart.definition);
      return { chart, ...(await runQuery(db, view, chart.definition)) };
    },

    async createDashboard(input: { slug: string; title: string; layout: LayoutItem[] }, actor: string) {
      await checkCharts(input.layout.map((l) => l.chartId));
      const id = await db.transaction(async (tx) => {
        const { rows } = await tx.query<{ id: number }>(
          `INSERT INTO analytics.dashboard (slug, title, layout, version, created_by, updated_at)
           VALUES ($1, $2, $3, 1, $4, $5) ON CONFLICT (slug) DO NOTHING RETURNING id::int`,
          [input.slug, input.title, JSON.stringify(input.layout), actor, now()],
        );
        if (!rows[0]) throw new ProblemError('slug-taken', { detail: `Slug ${input.slug} is taken.` });
        await audit.recordInTransaction(tx, {
          actor,
          action: 'dashboards.dashboard.create',
          target: `dashboard:${rows[0].id}`,
          details: { slug: input.slug, charts: input.layout.length },
        });
        return rows[0].id;
      });
      return this.dashboard(id);
    },

    async updateDashboard(
      id: number,
      input: { title: string; layout: LayoutItem[]; expectedVersion: number },
      actor: string,
    ) {
      await checkCharts(input.layout.map((l) => l.chartId));
      await db.transaction(async (tx) => {
        const { rows } = await tx.query<{ version: number }>(
          'SELECT version FROM analytics.dashboard WHERE id = $1 FOR UPDATE',
          [id],
        );
        if (!rows[0]) throw new ProblemError('dashboard-not-found', { detail: `No dashboard ${id}.` });
        if (rows[0].version !== input.expectedVersion)
          throw new ProblemError('version-conflict', {
            detail: `Dashboard ${id} is at version ${rows[0].version}.`,
            currentVersion: rows[0].version,
          });
        await tx.query(
          'UPDATE analytics.dashboard SET title = $2, layout = $3, version = version + 1, updated_at = $4 WHERE id = $1',
          [id, input.title, JSON.stringify(input.layout), now()],
        );
        await audit.recordInTransaction(tx, {
          actor,
          action: 'dashboards.dashboard.update',
          target: `dashboard:${id}`,
          details: { version: rows[0].version + 1, charts: input.layout.length },
        });
      });
      return this.dashboard(id);
    },

    async dashboard(id: number): Promise<Dashboard> {
      const { rows } = await db.query<Dashboard>(
        'SELECT id::int, slug, title, layout, version FROM analytics.dashboard WHERE id = $1',
        [id],
      );
      if (!rows[0]) throw new ProblemError('dashboard-not-found', { detail: `No dashboard ${id}.` });
      return rows[0];
    },

    async listDashboards(): Promise<Dashboard[]> {
      const { rows } = await db.query<Dashboard>(
        'SELECT id::int, slug, title, layout, version FROM analytics.dashboard ORDER BY id',
      );
      return rows;
    },

    /** Publishes the chart's current version with threshold k (default from config). */
    async publish(
      id: number,
      input: { k?: number; audience: 'residents' | 'partners' },
      actor: string,
    ): Promise<{ token: string; chartId: number; chartVersion: number; k: number; audience: string }> {
      const chart = await chartVersion(id);
      const view = findView(chart.definition.view)!;
      if (view.personal && !view.individuals)
        throw new ProblemError('view-not-publishable', {
          detail: `${view.name} has no count of individuals per row, so small cells cannot be suppressed.`,
        });
      const k = input.k ?? defaultK;
      const token = randomBytes(18).toString('base64url');
      await db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO analytics.publication (token, chart_id, chart_version, k, audience, created_by, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [token, id, chart.version, k, input.audience, actor, now()],
        );
        await audit.recordInTransaction(tx, {
          actor,
          action: 'dashboards.chart.publish',
          target: `chart:${id}`,
          details: { version: chart.version, k, audience: input.audience },
        });
      });
      return { token, chartId: id, chartVersion: chart.version, k, audience: input.audience };
    },

    async revoke(token: string, actor: string): Promise<void> {
      await db.transaction(async (tx) => {
        const { rows } = await tx.query<{ chart_id: number }>(
          `UPDATE analytics.publication SET revoked_at = $2 WHERE token = $1 AND revoked_at IS NULL RETURNING chart_id::int`,
          [token, now()],
        );
        if (!rows[0]) throw new ProblemError('publication-not-found');
        await audit.recordInTransaction(tx, {
          actor,
          action: 'dashboards.chart.unpublish',
          target: `chart:${rows[0].chart_id}`,
        });
      });
    },

    /** Live publications for an audience (newest first), with the pinned version's title: the public site lists them. */
    async listPublished(
      audience: 'residents' | 'partners' = 'residents',
    ): Promise<Array<{ token: string; title: string; publishedAt: string }>> {
      const { rows } = await db.query<{ token: string; title: string; publishedAt: Date }>(
        `SELECT p.token, v.title, p.created_at AS "publishedAt"
           FROM analytics.publication p
           JOIN analytics.chart_version v ON v.chart_id = p.chart_id AND v.version = p.chart_version
          WHERE p.revoked_at IS NULL AND p.audience = $1 ORDER BY p.created_at DESC, p.token`,
        [audience],
      );
      return rows.map((r) => ({ token: r.token, title: r.title, publishedAt: r.publishedAt.toISOString() }));
    },

    /** What the public sees: the pinned version's aggregates with small cells suppressed. */
    async published(
      token: string,
    ): Promise<QueryResult & { title: string; vegaLite: Record<string, unknown> }> {
      const { rows } = await db.query<{ chart_id: number; chart_version: number; k: number }>(
        'SELECT chart_id::int, chart_version, k FROM analytics.publication WHERE token = $1 AND revoked_at IS NULL',
        [token],
      );
      if (!rows[0]) throw new ProblemError('publication-not-found');
      const chart = await chartVersion(rows[0].chart_id, rows[0].chart_version);
      const view = checkDefinition(chart.definition);
      const result = await runQuery(db, view, chart.definition, { k: rows[0].k });
      return { title: chart.title, vegaLite: chart.vegaLite, ...result };
    },
  };
}

export type Catalogue = ReturnType<typeof createCatalogue>;
