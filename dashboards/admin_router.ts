/**
 * The analysts' pages under /admin/dashboards besides the operator dashboard (admin address
 * allow-list), and their assets served from this origin (no CDN):
 *
 * | route                         | what                                                       |
 * |-------------------------------|------------------------------------------------------------|
 * | GET /builder                  | the chart builder (its script calls /api/dashboards)       |
 * | GET /boards                   | saved dashboards                                           |
 * | GET /boards/:id               | one dashboard, every chart under the shared date range and filters |
 * | GET /map                      | Leaflet map: boundary layer, entities per area, entities   |
 * | GET /assets/leaflet/*         | Leaflet from node_modules                                  |
 * | GET /assets/{builder,map}.js  | the pages' scripts                                         |
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import express from 'express';
import type { BrokerServices } from '../broker/index.ts';
import type { ModuleContext } from '../core/index.ts';
import { adminPage, type PagesMount } from './admin_shell.ts';
import type { BoundaryLayers } from './boundary_layers.ts';
import { builderHtml } from './builder_page.ts';
import type { Catalogue } from './catalogue_service.ts';
import { checkDefinition, type ChartDefinition, type Filter } from './chart_definition.ts';
import { entityFeatures } from './entity_features.ts';
import type { BoundaryCollection } from './geo.ts';
import { chartHtml } from './render_chart.ts';
import { escapeHtml, formatNumber } from './render_svg.ts';
import { runQuery } from './run_query.ts';
import { findView } from './views.ts';

const LEAFLET_DIR = path.dirname(createRequire(import.meta.url).resolve('leaflet/dist/leaflet.js'));
const ASSETS_DIR = path.join(import.meta.dirname, 'assets');
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The dashboard's shared date range and filters, applied to each chart whose view has the column. */
export function sharedFilters(
  d: ChartDefinition,
  shared: { from?: string; to?: string; filters: Filter[] },
): ChartDefinition {
  const view = findView(d.view)!;
  const extra: Filter[] = [];
  const dateColumn = 'day' in view.dimensions ? 'day' : 'month' in view.dimensions ? 'month' : undefined;
  const monthOf = (day: string) => `${day.slice(0, 8)}01`;
  if (dateColumn && shared.from)
    extra.push({
      column: dateColumn,
      op: 'gte',
      value: dateColumn === 'month' ? monthOf(shared.from) : shared.from,
    });
  if (dateColumn && shared.to)
    extra.push({
      column: dateColumn,
      op: 'lte',
      value: dateColumn === 'month' ? monthOf(shared.to) : shared.to,
    });
  for (const f of shared.filters) if (f.column in view.dimensions) extra.push(f);
  return { ...d, filters: [...d.filters, ...extra] };
}

