/**
 * The analysts' HTTP API under /api/dashboards (bearer tokens: `dashboards:read` for viewers,
 * `dashboards:write` for maintainers) and the public, suppressed figures under /public/dashboards.
 *
 * | route                                   | steps                                   |
 * |-----------------------------------------|-----------------------------------------|
 * | GET  /views                             | read  → list the view catalogue         |
 * | POST /views/:view/query                 | read  → check definition → run          |
 * | POST /views/:view/preview               | read  → check definition → run → HTML   |
 * | GET  /views/:view/export.{csv,arrows,parquet} | read → check filters → stream      |
 * | POST /refresh/{points,broker,areas,visits} | write → recompute aggregates          |
 * | GET  /boundaries, GET/PUT /boundaries/:name | read / write → GeoJSON boundary layers |
 * | GET  /map/entities                      | read  → located NGSIv2 entities (GeoJSON) |
 * | GET/PUT /targets                        | read / write → monthly KPI targets      |
 * | POST /superset/guest-token              | read  → Superset guest token (embedding) |
 * | GET/POST /charts, GET/PUT /charts/:id   | read / write → versioned charts         |
 * | GET  /charts/:id/versions/:version      | read                                    |
 * | GET  /charts/:id/data                   | read  → aggregates                      |
 * | POST /charts/:id/publications           | write → publish with k                  |
 * | DELETE /publications/:token             | write → revoke                          |
 * | GET/POST /boards, GET/PUT /boards/:id   | read / write → dashboards               |
 * | GET  /public/dashboards/charts/:token   | none  → suppressed aggregates (+ /page, /embed, /data.csv) |
 */
import type { Request, RequestHandler } from 'express';
import type { JsonSchema, ModuleContext } from '../core/index.ts';
import { defineProblem, ProblemError } from '../core/index.ts';
import type { BrokerServices } from '../broker/index.ts';
import type { BoundaryLayers } from './boundary_layers.ts';
import type { Catalogue } from './catalogue_service.ts';
import { entityFeatures } from './entity_features.ts';
import { SupersetClient } from './superset_client.ts';
import type { KpiTargets } from './kpi_targets.ts';
import { KPI_NAMES } from './operator_page.ts';
import {
  type ChartDefinition,
  checkDefinition,
  checkFilters,
  definitionSchema,
  type Filter,
} from './chart_definition.ts';
import { streamViewArrow, streamViewParquet } from './export_arrow.ts';
import { csvLine, streamViewCsv } from './export_csv.ts';
import { definitionOf, publicChartHtml } from './public_page.ts';
import { chartHtml } from './render_chart.ts';
import type { Refresher } from './refresh_aggregates.ts';
import { runQuery } from './run_query.ts';
import { findView, VIEWS } from './views.ts';

defineProblem('superset-not-configured', { status: 409, title: 'Superset is not configured' });
defineProblem('superset-unavailable', { status: 502, title: 'Superset did not answer as expected' });

const EXPORTS = { csv: streamViewCsv, arrows: streamViewArrow, parquet: streamViewParquet };

/** How callers of the analysts' API are let in and named. */
export interface ApiAccess {
  prefix: string;
  read: RequestHandler;
  write: RequestHandler;
  actorOf(req: Request): string;
}

export const READ_SCOPE = 'dashboards:read';
export const WRITE_SCOPE = 'dashboards:write';

const idParams: JsonSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[0-9]{1,12}$' } },
};
const title = { type: 'string', minLength: 1, maxLength: 200 };
const layerName = { type: 'string', pattern: '^[a-z0-9_-]{1,60}$' };
const version = { type: 'integer', minimum: 1 };
const layoutSchema: JsonSchema = {
  type: 'array',
  maxItems: 50,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['chartId', 'x', 'y', 'w', 'h'],
    properties: {
      chartId: { type: 'integer', minimum: 1 },
      x: { type: 'integer', minimum: 0, maximum: 11 },
      y: { type: 'integer', minimum: 0 },
      w: { type: 'integer', minimum: 1, maximum: 12 },
      h: { type: 'integer', minimum: 1, maximum: 12 },
    },
  },
};

/** Filters in a query string: `filter=column:op:value` (repeatable; `in` values separated by `|`). */
function parseFilters(raw: unknown): Filter[] {
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return list.map((item) => {
    const m = /^([a-z_]+):(eq|in|gte|lte):(.*)$/s.exec(String(item));
    if (!m) throw new ProblemError('validation-failed', { detail: 'filter is column:op:value' });
    return { column: m[1]!, op: m[2] as Filter['op'], value: m[2] === 'in' ? m[3]!.split('|') : m[3]! };
  });
}

