/**
 * In a real browser at phone size: the operator dashboard (KPI tiles, SVG chart, data tables,
 * shared date range) and a published chart's public page with its suppressed cell; axe-core finds
 * no serious or critical violation on either.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import type { BrokerServices } from '../../broker/index.ts';
import { send } from '../support/http.ts';
import { CURRENCY, type Fixture, STAFF, seedPoints, startDashboards } from './fixtures.ts';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
interface AxeResult {
  violations: Array<{ id: string; impact: string | null; nodes: unknown[] }>;
}

describe('dashboard pages in a browser', () => {
  let f: Fixture;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

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
    const { client } = f.t.platform.services['broker'] as BrokerServices;
    const ngsi = client();
    for (const id of ['AED:1', 'AED:2', 'AED:3'])
      await ngsi.upsertEntity({ id, type: 'AED', name: { type: 'Text', value: id } });
    await ngsi.upsertEntity({
      id: 'Shelter:1',
      type: 'EvacuationShelter',
      name: { type: 'Text', value: '避難所' },
    });
    await f.dashboards.refresher.refreshPoints(
      { currency: CURRENCY, from: '2026-04-01', to: '2026-04-03' },
      STAFF,
    );
    await f.dashboards.refresher.refreshBroker({ services: [''] }, STAFF);
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
    page = await browser.newPage({ viewport: { width: 390, height: 844 }, bypassCSP: true });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) errors.push(m.text());
    });
  });
  after(async () => {
    await browser?.close();
    await f.t.stop();
  });

  it('operator dashboard: KPI tiles, chart and tables for the chosen range', async () => {
    await page.goto(`${f.t.url}/admin/dashboards?currency=${CURRENCY}&from=2026-04-01&to=2026-04-03`);
    assert.equal(await page.getAttribute('html', 'lang'), 'ja');
    assert.equal(await page.title(), '運用ダッシュボード / Operator dashboard — Tsunagu');
    const kpi = (name: string) => page.locator(`[data-kpi="${name}"]`).textContent();
    assert.equal(await kpi('Points issued'), '1,200');
    assert.equal(await kpi('Points used'), '230');
    assert.equal(await kpi('Payments'), '25');
    assert.equal(await kpi('Circulation (used ÷ issued)'), '19.17%');
    const svg = page.getByRole('img', { name: '日別の発行・利用ポイント / Points issued and used per day' });
    assert.equal(await svg.locator('rect.mark').count(), 6);
    assert.deepEqual(await page.locator('#daily-table tbody tr td:first-child').allTextContents(), [
      '2026-04-01',
      '2026-04-02',
      '2026-04-03',
    ]);
    assert.deepEqual(await page.locator('#entities-table tbody tr').allTextContents(), [
      'AED3',
      'EvacuationShelter1',
    ]);
    assert.ok(await fitsWidth(), 'no horizontal scrolling at 390 px');
    assert.deepEqual(await axe(), []);

    // The date range is shared by every panel: narrowing it changes tiles, chart and table together.
    await page.getByLabel('開始日').fill('2026-04-02');
    await page.getByRole('button', { name: /表示/ }).click();
    await page.waitForURL(/from=2026-04-02/);
    assert.equal(await kpi('Points used'), '110');
    assert.equal(await kpi('Circulation (used ÷ issued)'), '—');
    assert.equal(await page.locator('#daily-table tbody tr').count(), 2);
    assert.equal(await svg.locator('rect.mark').count(), 4);
    assert.deepEqual(errors, []);
  });

  it('an analyst builds and publishes a chart; the public page shows it with the small cell suppressed', async () => {
    const chart = await send(`${f.t.url}/api/dashboards/charts`, {
      method: 'POST',
      headers: f.maintainer,
      body: {
        title: '日別の利用者数 / Active residents per day',
        definition: {
          view: 'points_kpi_daily',
          chartType: 'bar',
          dimensions: ['day'],
          measures: [{ column: 'active_residents' }],
          filters: [{ column: 'currency', op: 'eq', value: CURRENCY }],
        },
      },
    });
    const published = await send(`${f.t.url}/api/dashboards/charts/${chart.body.id}/publications`, {
      method: 'POST',
      headers: f.maintainer,
      body: { audience: 'residents' },
    });
    await page.goto(`${f.t.url}${published.body.url}/page`);
    assert.equal(await page.locator('h1').textContent(), '日別の利用者数 / Active residents per day');
    assert.deepEqual(await page.locator('tbody tr').allTextContents(), [
      '2026-04-0112',
      '2026-04-02秘匿 / suppressed',
      '2026-04-0310',
    ]);
    // Two bars: the suppressed day draws none, and its value appears nowhere on the page.
    assert.equal(await page.locator('svg rect.mark').count(), 2);
    assert.doesNotMatch(await page.locator('svg').innerHTML(), /: 3</);
    assert.match((await page.locator('.note').textContent()) ?? '', /10人未満/);
    assert.ok(await fitsWidth(), 'no horizontal scrolling at 390 px');
    assert.deepEqual(await axe(), []);
    assert.deepEqual(errors, []);
  });
});