export function adminRouter(
  ctx: ModuleContext,
  catalogue: Catalogue,
  layers: BoundaryLayers,
  tiles: { url: string; attribution: string },
  mount: PagesMount,
) {
  const { base, gate } = mount;
  const { router, route } = ctx.http.createRouter(base);
  const tags = ['dashboards'];
  router.use(
    '/assets/leaflet',
    gate,
    express.static(LEAFLET_DIR, { immutable: true, maxAge: '365d', index: false, fallthrough: false }),
  );
  for (const file of ['builder.js', 'map.js'])
    router.get(`/assets/${file}`, gate, (_req, res) => {
      res.sendFile(path.join(ASSETS_DIR, file), {
        headers: { 'cache-control': 'no-cache', 'content-type': 'text/javascript; charset=utf-8' },
      });
    });

  route(
    { method: 'get', path: '/builder', summary: 'Chart builder (HTML)', tags },
    gate,
    async (_req, res) => {
      res
        .type('html')
        .send(
          builderHtml(
            await layers.list(),
            base,
            mount.staffApi && { url: mount.staffApi.url, csrf: mount.staffApi.csrfOf(res) },
          ),
        );
    },
  );

  route({ method: 'get', path: '/boards', summary: 'Dashboards (HTML)', tags }, gate, async (_req, res) => {
    const boards = await catalogue.listDashboards();
    const items = boards
      .map(
        (b) =>
          `<li><a href="${base}/boards/${b.id}">${escapeHtml(b.title)}</a> <span class="en">(${b.layout.length} グラフ / charts, 版 ${b.version})</span></li>`,
      )
      .join('');
    res.type('html').send(
      adminPage({
        title: { ja: 'ダッシュボード一覧', en: 'Dashboards' },
        path: '/boards',
        base,
        body: `<section><ul id="boards">${items || '<li>まだありません / None yet</li>'}</ul>
<p><a href="${base}/builder">グラフ作成でダッシュボードを作る <span class="en">/ Create one in the chart builder</span></a></p></section>`,
      }),
    );
  });

  route(
    {
      method: 'get',
      path: '/boards/:id',
      summary: 'One dashboard with a shared date range and filters (HTML)',
      tags,
      params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9]{1,12}$' } } },
      query: {
        type: 'object',
        properties: {
          from: { type: 'string' },
          to: { type: 'string' },
          column: { type: 'string', maxLength: 60 },
          value: { type: 'string', maxLength: 200 },
        },
      },
    },
    gate,
    async (req, res) => {
      const board = await catalogue.dashboard(Number(req.params['id']));
      const q = req.query as Record<string, string | undefined>;
      const from = DAY.test(q['from'] ?? '') ? q['from'] : undefined;
      const to = DAY.test(q['to'] ?? '') ? q['to'] : undefined;
      const filters: Filter[] =
        q['column'] && /^[a-z_]+$/.test(q['column']) && q['value']
          ? [{ column: q['column'], op: 'eq', value: q['value'] }]
          : [];
      const sections: string[] = [];
      const layerCache = new Map<string, BoundaryCollection>();
      for (const item of [...board.layout].sort((a, b) => a.y - b.y || a.x - b.x)) {
        const chart = await catalogue.chartVersion(item.chartId);
        const d = sharedFilters(chart.definition, { from, to, filters });
        const view = checkDefinition(d);
        let layer: BoundaryCollection | undefined;
        if (d.layer) {
          if (!layerCache.has(d.layer)) layerCache.set(d.layer, await layers.get(d.layer));
          layer = layerCache.get(d.layer);
        }
        const result = await runQuery(ctx.db, view, d);
        sections.push(
          `<section style="--x:${item.x + 1};--w:${item.w}" aria-labelledby="chart-${chart.id}" data-chart-id="${chart.id}"><h2 id="chart-${chart.id}">${escapeHtml(chart.title)}</h2>${chartHtml(chart.title, d, result, layer)}</section>`,
        );
      }
      res.type('html').send(
        adminPage({
          title: { ja: board.title, en: 'Dashboard' },
          path: undefined,
          base,
          body: `<form method="get" class="filters" aria-label="共通の条件 / Shared filters">
  <label for="from">開始日 <span class="en">/ From</span><input id="from" name="from" type="date" value="${from ?? ''}"></label>
  <label for="to">終了日 <span class="en">/ To</span><input id="to" name="to" type="date" value="${to ?? ''}"></label>
  <label for="column">項目 <span class="en">/ Column</span><select id="column" name="column"><option value="">—</option>${VIEW_COLUMNS.map(
    (c) => `<option${c === q['column'] ? ' selected' : ''}>${escapeHtml(c)}</option>`,
  ).join('')}</select></label>
  <label for="value">値 <span class="en">/ Value</span><input id="value" name="value" value="${escapeHtml(q['value'] ?? '')}"></label>
  <button type="submit">適用 <span class="en">/ Apply</span></button>
</form>
<div class="grid">${sections.join('\n')}</div>`,
        }),
      );
    },
  );

  route(
    {
      method: 'get',
      path: '/map',
      summary: 'Map of NGSIv2 entities over a boundary layer (HTML, Leaflet)',
      tags,
      query: {
        type: 'object',
        properties: {
          layer: { type: 'string', maxLength: 60 },
          type: { type: 'string', maxLength: 256 },
          service: { type: 'string', maxLength: 50 },
        },
      },
    },
    gate,
    async (req, res) => {
      const q = req.query as Record<string, string | undefined>;
      const all = await layers.list();
      const layerName = q['layer'] ?? all[0]?.name;
      const boundaries =
        layerName && all.some((l) => l.name === layerName) ? await layers.get(layerName) : null;
      const service = q['service'] ?? '';
      const broker = ctx.services['broker'] as BrokerServices | undefined;
      const entities = broker
        ? await entityFeatures(broker, { service, limit: 2000, ...(q['type'] ? { type: q['type'] } : {}) })
        : { type: 'FeatureCollection', features: [] };
      const { rows: types } = await ctx.db.query<{ entity_type: string }>(
        'SELECT DISTINCT entity_type FROM analytics.broker_entity_types WHERE service = $1 ORDER BY 1',
        [service],
      );
      const { rows: areaRows } = await ctx.db.query<{ area: string; entities: number }>(
        `SELECT area, sum(entities)::int AS entities FROM analytics.broker_entities_area
          WHERE layer = $1 AND service = $2 AND ($3::text IS NULL OR entity_type = $3) GROUP BY area ORDER BY area`,
        [layerName ?? '', service, q['type'] ?? null],
      );
      const counts = Object.fromEntries(areaRows.map((r) => [r.area, r.entities]));
      const names = new Map(boundaries?.features.map((f) => [f.properties.area, f.properties.name]) ?? []);
      const data = { tiles, boundaries, entities, counts };
      // Tiles may come from a server on another origin (e.g. a city's own tile server over http).
      if (tiles.url) {
        const origin = new URL(tiles.url.replace(/\{[a-z]\}/g, '0')).origin;
        res.set(
          'content-security-policy',
          `default-src 'self'; img-src 'self' data: ${origin}; script-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'self'`,
        );
      }
      const body = `<form method="get" class="filters" aria-label="地図の条件 / Map options">
  <label for="layer">境界レイヤー <span class="en">/ Boundary layer</span><select id="layer" name="layer">${all
    .map(
      (l) =>
        `<option value="${escapeHtml(l.name)}"${l.name === layerName ? ' selected' : ''}>${escapeHtml(l.title)}</option>`,
    )
    .join('')}</select></label>
  <label for="type">種類 <span class="en">/ Entity type</span><select id="type" name="type"><option value="">すべて / all</option>${types
    .map(
      (t) => `<option${t.entity_type === q['type'] ? ' selected' : ''}>${escapeHtml(t.entity_type)}</option>`,
    )
    .join('')}</select></label>
  <button type="submit">表示 <span class="en">/ Show</span></button>
</form>
<section aria-labelledby="map-heading">
  <h2 id="map-heading">施設・オープンデータの地図 <span class="en">/ Facilities and open data</span></h2>
  <div id="map" role="region" aria-label="地図 / Map" style="height:60vh;min-height:320px"></div>
  <p class="note">${tiles.url ? escapeHtml(tiles.attribution) : '背景地図なし（境界のみ） / No background tiles: boundaries only'}</p>
</section>
<section aria-labelledby="areas-heading">
  <h2 id="areas-heading">地区別の件数 <span class="en">/ Entities per area</span></h2>
  <div class="scroll"><table id="area-table"><thead><tr><th scope="col">地区 <span class="en">/ Area</span></th><th scope="col">件数 <span class="en">/ Entities</span></th></tr></thead>
  <tbody>${areaRows.map((r) => `<tr><td>${escapeHtml(names.get(r.area) ?? (r.area || '（地区外） / outside'))}</td><td>${formatNumber(r.entities)}</td></tr>`).join('')}</tbody></table></div>
  <p class="note">${entities.features.length} 件を地図に表示 <span class="en">/ entities on the map</span></p>
</section>
<script type="application/json" id="map-data">${JSON.stringify(data).replace(/</g, '\\u003c')}</script>`;
      res.type('html').send(
        adminPage({
          title: { ja: '地図', en: 'Map' },
          path: '/map',
          base,
          head: `<link rel="stylesheet" href="${base}/assets/leaflet/leaflet.css">`,
          body,
          scripts: [`${base}/assets/leaflet/leaflet.js`, `${base}/assets/map.js`],
        }),
      );
    },
  );

  return { prefix: base, router };
}

const VIEW_COLUMNS = [
  'currency',
  'merchant',
  'place',
  'issuer',
  'point_type',
  'facility_kind',
  'area',
  'age_band',
  'service',
];
