/**
 * The public site in chromium at a phone viewport: find a shop by area and category, open its page
 * and see it on the map (Leaflet from node_modules, boundary layers, no tile server); axe-core finds
 * no serious or critical violation on any public page; pages render their content without JavaScript.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { send } from '../support/http.ts';
import type { TestPlatform } from '../support/platform.ts';
import { publishProfiles, STAFF, seedTowns, startPublicSite, TOWN_SHOPS } from './fixtures.ts';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const PHONE = { width: 390, height: 844 };
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-sync',
];

async function axe(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  const result = (await page.evaluate(
    'axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa", "best-practice"], resultTypes: ["violations"] })',
  )) as { violations: Array<{ id: string; impact: string | null; nodes: Array<{ target: string[] }> }> };
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

describe('public site in a browser', () => {
  let t: TestPlatform;
  let browser: Browser;
  const outside: string[] = [];

  before(async () => {
    t = await startPublicSite();
    await seedTowns(t);
    await publishProfiles(t, TOWN_SHOPS);
    const activity = await send(`${t.url}/api/admin/portal/directory/earn-activities`, {
      method: 'POST',
      headers: STAFF,
      body: {
        municipality: 'saijo',
        kind: 'checkup',
        title: '特定健診を受けよう',
        titleEn: 'Annual health check-up',
        startsAt: new Date(Date.now() + 86_400_000).toISOString(),
        endsAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
        placeName: '西条市総合福祉センター',
        address: '愛媛県西条市神拝甲150-1',
        reward: '500ポイント',
      },
    });
    assert.equal(activity.status, 201);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
  });
  after(async () => {
    await browser?.close();
    await t.stop();
  });

  async function phonePage(options: { javaScriptEnabled?: boolean } = {}): Promise<Page> {
    // bypassCSP only lets the test inject axe-core; the pages run under the platform's CSP.
    const context = await browser.newContext({
      viewport: PHONE,
      bypassCSP: true,
      locale: 'ja-JP',
      ...options,
    });
    // Nothing may be fetched from another host (no CDN, no tile server configured).
    await context.route(
      (url) => !url.href.startsWith(t.url),
      (route) => {
        outside.push(route.request().url());
        return route.abort();
      },
    );
    return context.newPage();
  }

  it('finds a shop by area and category, opens its page and shows it on the map', async () => {
    const page = await phonePage();
    await page.goto(`${t.url}/shops`);
    await page.selectOption('#category', 'cafe');
    await page.selectOption('#area', 'saijo/駅前');
    await page.click('form.search button[type=submit]');
    await page.waitForURL(/category=cafe/);
    const results = await page.locator('#results h3 a').allTextContents();
    assert.deepEqual(results, ['駅前珈琲'], 'only the café in the station area of Saijo');
    assert.match((await page.locator('.count').textContent()) ?? '', /1 件/);
    // The results map shows the same shop as a marker over the boundary layers.
    await page.waitForSelector('#map[data-ready=true]');
    assert.equal(await page.locator('#map img.leaflet-marker-icon').count(), 1);
    assert.ok((await page.locator('#map .leaflet-overlay-pane path').count()) >= 2, 'two boundary polygons');

    await page.click('#results a[href="/shops/s1"]');
    await page.waitForURL(`${t.url}/shops/s1`);
    assert.equal(await page.locator('h1').textContent(), '駅前珈琲');
    assert.match(await page.locator('main').innerText(), /LOVESAIJO ポイント/);
    assert.match(await page.locator('main').innerText(), /イベントポイント/);
    await page.waitForSelector('#map[data-ready=true]');
    const marker = page.locator('#map img.leaflet-marker-icon[title="駅前珈琲"]');
    assert.equal(await marker.count(), 1);
    assert.ok(await marker.isVisible(), 'the marker is inside the visible map');
    // The focused shop's popup is open with a link to its page.
    assert.equal(await page.locator('.leaflet-popup-content a').textContent(), '駅前珈琲');
    assert.deepEqual(outside, []);
  });

  it('has no serious or critical axe violation on any public page', async () => {
    const page = await phonePage();
    const pages = [
      '/',
      '/shops',
      '/shops?category=cafe&area=saijo',
      '/shops?q=nothing-matches',
      '/shops/s1',
      '/shops/s2',
      '/earn',
      '/opendata',
      '/merchant',
    ];
    for (const path of pages) {
      const res = await page.goto(`${t.url}${path}`);
      assert.equal(res?.status(), 200, path);
      if (await page.locator('#map').count()) await page.waitForSelector('#map[data-ready=true]');
      assert.deepEqual(await axe(page), [], path);
    }
    assert.deepEqual(outside, []);
  });

  it('has no serious or critical axe violation in the merchant console (form, errors, password)', async () => {
    const issued = await send(`${t.url}/api/admin/portal/merchant-accounts`, {
      method: 'POST',
      headers: STAFF,
      body: { merchant: 's3', loginId: 'tanbara-cafe' },
    });
    const page = await phonePage();
    await page.goto(`${t.url}/merchant`);
    await page.fill('#loginId', 'tanbara-cafe');
    await page.fill('#password', issued.body.password);
    await page.click('form.signin button[type=submit]');
    await page.waitForURL(`${t.url}/merchant/password`);
    assert.deepEqual(await axe(page), [], 'password page');
    await page.fill('#current', issued.body.password);
    await page.fill('#next', 'tanbara-own-passphrase');
    await page.click('form.signin button[type=submit]');
    await page.waitForURL(`${t.url}/merchant`);
    assert.equal(await page.inputValue('#name'), '丹原カフェ', 'the form starts from the public entry');
    assert.deepEqual(await axe(page), [], 'entry form');
    await page.fill('#phone', 'not a phone');
    await page.click('form.entry button[type=submit]');
    await page.waitForSelector('.error[role=alert]');
    assert.equal(await page.getAttribute('#phone', 'aria-invalid'), 'true');
    assert.deepEqual(await axe(page), [], 'entry form with errors');
    await page.fill('#phone', '0898-00-0000');
    await page.click('form.entry button[type=submit]');
    await page.waitForURL(/submitted=1/);
    assert.match(await page.locator('.pending').innerText(), /変更を申請中です/);
    assert.deepEqual(await axe(page), [], 'pending change');
  });

  it('renders the content without JavaScript', async () => {
    const page = await phonePage({ javaScriptEnabled: false });
    await page.goto(`${t.url}/shops?q=${encodeURIComponent('えきまえ')}`);
    assert.deepEqual(await page.locator('#results h3 a').allTextContents(), ['駅前珈琲', '駅前青果']);
    await page.goto(`${t.url}/shops/s1`);
    const main = await page.locator('main').innerText();
    assert.match(main, /愛媛県西条市大町1-1/);
    assert.match(main, /8:00〜18:00/);
    assert.match(main, /地図の表示には JavaScript が必要です/);
    assert.equal(await page.locator('#map .leaflet-marker-icon').count(), 0);
    await page.goto(`${t.url}/earn`);
    assert.match(
      await page.locator('main').innerText(),
      /特定健診を受けよう[\s\S]*西条市総合福祉センター[\s\S]*500ポイント/,
    );
    await page.goto(`${t.url}/`);
    assert.match(await page.locator('main').innerText(), /西条市[\s\S]*新居浜市/);
  });
});
