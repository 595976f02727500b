/** The analysts' API: refresh from the points service, charts and versions, dashboards, publication, CSV. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { send } from '../support/http.ts';
import { CURRENCY, type Fixture, seedPoints, startDashboards } from './fixtures.ts';

/** The body as text with a byte-order mark kept (`Response.text()` drops it). */
async function bytesAsText(res: Response): Promise<string> {
  return new TextDecoder('utf-8', { ignoreBOM: true }).decode(await res.arrayBuffer());
}

const KPI_CHART = {
  view: 'points_kpi_daily',
  chartType: 'bar',
  dimensions: ['day'],
  measures: [{ column: 'payments' }, { column: 'used' }],
  filters: [{ column: 'currency', op: 'eq', value: CURRENCY }],
};

describe('dashboards API', () => {
  let f: Fixture;
  let api: string;
  before(async () => {
    f = await startDashboards();
    await seedPoints(f);
    api = `${f.t.url}/api/dashboards`;
  });
  after(() => f.t.stop());

  async function auditActions(): Promise<string[]> {
    const { rows } = await f.t.platform.db.query<{ action: string }>(
      `SELECT action FROM core.audit_log WHERE action LIKE 'dashboards.%' ORDER BY seq`,
    );
    return rows.map((r) => r.action);
  }

  it('refresh needs the maintainer scope and changes nothing without it', async () => {
    const body = { currency: CURRENCY, from: '2026-04-01', to: '2026-04-03' };
    const none = await send(`${api}/refresh/points`, { method: 'POST', body });
    assert.equal(none.status, 401);
    const viewer = await send(`${api}/refresh/points`, { method: 'POST', headers: f.viewer, body });
    assert.equal(viewer.status, 403);
    assert.equal(viewer.body.code, 'insufficient-scope');
    const { rows } = await f.t.platform.db.query('SELECT 1 FROM analytics.points_kpi_daily');
    assert.equal(rows.length, 0);
  });

  it('refreshes daily aggregates through the points service (hand-computed values)', async () => {
    const res = await send(`${api}/refresh/points`, {
      method: 'POST',
      headers: f.maintainer,
      body: { currency: CURRENCY, from: '2026-04-01', to: '2026-04-03' },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { source: 'points', currency: CURRENCY, days: 3, flowRows: 4 });
    const kpi = await send(`${api}/views/points_kpi_daily/query`, {
      method: 'POST',
      headers: f.viewer,
      body: {
        chartType: 'table',
        dimensions: ['day'],
        measures: [
          { column: 'active_residents' },
          { column: 'payments' },
          { column: 'issued' },
          { column: 'used' },
        ],
      },
    });
    assert.equal(kpi.status, 200);
    assert.deepEqual(kpi.body.rows, [
      { day: '2026-04-01', active_residents: 12, payments: 12, issued: 1200, used: 120 },
      { day: '2026-04-02', active_residents: 3, payments: 3, issued: 0, used: 60 },
      { day: '2026-04-03', active_residents: 10, payments: 10, issued: 0, used: 50 },
    ]);
    const flows = await send(`${api}/views/points_flow_daily/query`, {
      method: 'POST',
      headers: f.viewer,
      body: { chartType: 'bar', dimensions: ['flow', 'merchant'], measures: [{ column: 'amount' }] },
    });
    assert.deepEqual(flows.body.rows, [
      { flow: 'issued', merchant: '', amount: 1200 },
      { flow: 'used', merchant: 'm1', amount: 170 },
      { flow: 'used', merchant: 'm2', amount: 60 },
    ]);
    // Refreshing again replaces the days instead of adding to them.
    await send(`${api}/refresh/points`, {
      method: 'POST',
      headers: f.maintainer,
      body: { currency: CURRENCY, from: '2026-04-01', to: '2026-04-03' },
    });
    const { rows } = await f.t.platform.db.query<{ total: string }>(
      'SELECT sum(amount)::text AS total FROM analytics.points_flow_daily',
    );
    assert.equal(rows[0]!.total, '1430');
  });

  it('rejects a range that is reversed or too long', async () => {
    const res = await send(`${api}/refresh/points`, {
      method: 'POST',
      headers: f.maintainer,
      body: { currency: CURRENCY, from: '2026-04-03', to: '2026-04-01' },
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'invalid-range');
  });

  it('saves a chart as Vega-Lite, versions it, and refuses a stale update', async () => {
    const created = await send(`${api}/charts`, {
      method: 'POST',
      headers: f.maintainer,
      body: { title: '日別決済 / Daily payments', definition: KPI_CHART },
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.version, 1);
    assert.equal(created.body.createdBy, 'analyst:sato');
    assert.deepEqual(created.body.vegaLite, {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      title: '日別決済 / Daily payments',
      data: { name: 'rows' },
      mark: { type: 'bar', tooltip: true },
      transform: [{ fold: ['payments', 'used'], as: ['measure', 'value'] }],
      encoding: {
        x: { field: 'day', type: 'temporal', title: 'day' },
        y: { field: 'value', type: 'quantitative' },
        color: { field: 'measure', type: 'nominal' },
      },
      usermeta: {
        tsunagu: {
          ...KPI_CHART,
          measures: [
            { column: 'payments', aggregate: 'sum' },
            { column: 'used', aggregate: 'sum' },
          ],
        },
      },
    });
    const id = created.body.id;
    const line = { ...KPI_CHART, chartType: 'line' };
    const v2 = await send(`${api}/charts/${id}`, {
      method: 'PUT',
      headers: f.maintainer,
      body: { title: 'Daily payments', definition: line, expectedVersion: 1 },
    });
    assert.equal(v2.status, 200);
    assert.equal(v2.body.version, 2);
    assert.equal(v2.body.vegaLite.mark.type, 'line');
    const stale = await send(`${api}/charts/${id}`, {
      method: 'PUT',
      headers: f.maintainer,
      body: { title: 'Lost update', definition: KPI_CHART, expectedVersion: 1 },
    });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.code, 'version-conflict');
    assert.equal(stale.body.currentVersion, 2);
    const current = await send(`${api}/charts/${id}`, { headers: f.viewer });
    assert.equal(current.body.title, 'Daily payments');
    assert.equal(current.body.version, 2);
    const first = await send(`${api}/charts/${id}/versions/1`, { headers: f.viewer });
    assert.equal(first.body.title, '日別決済 / Daily payments');
    assert.equal(first.body.vegaLite.mark.type, 'bar');
    const data = await send(`${api}/charts/${id}/data`, { headers: f.viewer });
    assert.deepEqual(data.body.rows, [
      { day: '2026-04-01', payments: 12, used: 120 },
      { day: '2026-04-02', payments: 3, used: 60 },
      { day: '2026-04-03', payments: 10, used: 50 },
    ]);
  });

  it('rejects a definition that does not fit its view and saves nothing', async () => {
    const before = (await send(`${api}/charts`, { headers: f.viewer })).body.charts.length;
    const bad = await send(`${api}/charts`, {
      method: 'POST',
      headers: f.maintainer,
      body: { title: 'x', definition: { ...KPI_CHART, measures: [{ column: 'amount' }] } },
    });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.code, 'invalid-chart');
    assert.equal(bad.body.detail, 'amount is not a measure of points_kpi_daily.');
    const pie = await send(`${api}/charts`, {
      method: 'POST',
      headers: f.maintainer,
      body: { title: 'x', definition: { ...KPI_CHART, chartType: 'pie' } },
    });
    assert.equal(pie.status, 422);
    const viewer = await send(`${api}/charts`, {
      method: 'POST',
      headers: f.viewer,
      body: { title: 'x', definition: KPI_CHART },
    });
    assert.equal(viewer.status, 403);
    assert.equal((await send(`${api}/charts`, { headers: f.viewer })).body.charts.length, before);
  });

  it('publishes with small-cell suppression that differencing cannot undo', async () => {
    const byDay = await send(`${api}/charts`, {
      method: 'POST',
      headers: f.maintainer,
      body: { title: 'Payments per day', definition: { ...KPI_CHART, measures: [{ column: 'payments' }] } },
    });
    const total = await send(`${api}/charts`, {
      method: 'POST',
      headers: f.maintainer,
      body: {
        title: 'Payments',
        definition: { ...KPI_CHART, chartType: 'table', dimensions: [], measures: [{ column: 'payments' }] },
      },
    });
    const fromSecond = await send(`${api}/charts`, {
      method: 'POST',
      headers: f.maintainer,
      body: {
        title: 'Payments since 2 April',
        definition: {
          ...KPI_CHART,
          chartType: 'table',
          dimensions: [],
          measures: [{ column: 'payments' }],
          filters: [...KPI_CHART.filters, { column: 'day', op: 'gte', value: '2026-04-02' }],
        },
      },
    });
    const publish = async (id: number) =>
      send(`${api}/charts/${id}/publications`, {
        method: 'POST',
        headers: f.maintainer,
        body: { audience: 'residents' },
      });
    const p1 = await publish(byDay.body.id);
    assert.equal(p1.status, 201);
    assert.equal(p1.body.k, 10);
    assert.equal(p1.body.url, `/public/dashboards/charts/${p1.body.token}`);
    const shown = await send(`${f.t.url}${p1.body.url}`);
    assert.equal(shown.status, 200);
    assert.deepEqual(shown.body.rows, [
      { day: '2026-04-01', payments: 12, suppressed: false },
      { day: '2026-04-02', payments: null, suppressed: true },
      { day: '2026-04-03', payments: 10, suppressed: false },
    ]);
    assert.deepEqual(shown.body.suppression, { k: 10, suppressedCells: 1, rowsLeftOut: 1 });

    // Unsuppressed, total − since-2-April = 25 − 13 = 12 would be fine, but 13 − 10 would reveal the
    // small day. Published, the small day is left out of both, so every difference is of large cells.
    const pt = await send(`${f.t.url}${(await publish(total.body.id)).body.url}`);
    const ps = await send(`${f.t.url}${(await publish(fromSecond.body.id)).body.url}`);
    assert.deepEqual(pt.body.rows, [{ payments: 22, suppressed: false }]);
    assert.deepEqual(ps.body.rows, [{ payments: 10, suppressed: false }]);
    for (const figure of [12, 22, 10, 22 - 10, 22 - 12]) assert.notEqual(figure, 3);

    const csv = await fetch(`${f.t.url}${p1.body.url}/data.csv`);
    assert.equal(csv.headers.get('content-type'), 'text/csv; charset=utf-8');
    assert.equal(
      await bytesAsText(csv),
      '\uFEFFday,payments,suppressed\r\n2026-04-01,12,false\r\n2026-04-02,,true\r\n2026-04-03,10,false\r\n',
    );

    const withdrawn = await send(`${api}/publications/${p1.body.token}`, {
      method: 'DELETE',
      headers: f.maintainer,
    });
    assert.equal(withdrawn.status, 204);
    const gone = await send(`${f.t.url}${p1.body.url}`);
    assert.equal(gone.status, 404);
    assert.equal(gone.body.code, 'publication-not-found');
  });

  it('publishes with a configured k per publication', async () => {
    const chart = (await send(`${api}/charts`, { headers: f.viewer })).body.charts.find(
      (c: { title: string }) => c.title === 'Payments per day',
    );
    const p = await send(`${api}/charts/${chart.id}/publications`, {
      method: 'POST',
      headers: f.maintainer,
      body: { audience: 'partners', k: 11 },
    });
    const shown = await send(`${f.t.url}${p.body.url}`);
    assert.deepEqual(
      shown.body.rows.map((r: { suppressed: boolean }) => r.suppressed),
      [false, true, true],
    );
  });

  it('refuses to publish a personal view with no count of individuals', async () => {
    const chart = await send(`${api}/charts`, {
      method: 'POST',
      headers: f.maintainer,
      body: {
        title: 'Use per merchant',
        definition: {
          view: 'points_flow_daily',
          chartType: 'bar',
          dimensions: ['merchant'],
          measures: [{ column: 'amount' }],
        },
      },
    });
    const res = await send(`${api}/charts/${chart.body.id}/publications`, {
      method: 'POST',
      headers: f.maintainer,
      body: { audience: 'residents' },
    });
    assert.equal(res.status, 422);
    assert.equal(res.body.code, 'view-not-publishable');
    const { rows } = await f.t.platform.db.query('SELECT 1 FROM analytics.publication WHERE chart_id = $1', [
      chart.body.id,
    ]);
    assert.equal(rows.length, 0);
  });

  it('exports a view with filters as CSV (UTF-8 with BOM) and audits the export', async () => {
    const res = await fetch(
      `${api}/views/points_flow_daily/export.csv?filter=flow:eq:used&filter=merchant:in:m2|m9`,
      { headers: f.viewer },
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-disposition'), 'attachment; filename="points_flow_daily.csv"');
    assert.equal(
      await bytesAsText(res),
      '\uFEFFday,currency,point_type,issuer,flow,merchant,place,amount\r\n' +
        '2026-04-02,saijo-lsp,event,saijo-city,used,m2,ishizuchi,60\r\n',
    );
    const bad = await send(`${api}/views/points_flow_daily/export.csv?filter=amount:gte:5`, {
      headers: f.viewer,
    });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.code, 'invalid-chart');
    const badDay = await send(`${api}/views/points_flow_daily/export.csv?filter=day:gte:2026-13-01`, {
      headers: f.viewer,
    });
    assert.equal(badDay.status, 422);
    assert.equal(badDay.body.detail, 'Filter day takes days as YYYY-MM-DD.');
    const feb30 = await send(`${api}/views/points_kpi_daily/query`, {
      method: 'POST',
      headers: f.viewer,
      body: {
        chartType: 'table',
        dimensions: [],
        measures: [{ column: 'payments' }],
        filters: [{ column: 'day', op: 'in', value: ['2026-02-30'] }],
      },
    });
    assert.equal(feb30.status, 422);
    assert.equal(feb30.body.code, 'invalid-chart');
    const unknown = await send(`${api}/views/nope/export.csv`, { headers: f.viewer });
    assert.equal(unknown.status, 404);
    const { rows } = await f.t.platform.db.query<{ actor: string; target: string; details: unknown }>(
      `SELECT actor, target, details FROM core.audit_log WHERE action = 'dashboards.export'`,
    );
    assert.deepEqual(rows, [
      { actor: 'analyst:suzuki', target: 'view:points_flow_daily', details: { format: 'csv', filters: 2 } },
    ]);
  });

  it('arranges charts into dashboards with optimistic versions', async () => {
    const charts = (await send(`${api}/charts`, { headers: f.viewer })).body.charts;
    const layout = [{ chartId: charts[0].id, x: 0, y: 0, w: 6, h: 4 }];
    const missing = await send(`${api}/boards`, {
      method: 'POST',
      headers: f.maintainer,
      body: { slug: 'ebpm', title: 'EBPM', layout: [{ chartId: 9999, x: 0, y: 0, w: 6, h: 4 }] },
    });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'chart-not-found');
    const board = await send(`${api}/boards`, {
      method: 'POST',
      headers: f.maintainer,
      body: { slug: 'ebpm', title: 'EBPM', layout },
    });
    assert.equal(board.status, 201);
    assert.deepEqual(board.body, { id: board.body.id, slug: 'ebpm', title: 'EBPM', layout, version: 1 });
    const dup = await send(`${api}/boards`, {
      method: 'POST',
      headers: f.maintainer,
      body: { slug: 'ebpm', title: 'x', layout },
    });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.code, 'slug-taken');
    const moved = [
      { ...layout[0]!, x: 6 },
      { chartId: charts[1].id, x: 0, y: 4, w: 12, h: 4 },
    ];
    const v2 = await send(`${api}/boards/${board.body.id}`, {
      method: 'PUT',
      headers: f.maintainer,
      body: { title: 'EBPM 2026', layout: moved, expectedVersion: 1 },
    });
    assert.equal(v2.body.version, 2);
    assert.deepEqual(v2.body.layout, moved);
    const stale = await send(`${api}/boards/${board.body.id}`, {
      method: 'PUT',
      headers: f.maintainer,
      body: { title: 'x', layout: [], expectedVersion: 1 },
    });
    assert.equal(stale.status, 409);
    assert.equal(
      (await send(`${api}/boards/${board.body.id}`, { headers: f.viewer })).body.title,
      'EBPM 2026',
    );
  });

  it('audited every change, with no personal values in the details', async () => {
    const actions = await auditActions();
    for (const action of [
      'dashboards.refresh',
      'dashboards.chart.create',
      'dashboards.chart.update',
      'dashboards.chart.publish',
      'dashboards.chart.unpublish',
      'dashboards.dashboard.create',
      'dashboards.dashboard.update',
      'dashboards.export',
    ])
      assert.ok(actions.includes(action), `${action} in ${actions.join(' ')}`);
    assert.equal(actions.filter((a) => a === 'dashboards.chart.update').length, 1);
    const { rows } = await f.t.platform.db.query<{ d: string }>(
      `SELECT details::text AS d FROM core.audit_log WHERE action LIKE 'dashboards.%'`,
    );
    for (const r of rows) assert.doesNotMatch(r.d, /r-\d+/);
  });
});