function viewOf(req: Request) {
  const view = findView(String(req.params['view']));
  if (!view) throw new ProblemError('not-found', { detail: `No view ${String(req.params['view'])}.` });
  return view;
}

export function analystRouter(
  ctx: ModuleContext,
  catalogue: Catalogue,
  refresher: Refresher,
  layers: BoundaryLayers,
  targets: KpiTargets,
  superset?: { url: string; username: string; password: string; embeddedUuid: string },
  /** The staff console's variant: its own prefix, gates and actor instead of bearer tokens. */
  access?: ApiAccess,
) {
  const prefix = access?.prefix ?? '/api/dashboards';
  const { router, route } = ctx.http.createRouter(prefix);
  const read = access?.read ?? ctx.http.requireToken([READ_SCOPE]);
  const write = access?.write ?? ctx.http.requireToken([WRITE_SCOPE]);
  const actor = (req: Request) => (access ? access.actorOf(req) : `analyst:${req.auth!.subject}`);
  const tags = ['dashboards'];
  const r = { bearer: [READ_SCOPE] };
  const w = { bearer: [WRITE_SCOPE] };

  route(
    { method: 'get', path: '/views', summary: 'Analytics views', tags, security: r },
    read,
    (_req, res) => {
      res.json({
        views: VIEWS.map((v) => ({
          name: v.name,
          title: v.title,
          dimensions: v.dimensions,
          measures: v.measures,
          personal: v.personal,
          publishable: !v.personal || v.individuals !== undefined,
        })),
      });
    },
  );

  route(
    {
      method: 'post',
      path: '/views/:view/query',
      summary: 'Run a chart definition (aggregates, not suppressed)',
      tags,
      security: r,
      body: { ...definitionSchema, required: ['chartType', 'dimensions', 'measures'] },
    },
    read,
    async (req, res) => {
      const view = viewOf(req);
      const definition = { ...req.body, view: view.name } as ChartDefinition;
      checkDefinition(definition);
      res.json(await runQuery(ctx.db, view, definition));
    },
  );

  route(
    {
      method: 'post',
      path: '/views/:view/preview',
      summary: 'A chart definition rendered as the page will show it (SVG and table HTML), not saved',
      tags,
      security: r,
      body: {
        ...definitionSchema,
        required: ['chartType', 'dimensions', 'measures'],
        properties: { ...(definitionSchema['properties'] as object), title },
      },
    },
    read,
    async (req, res) => {
      const view = viewOf(req);
      const { title: chartTitle, ...rest } = req.body as ChartDefinition & { title?: string };
      const definition = { ...rest, view: view.name } as ChartDefinition;
      checkDefinition(definition);
      const layer = definition.layer === undefined ? undefined : await layers.get(definition.layer);
      const result = await runQuery(ctx.db, view, definition);
      res.json({ html: chartHtml(chartTitle ?? view.title.ja, definition, result, layer), ...result });
    },
  );

  route(
    {
      method: 'get',
      path: '/views/:view/export.:format',
      summary: 'Export a view with its filters, streamed: CSV (UTF-8 with BOM), Arrow IPC stream or Parquet',
      tags,
      security: r,
      params: {
        type: 'object',
        required: ['view', 'format'],
        properties: { view: { type: 'string' }, format: { enum: Object.keys(EXPORTS) } },
      },
      query: {
        type: 'object',
        properties: { filter: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] } },
      },
      responses: {
        '200': {
          description: 'text/csv, application/vnd.apache.arrow.stream or application/vnd.apache.parquet',
        },
      },
    },
    read,
    async (req, res) => {
      const view = viewOf(req);
      const format = String(req.params['format']) as keyof typeof EXPORTS;
      const filters = parseFilters(req.query['filter']);
      checkFilters(view, filters);
      await ctx.audit.record({
        actor: actor(req),
        action: 'dashboards.export',
        target: `view:${view.name}`,
        details: { format, filters: filters.length },
      });
      await EXPORTS[format](ctx.db, view, filters, res);
    },
  );

  route(
    {
      method: 'post',
      path: '/refresh/points',
      summary: 'Recompute the points views for JST days of one currency',
      tags,
      security: w,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['currency', 'from', 'to'],
        properties: {
          currency: { type: 'string', minLength: 1 },
          from: { type: 'string' },
          to: { type: 'string' },
        },
      },
    },
    write,
    async (req, res) => {
      res.json(await refresher.refreshPoints(req.body, actor(req)));
    },
  );

  route(
    {
      method: 'post',
      path: '/refresh/broker',
      summary: 'Recount NGSIv2 entities per type for the given tenants',
      tags,
      security: w,
      body: {
        type: 'object',
        additionalProperties: false,
        properties: { services: { type: 'array', items: { type: 'string' }, maxItems: 100, default: [''] } },
      },
    },
    write,
    async (req, res) => {
      res.json(await refresher.refreshBroker(req.body, actor(req)));
    },
  );

  route(
    {
      method: 'post',
      path: '/refresh/areas',
      summary: 'Recount located NGSIv2 entities per area of a boundary layer',
      tags,
      security: w,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['layer'],
        properties: {
          layer: layerName,
          services: { type: 'array', items: { type: 'string' }, maxItems: 100, default: [''] },
        },
      },
    },
    write,
    async (req, res) => {
      res.json(await refresher.refreshEntityAreas(req.body, actor(req)));
    },
  );

  route(
    {
      method: 'post',
      path: '/refresh/visits',
      summary: 'Recompute facility visits for JST days from the visits port (card readers)',
      tags,
      security: w,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['from', 'to'],
        properties: { from: { type: 'string' }, to: { type: 'string' } },
      },
    },
    write,
    async (req, res) => {
      res.json(await refresher.refreshVisits(req.body, actor(req)));
    },
  );

  route(
    {
      method: 'get',
      path: '/targets',
      summary: 'Monthly KPI targets of a currency',
      tags,
      security: r,
      query: {
        type: 'object',
        required: ['currency'],
        properties: { currency: { type: 'string', minLength: 1, maxLength: 100 } },
      },
    },
    read,
    async (req, res) => {
      res.json({ targets: await targets.list(String(req.query['currency'])) });
    },
  );

  route(
    {
      method: 'put',
      path: '/targets',
      summary: 'Set a monthly KPI target (the operator dashboard shows progress against it)',
      tags,
      security: w,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['currency', 'kpi', 'month', 'target'],
        properties: {
          currency: { type: 'string', minLength: 1, maxLength: 100 },
          kpi: { enum: [...KPI_NAMES] },
          month: { type: 'string', pattern: '^[0-9]{4}-(0[1-9]|1[0-2])$' },
          target: { type: 'number', minimum: 0 },
        },
      },
    },
    write,
    async (req, res) => {
      res.json(await targets.put(req.body, actor(req)));
    },
  );

  // One client (one login and CSRF session) for the process; guest tokens are short-lived.
  const supersetClient = superset
    ? new SupersetClient({ baseUrl: superset.url, username: superset.username, password: superset.password })
    : undefined;
  route(
    {
      method: 'post',
      path: '/superset/guest-token',
      summary: 'A Superset guest token for the embedded starter dashboard (Superset embedded SDK)',
      tags,
      security: r,
    },
    read,
    async (req, res) => {
      if (!superset || !supersetClient)
        throw new ProblemError('superset-not-configured', {
          detail: 'Set SUPERSET_URL, SUPERSET_USERNAME, SUPERSET_PASSWORD and SUPERSET_EMBEDDED_UUID.',
        });
      const token = await supersetClient
        .guestToken({
          dashboardUuid: superset.embeddedUuid,
          user: {
            username: `tsunagu-${actor(req).replace(/^[a-z]+:/, '')}`,
            first_name: 'Tsunagu',
            last_name: 'analyst',
          },
        })
        .catch((error: unknown) => {
          ctx.logger.warn({ err: error }, 'Superset guest token failed');
          throw new ProblemError('superset-unavailable', { detail: 'Superset did not issue a guest token.' });
        });
      await ctx.audit.record({
        actor: actor(req),
        action: 'dashboards.superset.guest_token',
        target: `superset-dashboard:${superset.embeddedUuid}`,
      });
      res.json({ token, dashboardUuid: superset.embeddedUuid, supersetUrl: superset.url });
    },
  );

  route(
    { method: 'get', path: '/boundaries', summary: 'Boundary layers', tags, security: r },
    read,
    async (_req, res) => {
      res.json({ layers: await layers.list() });
    },
  );

  route(
    {
      method: 'get',
      path: '/boundaries/:name',
      summary: 'A boundary layer as GeoJSON (properties.area, properties.name)',
      tags,
      security: r,
      params: { type: 'object', required: ['name'], properties: { name: layerName } },
    },
    read,
    async (req, res) => {
      res.type('application/geo+json').send(JSON.stringify(await layers.get(String(req.params['name']))));
    },
  );

  route(
    {
      method: 'put',
      path: '/boundaries/:name',
      summary: 'Create or replace a GeoJSON boundary layer',
      tags,
      security: w,
      params: { type: 'object', required: ['name'], properties: { name: layerName } },
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['title', 'areaProperty', 'geojson'],
        properties: {
          title,
          areaProperty: { type: 'string', minLength: 1, maxLength: 100 },
          nameProperty: { type: 'string', minLength: 1, maxLength: 100 },
          geojson: { type: 'object' },
        },
      },
    },
    write,
    async (req, res) => {
      res.json(await layers.put(String(req.params['name']), req.body, actor(req)));
    },
  );

  route(
    {
      method: 'get',
      path: '/map/entities',
      summary: 'NGSIv2 entities with a location, as GeoJSON points',
      tags,
      security: r,
      query: {
        type: 'object',
        additionalProperties: false,
        properties: {
          service: { type: 'string', maxLength: 50, default: '' },
          type: { type: 'string', maxLength: 256 },
          limit: { type: 'integer', minimum: 1, maximum: 5000, default: 1000 },
        },
      },
    },
    read,
    async (req, res) => {
      const broker = ctx.services['broker'] as BrokerServices | undefined;
      if (!broker)
        throw new ProblemError('source-unavailable', { detail: 'The broker module is not assembled.' });
      const q = req.query as unknown as { service: string; type?: string; limit: number };
      res.type('application/geo+json').send(JSON.stringify(await entityFeatures(broker, q)));
    },
  );

  route(
    { method: 'get', path: '/charts', summary: 'Saved charts', tags, security: r },
    read,
    async (_req, res) => {
      res.json({ charts: await catalogue.listCharts() });
    },
  );

  route(
    {
      method: 'post',
      path: '/charts',
      summary: 'Save a chart (version 1)',
      tags,
      security: w,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['title', 'definition'],
        properties: { title, definition: definitionSchema },
      },
    },
    write,
    async (req, res) => {
      const chart = await catalogue.createChart(req.body, actor(req));
      res.status(201).location(`/api/dashboards/charts/${chart.id}`).json(chart);
    },
  );

  route(
    {
      method: 'get',
      path: '/charts/:id',
      summary: 'Current version of a chart',
      tags,
      security: r,
      params: idParams,
    },
    read,
    async (req, res) => {
      res.json(await catalogue.chartVersion(Number(req.params['id'])));
    },
  );

  route(
    {
      method: 'put',
      path: '/charts/:id',
      summary: 'Save a new version of a chart',
      tags,
      security: w,
      params: idParams,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['title', 'definition', 'expectedVersion'],
        properties: { title, definition: definitionSchema, expectedVersion: version },
      },
    },
    write,
    async (req, res) => {
      res.json(await catalogue.updateChart(Number(req.params['id']), req.body, actor(req)));
    },
  );

  route(
    {
      method: 'get',
      path: '/charts/:id/versions/:version',
      summary: 'One version of a chart (Vega-Lite specification included)',
      tags,
      security: r,
      params: {
        type: 'object',
        required: ['id', 'version'],
        properties: {
          id: { type: 'string', pattern: '^[0-9]{1,12}$' },
          version: { type: 'string', pattern: '^[0-9]{1,6}$' },
        },
      },
    },
    read,
    async (req, res) => {
      res.json(await catalogue.chartVersion(Number(req.params['id']), Number(req.params['version'])));
    },
  );

  route(
    {
      method: 'get',
      path: '/charts/:id/data',
      summary: 'Chart data (aggregates)',
      tags,
      security: r,
      params: idParams,
    },
    read,
    async (req, res) => {
      const { chart, ...data } = await catalogue.chartData(Number(req.params['id']));
      res.json({ chartId: chart.id, version: chart.version, ...data });
    },
  );

  route(
    {
      method: 'post',
      path: '/charts/:id/publications',
      summary: 'Publish a chart with small-cell suppression',
      tags,
      security: w,
      params: idParams,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['audience'],
        properties: {
          audience: { enum: ['residents', 'partners'] },
          k: { type: 'integer', minimum: 2, maximum: 1000 },
        },
      },
    },
    write,
    async (req, res) => {
      const p = await catalogue.publish(Number(req.params['id']), req.body, actor(req));
      res.status(201).json({ ...p, url: `/public/dashboards/charts/${p.token}` });
    },
  );

  route(
    {
      method: 'delete',
      path: '/publications/:token',
      summary: 'Withdraw a publication',
      tags,
      security: w,
      params: {
        type: 'object',
        properties: { token: { type: 'string', pattern: '^[A-Za-z0-9_-]{10,64}$' } },
      },
    },
    write,
    async (req, res) => {
      await catalogue.revoke(String(req.params['token']), actor(req));
      res.status(204).end();
    },
  );

  route(
    { method: 'get', path: '/boards', summary: 'Dashboards', tags, security: r },
    read,
    async (_req, res) => {
      res.json({ dashboards: await catalogue.listDashboards() });
    },
  );

  route(
    {
      method: 'post',
      path: '/boards',
      summary: 'Create a dashboard arranging charts',
      tags,
      security: w,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['slug', 'title', 'layout'],
        properties: { slug: { type: 'string', pattern: '^[a-z0-9-]{1,60}$' }, title, layout: layoutSchema },
      },
    },
    write,
    async (req, res) => {
      const board = await catalogue.createDashboard(req.body, actor(req));
      res.status(201).location(`/api/dashboards/boards/${board.id}`).json(board);
    },
  );

  route(
    { method: 'get', path: '/boards/:id', summary: 'A dashboard', tags, security: r, params: idParams },
    read,
    async (req, res) => {
      res.json(await catalogue.dashboard(Number(req.params['id'])));
    },
  );

  route(
    {
      method: 'put',
      path: '/boards/:id',
      summary: 'Change a dashboard',
      tags,
      security: w,
      params: idParams,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['title', 'layout', 'expectedVersion'],
        properties: { title, layout: layoutSchema, expectedVersion: version },
      },
    },
    write,
    async (req, res) => {
      res.json(await catalogue.updateDashboard(Number(req.params['id']), req.body, actor(req)));
    },
  );

  return { prefix, router };
}

