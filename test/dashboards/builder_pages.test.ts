/**
 * In a real browser at phone size, with axe-core on every page: an analyst builds a chart in the
 * builder (view, dimension, measure, filter, chart type), previews and saves it, publishes it, and
 * the public page shows it with the small cell suppressed; a map chart; the saved charts arranged
 * into a dashboard whose shared date range narrows every chart; the Leaflet map with the boundary
 * layer and entities, no request leaving the platform's origin and no tile server configured.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { send } from '../support/http.ts';
import { CURRENCY, type Fixture, STAFF, seedPoints, startDashboards } from './fixtures.ts';
import { BOUNDARIES, seedEntities } from './geo_fixtures.ts';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
interface AxeResult {
  violations: Array<{ id: string; impact: string | null; nodes: unknown[] }>;
}

describe('builder, dashboards and map in a browser', () => {
  let f: Fixture;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  const foreign: string[] = [];

  const axe = async () => {
    await page.evaluate(AXE);
    const result = (await page.evaluate('axe.run(document, { resultTypes: ["violations"] })')) as AxeResult;
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => v.id);
  };
  const fitsWidth = () =>
    page.evaluate('document.documentElement.scrollWidth <= window.innerWidth') as Promise<boolean>;

  before(async () => {
    f = await startDashboards();
    await seedPoints(f);
    await seedEntities(f);
    await f.dashboards.refresher.refreshPoints(
      { currency: CURRENCY, from: '2026-04-01', to: '2026-04-03' },
      STAFF,
    );
    await f.dashboards.refresher.refreshBroker({ services: [''] }, STAFF);
    await f.dashboards.layers.put(
      'chome',
      { title: '町丁目', areaProperty: 'KEY_CODE', nameProperty: 'S_NAME', geojson: BOUNDARIES },
      STAFF,
    );
    await f.dashboards.refresher.refreshEntityAreas({ layer: 'chome', services: [''] }, STAFF);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) errors.push(m.text());
    });
    page.on('request', (r) => {
      if (!r.url().startsWith(f.t.url) && !r.url().startsWith('data:')) foreign.push(r.url());
    });
  });
  after(async () => {
    await browser?.close();
    await f.t.stop();
  });

  it('builds, previews, saves and publishes a chart; the public page suppresses the small cell', async () => {
    await page.goto(`${f.t.url}/admin/dashboards/builder`);
    assert.equal(await page.title(), 'グラフ作成 / Chart builder — Tsunagu');
    await page.getByLabel('アクセストークン').fill('maintainer');
    await page
      .getByLabel('タイトル', { exact: false })
      .first()
      .fill('日別の利用者数 / Active residents per day');
    await page.locator('#view').selectOption('points_kpi_daily');
    await page.locator('#chartType').selectOption('bar');
    await page.locator('#dimension-list').getByLabel('day', { exact: true }).check();
    await page.locator('#measure-list').getByLabel('active_residents', { exact: true }).check();
    await page.getByRole('button', { name: /条件を追加/ }).click();
    await page.getByLabel('絞り込む項目 / Filter column 1').selectOption('currency');
    await page.getByLabel('値 / Value 1').fill(CURRENCY);
    await page.getByRole('button', { name: /プレビュー/ }).click();
    await page.locator('#preview svg').waitFor();
    // The analyst's preview is not suppressed: three bars, the small day included.
    assert.equal(await page.locator('#preview svg rect.mark').count(), 3);
    assert.ok(await fitsWidth(), 'no horizontal scrolling at 390 px');
    assert.deepEqual(await axe(), []);

    await page.getByRole('button', { name: '保存 / Save', exact: true }).click();
    await page.getByRole('status').filter({ hasText: '保存しました' }).waitFor();
    await page.getByRole('button', { name: /保存済みグラフを読み込む/ }).click();
    await page.locator('#chart-list li').first().waitFor();
    const saved = await send(`${f.t.url}/api/dashboards/charts`, { headers: f.viewer });
    assert.equal(saved.body.charts.length, 1);
    assert.deepEqual(saved.body.charts[0].definition, {
      view: 'points_kpi_daily',
      chartType: 'bar',
      dimensions: ['day'],
      measures: [{ column: 'active_residents', aggregate: 'sum' }],
      filters: [{ column: 'currency', op: 'eq', value: CURRENCY }],
    });
    const audit = await f.t.platform.db.query(
      `SELECT actor FROM core.audit_log WHERE action = 'dashboards.chart.create'`,
    );
    assert.deepEqual(audit.rows, [{ actor: 'analyst:sato' }]);

    await page.locator('#chart-list li').first().getByRole('button', { name: /公開/ }).click();
    const published = page.locator('#chart-list .published');
    await published.waitFor();
    const url = /(http\S+)\/page/.exec((await published.textContent()) ?? '')![1]!;
    assert.match((await published.textContent()) ?? '', /\/embed"><\/iframe>/);
    await page.goto(`${url}/page`);
    assert.deepEqual(await page.locator('tbody tr').allTextContents(), [
      '2026-04-0112',
      '2026-04-02秘匿 / suppressed',
      '2026-04-0310',
    ]);
    assert.equal(await page.locator('svg rect.mark').count(), 2);
    assert.deepEqual(await axe(), []);

    // The embed page: the same figures, framable only by the configured origins (none: this site).
    const embed = await fetch(`${url}/embed`);
    assert.equal(embed.status, 200);
    assert.match(embed.headers.get('content-security-policy') ?? '', /frame-ancestors 'self'/);
    assert.equal(embed.headers.get('x-frame-options'), null);
    assert.match(await embed.text(), /秘匿/);
    assert.deepEqual(errors, []);
  });

  it('edits the chart into a new version and builds a map chart from the boundary layer', async () => {
    await page.goto(`${f.t.url}/admin/dashboards/builder`);
    await page.getByRole('button', { name: /保存済みグラフを読み込む/ }).click();
    await page.locator('#chart-list li').first().getByRole('button', { name: /編集/ }).click();
    await page.locator('#chartType').selectOption('line');
    await page.getByRole('button', { name: '保存 / Save', exact: true }).click();
    await page.getByRole('status').filter({ hasText: '版 2' }).waitFor();

    await page.getByRole('button', { name: /新規/ }).click();
    await page.locator('#title').fill('地区別AED / AEDs per area');
    await page.locator('#view').selectOption('broker_entities_area');
    await page.locator('#chartType').selectOption('map');
    await page.locator('#layer').selectOption('chome');
    await page.locator('#dimension-list').getByLabel('area', { exact: true }).check();
    await page.locator('#measure-list').getByLabel('entities', { exact: true }).check();
    await page.getByRole('button', { name: /プレビュー/ }).click();
    await page.locator('#preview svg').waitFor();
    assert.equal(await page.locator('#preview svg path.mark').count(), 2);
    await page.getByRole('button', { name: '保存 / Save', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'グラフ 2' }).waitFor();
    assert.deepEqual(await axe(), []);
    assert.deepEqual(errors, []);
  });

  it('arranges the charts into a dashboard whose shared date range narrows every chart', async () => {
    await page.getByRole('button', { name: /保存済みグラフを読み込む/ }).click();
    await page.locator('#chart-list li').nth(1).waitFor();
    for (const box of await page.getByLabel('ダッシュボードに入れる / Add to dashboard').all())
      await box.check();
    await page.locator('#board-title').fill('EBPM 月次');
    await page.locator('#board-slug').fill('ebpm-monthly');
    await page.getByRole('button', { name: /作成/ }).click();
    await page.locator('#board-link a').click();
    await page.waitForURL(/\/admin\/dashboards\/boards\/\d+/);
    assert.deepEqual(await page.locator('main section h2').allTextContents(), [
      '日別の利用者数 / Active residents per day',
      '地区別AED / AEDs per area',
    ]);
    assert.equal(await page.locator('section[data-chart-id="1"] table.data tbody tr').count(), 3);
    assert.ok(await fitsWidth(), 'no horizontal scrolling at 390 px');
    assert.deepEqual(await axe(), []);
    await page.getByLabel('開始日').fill('2026-04-02');
    await page.getByRole('button', { name: /適用/ }).click();
    await page.waitForURL(/from=2026-04-02/);
    assert.equal(await page.locator('section[data-chart-id="1"] table.data tbody tr').count(), 2);
    // The map has no day: the shared date range leaves it as it is.
    assert.equal(await page.locator('section[data-chart-id="2"] svg path.mark').count(), 2);
    await page.goto(`${f.t.url}/admin/dashboards/boards`);
    assert.deepEqual(await page.locator('#boards li a').allTextContents(), ['EBPM 月次']);
    assert.deepEqual(await axe(), []);
    assert.deepEqual(errors, []);
  });

  it('the map draws the boundary layer and the entities with Leaflet, without tiles or outside hosts', async () => {
    await page.goto(`${f.t.url}/admin/dashboards/map`);
    await page.locator('#map[data-ready="true"]').waitFor();
    // Two areas and five located entities (the one without a location is left off).
    assert.equal(await page.locator('#map path.leaflet-interactive').count(), 7);
    assert.equal(await page.locator('#map img.leaflet-tile').count(), 0);
    assert.deepEqual(await page.locator('#area-table tbody tr').allTextContents(), [
      '（地区外） / outside1',
      '大町3',
      '神拝1',
    ]);
    assert.ok(await fitsWidth(), 'no horizontal scrolling at 390 px');
    assert.deepEqual(await axe(), []);
    await page.getByLabel('種類').selectOption('EvacuationShelter');
    await page.getByRole('button', { name: /表示/ }).click();
    await page.locator('#map[data-ready="true"]').waitFor();
    assert.equal(await page.locator('#map path.leaflet-interactive').count(), 3);
    assert.deepEqual(await page.locator('#area-table tbody tr').allTextContents(), ['神拝1']);
    assert.deepEqual(foreign, []);
    assert.deepEqual(errors, []);
  });
});
