/**
 * The online manuals and the API reference: every manual in docs/ parses and has its translation;
 * `/help` shows only what residents and partner developers may read, `/admin/help` every manual to
 * signed-in staff; `/docs/api` lists every operation of the OpenAPI document. In chromium at a phone
 * viewport: axe-core finds no serious or critical violation, the manual reads without JavaScript, and
 * the screenshots the manuals show are taken anew (docs/images).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DOCS_DIR } from '../../portal/help/section.ts';
import { loadManuals, ManualError, renderManual } from '../../portal/help/manuals.ts';
import {
  axe,
  type ConsolePlatform,
  createStaff,
  signInStaff,
  startConsolePlatform,
} from '../portal_admin/support.ts';

const PHONE = { width: 390, height: 844 };

describe('manuals in docs/', () => {
  const manuals = loadManuals(DOCS_DIR);

  it('covers every audience, each manual in Japanese with its English translation', () => {
    assert.deepEqual([...new Set(manuals.map((m) => m.audience))].sort(), [
      'merchant',
      'operator',
      'partner',
      'resident',
      'staff',
    ]);
    for (const ja of manuals.filter((m) => m.lang === 'ja')) {
      const en = manuals.find((m) => m.slug === ja.slug && m.lang === 'en');
      assert.ok(en, `${ja.slug} has no English translation`);
      assert.equal(en.audience, ja.audience);
      assert.equal(
        en.headings.length,
        ja.headings.length,
        `${ja.slug}: both languages have the same sections`,
      );
    }
  });

  it('refuses a manual without front matter or with an unknown audience', () => {
    assert.throws(() => renderManual('x.md', '# no front matter'), ManualError);
    assert.throws(
      () => renderManual('x.md', '---\ntitle: X\naudience: everyone\n---\n# x'),
      /audience must be/,
    );
  });

  it('gives headings ids and moves them one level down under the page title', () => {
    const m = renderManual('t.md', '---\ntitle: T\naudience: staff\n---\n## 同意 の管理\n\n## 同意 の管理\n');
    assert.match(m.html, /<h3 id="同意-の管理">/);
    assert.match(m.html, /<h3 id="同意-の管理-2">/);
    assert.deepEqual(
      m.headings.map((h) => h.id),
      ['同意-の管理', '同意-の管理-2'],
    );
  });
});

describe('help pages', () => {
  let c: ConsolePlatform;
  before(async () => {
    c = await startConsolePlatform();
  });
  after(() => c.stop());

  it('/help lists the resident and partner manuals only; staff manuals answer 404 there', async () => {
    const index = await (await fetch(`${c.url}/help`)).text();
    assert.match(index, /href="\/help\/resident"/);
    assert.match(index, /href="\/help\/partner\.en"/);
    assert.doesNotMatch(index, /runbook|\/help\/staff|\/help\/merchant/);
    for (const slug of ['runbook', 'staff', 'merchant.en', 'nope']) {
      const res = await fetch(`${c.url}/help/${slug}`);
      assert.equal(res.status, 404, slug);
      assert.equal(((await res.json()) as { code: string }).code, 'not-found');
    }
    const resident = await fetch(`${c.url}/help/resident`);
    assert.equal(resident.status, 200);
    const html = await resident.text();
    assert.match(html, /住民向けマニュアル/);
    assert.match(html, /<nav aria-label="目次">/);
    assert.match(html, /href="\/help\/resident\.en"/);
  });

  it('/admin/help sends a visitor to the staff sign-in and shows every manual to staff', async () => {
    const res = await fetch(`${c.url}/admin/help/runbook`, { redirect: 'manual' });
    assert.equal(res.status, 303);
    assert.match(res.headers.get('location') ?? '', /^\/admin\/login\?return=/);

    const staff = await createStaff(c.idp, 'help-reader', false);
    const { context, page } = await signInStaff(c, staff, '/admin/help');
    await page.setViewportSize(PHONE);
    for (const slug of ['staff', 'operator', 'merchant', 'resident', 'partner'])
      assert.ok(await page.locator(`#aud-${slug}`).count(), slug);
    await page.goto(`${c.url}/admin/help/runbook`);
    assert.equal(
      await page
        .locator('h1')
        .first()
        .innerText()
        .then((t) => t.includes('運用手順書')),
      true,
    );
    assert.deepEqual(await axe(page), []);
    await context.close();
  });

  it('/docs/api lists every operation of the OpenAPI document', async () => {
    const doc = (await (await fetch(`${c.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const operations = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    const html = await (await fetch(`${c.url}/docs/api`)).text();
    assert.equal(html.match(/<section class="op"/g)?.length, operations);
    assert.match(html, /<code>\/api\/points\/v1\/events<\/code>/);
  });

  it('reads on a phone, without JavaScript too, and takes the manuals’ screenshots', async () => {
    const context = await c.browser.newContext({
      viewport: PHONE,
      locale: 'ja-JP',
      javaScriptEnabled: false,
    });
    const page = await context.newPage();
    for (const p of ['/help', '/help/resident', '/help/partner.en', '/docs/api']) {
      await page.goto(`${c.url}${p}`);
      assert.ok((await page.locator('main h1').innerText()).length > 0, p);
      assert.ok((await page.locator('main').innerText()).length > 200, p);
    }
    await context.close();

    const scripted = await c.browser.newContext({ viewport: PHONE, locale: 'ja-JP' });
    const shot = await scripted.newPage();
    for (const p of ['/help', '/help/resident', '/help/partner.en', '/docs/api']) {
      await shot.goto(`${c.url}${p}`);
      assert.deepEqual(await axe(shot), [], p);
    }
    await shot.goto(`${c.url}/`);
    await shot.screenshot({ path: path.join(DOCS_DIR, 'images', 'public-home.png') });
    await scripted.close();
    const image = await fetch(`${c.url}/help/images/public-home.png`);
    assert.equal(image.headers.get('content-type'), 'image/png');
    assert.ok((await image.arrayBuffer()).byteLength > 1000);
    const escape = await fetch(`${c.url}/help/images/%2e%2e%2fresident.md`);
    assert.equal(escape.status, 403);
    assert.doesNotMatch(await escape.text(), /住民向けマニュアル/);
  });
});