export function publicRouter(
  ctx: ModuleContext,
  catalogue: Catalogue,
  layers: BoundaryLayers,
  embedOrigins: string[],
) {
  const { router, route } = ctx.http.createRouter('/public/dashboards');
  const params: JsonSchema = {
    type: 'object',
    properties: { token: { type: 'string', pattern: '^[A-Za-z0-9_-]{10,64}$' } },
  };
  const withLayer = async (token: string) => {
    const p = await catalogue.published(token);
    const layer = definitionOf(p).layer;
    return { p, layer: layer === undefined ? undefined : await layers.get(layer) };
  };
  route(
    {
      method: 'get',
      path: '/charts/:token',
      summary: 'A published chart: aggregates with small cells suppressed',
      tags: ['dashboards'],
      params,
    },
    async (req, res) => {
      const p = await catalogue.published(String(req.params['token']));
      res.set('cache-control', 'public, max-age=300').json(p);
    },
  );
  route(
    {
      method: 'get',
      path: '/charts/:token/page',
      summary: 'A published chart as a page (SVG and table)',
      tags: ['dashboards'],
      params,
    },
    async (req, res) => {
      const { p, layer } = await withLayer(String(req.params['token']));
      res.set('cache-control', 'public, max-age=300').type('html').send(publicChartHtml(p, layer));
    },
  );
  route(
    {
      method: 'get',
      path: '/charts/:token/embed',
      summary: 'A published chart for a partner site to frame (origins in DASHBOARDS_EMBED_ORIGINS)',
      tags: ['dashboards'],
      params,
    },
    async (req, res) => {
      const { p, layer } = await withLayer(String(req.params['token']));
      // Only the configured partner origins may frame it; with none, only this site.
      res.removeHeader('x-frame-options');
      res.set(
        'content-security-policy',
        `default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors ${
          embedOrigins.length > 0 ? embedOrigins.join(' ') : "'self'"
        }`,
      );
      res
        .set('cache-control', 'public, max-age=300')
        .type('html')
        .send(publicChartHtml(p, layer, { embed: true }));
    },
  );
  route(
    {
      method: 'get',
      path: '/charts/:token/data.csv',
      summary: 'A published chart as CSV (UTF-8 with BOM)',
      tags: ['dashboards'],
      params,
    },
    async (req, res) => {
      const p = await catalogue.published(String(req.params['token']));
      res.type('text/csv; charset=utf-8');
      res.send(
        `\uFEFF${csvLine(p.columns)}${p.rows.map((row) => csvLine(p.columns.map((c) => row[c]))).join('')}`,
      );
    },
  );
  return { prefix: '/public/dashboards', router };
}
