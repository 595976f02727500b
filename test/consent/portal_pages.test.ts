/**
 * The resident's consent pages in a real browser (Debian chromium via playwright-core): sign in
 * through our OpenID provider with a (test) My Number card, see consents per item, pause, resume
 * and withdraw them, see the history, download a receipt; axe-core finds no serious or critical
 * violation on any page, on a phone-sized viewport.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { type ConsentServices, consentModule } from '../../consent/index.ts';
import { createCoreModule, type ModuleFactory } from '../../core/index.ts';
import { createIdpModuleWith, type IdpServices } from '../../idp/index.ts';
import { mountConsentPortal } from '../../portal/consent/mount.ts';
import { createCrl, createTestCa, issueCard } from '../idp/jpki_fixtures.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { freePort } from '../support/ports.ts';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const BASE = '/portal/consent';

/** The portal entry's wiring (portal/consent/mount.ts) as a module after idp and consent. */
const portalPages: ModuleFactory = (ctx) => {
  const pages = mountConsentPortal(ctx, { base: BASE });
  return {
    name: 'portal-consent-pages',
    migrations: null,
    routers: [{ prefix: BASE, router: pages.handler }],
    services: {},
    start: pages.start,
  };
};

interface AxeResult {
  violations: Array<{ id: string; impact: string | null; nodes: Array<{ target: string[] }> }>;
}

describe('resident consent pages in a browser', () => {
  let t: TestPlatform;
  let idp: IdpServices;
  let consent: ConsentServices;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let health: string;
  let sdgs: string;
  let commonId: string;

  const axe = async (): Promise<AxeResult['violations']> => {
    await page.evaluate(AXE);
    const result = (await page.evaluate('axe.run(document, { resultTypes: ["violations"] })')) as AxeResult;
    return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  };

  before(async () => {
    const ca = await createTestCa();
    const sign = await issueCard(ca, { kind: 'sign' });
    const auth = await issueCard(ca, { kind: 'auth' });
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    t = await startTestPlatform({
      env: { PORT: String(port), PUBLIC_URL: publicUrl },
      modules: [
        createCoreModule,
        createIdpModuleWith({ jpki: { trustAnchors: ca.pem, test: true, crls: [await createCrl(ca, [])] } }),
        consentModule({ deliveryIntervalMs: 0, expiryIntervalMs: 0 }),
        portalPages,
      ],
    });
    idp = t.platform.services['idp'] as IdpServices;
    consent = t.platform.services['consent'] as ConsentServices;
    const partner = (name: string) =>
      idp.clients.create({ name, grantTypes: ['client_credentials'], scopes: ['consent:decide'] }, 'test');
    health = (await partner('健康アプリ')).client.clientId;
    sdgs = (await partner('SDGs活動サイト')).client.clientId;
    for (const [noticeId, service, purpose, ja, en] of [
      ['health-app', health, 'age-check', '年齢の確認', 'Age check'],
      ['sdgs-site', sdgs, 'activity-points', '活動ポイントの付与', 'Activity points'],
    ] as const) {
      await consent.publishNotice(
        {
          noticeId,
          service,
          purposes: [purpose],
          titleJa: ja,
          titleEn: en,
          bodyJa: ja,
          bodyEn: en,
          material: true,
        },
        'staff:test',
      );
    }

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    // axe is injected through page.evaluate; bypassCSP only lifts the page's script-src for that.
    context = await browser.newContext({
      locale: 'ja-JP',
      viewport: { width: 390, height: 844 },
      bypassCSP: true,
    });
    page = await context.newPage();

    // Sign in: the pages send the resident to our provider, who enrolls with the card.
    await page.goto(`${t.url}${BASE}`);
    await page.waitForURL(/\/idp\/interaction\//);
    const nonce = (await page.textContent('#nonce'))!.trim();
    await page.fill('#signCertificate', sign.base64);
    await page.fill('#signSignature', await sign.sign(nonce));
    await page.fill('#enrollAuthCertificate', auth.base64);
    await page.fill('#enrollAuthSignature', await auth.sign(nonce));
    await page.click('#enroll');
    await page.waitForLoadState();
    if (await page.$('#consent')) await page.click('#consent');
    await page.waitForURL(`${t.url}${BASE}`);
    const cookie = (await context.cookies()).find((c) => c.name === 'tsunagu_portal')!;
    commonId = JSON.parse(Buffer.from(cookie.value.split('.')[0]!, 'base64url').toString()).cid;
    assert.equal(await idp.accounts.isActive(commonId), true);
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('signed in with no consents yet, the page says so, in Japanese first', async () => {
    assert.equal(await page.getAttribute('html', 'lang'), 'ja');
    assert.match((await page.textContent('h1'))!, /同意の一覧\s*My consents/);
    assert.match((await page.textContent('main'))!, /まだ同意はありません。/);
    assert.deepEqual(await axe(), []);
  });

  it('shows each basic-4 item and each flow with its state and plain-language buttons', async () => {
    await consent.give({
      resident: commonId,
      service: health,
      items: ['name', 'address', 'birthdate', 'gender'],
      purpose: 'age-check',
      notice: { id: 'health-app', version: 1 },
    });
    await consent.give({
      resident: commonId,
      service: sdgs,
      source: health,
      items: ['activity-records'],
      purpose: 'activity-points',
      notice: { id: 'sdgs-site', version: 1 },
    });
    await page.reload();
    const headings = await page.locator('section h2').allTextContents();
    assert.deepEqual(headings, ['健康アプリ', '健康アプリ → SDGs活動サイト']);
    const items = await page.locator('section').first().locator('li strong').allTextContents();
    assert.deepEqual(
      items.map((s) => s.replace(/\s+/g, ' ').trim()),
      ['氏名 Name', '住所 Address', '生年月日 Date of birth', '性別 Gender'],
    );
    assert.equal(await page.locator('.state-given').count(), 5);
    // Every button's accessible name says which item it acts on.
    await page.getByRole('button', { name: /撤回\s*：生年月日/ }).waitFor();
    assert.equal(await page.getByRole('button', { name: /一時停止\s*：/ }).count(), 5);
    assert.deepEqual(await axe(), []);
  });

  it('a resident withdraws a consent; the next decision denies and the history shows it', async () => {
    const q = { resident: commonId, service: health, item: 'birthdate', purpose: 'age-check' };
    assert.equal((await consent.decide(q)).decision, 'allow');
    await page.getByRole('button', { name: /撤回\s*：生年月日/ }).click();
    await page.waitForURL(/\?done=withdraw/);
    assert.match((await page.getByRole('status').textContent())!, /同意を撤回しました。/);
    const row = page.locator('li', { has: page.getByText('生年月日') });
    assert.match((await row.locator('.state').textContent())!, /撤回済み/);
    // A final consent offers only to consent again (a new record).
    assert.deepEqual(
      (await row.getByRole('button').allTextContents()).map((b) => b.replace(/\s+/g, ' ').trim()),
      ['もう一度同意する：生年月日 Consent again'],
    );
    const d = await consent.decide(q);
    assert.equal(d.decision, 'deny');
    assert.equal(d.decision === 'deny' && d.reason, 'withdrawn');

    await page.getByRole('link', { name: /変更の履歴/ }).click();
    await page.waitForURL(`${t.url}${BASE}/history`);
    assert.equal(await page.getAttribute('nav.sub a[aria-current=page]', 'href'), `${BASE}/history`);
    assert.equal(await page.getAttribute('nav.menu a[aria-current=page]', 'href'), BASE);
    const first = (await page.locator('tbody tr').first().textContent())!.replace(/\s+/g, ' ');
    assert.match(first, /撤回しました Withdrawn/);
    assert.match(first, /生年月日 Date of birth/);
    assert.match(first, /健康アプリ/);
    assert.match(first, /ご本人 You/);
    // 5 given (4 items + the flow, shown once for both sides), 1 withdrawn.
    assert.equal(await page.locator('tbody tr').count(), 6);
    assert.deepEqual(await axe(), []);
  });

  it('after a material notice change the page asks for re-consent; the resident agrees or consents again', async () => {
    await consent.publishNotice(
      {
        noticeId: 'health-app',
        service: health,
        purposes: ['age-check'],
        titleJa: '年齢の確認（改定）',
        titleEn: 'Age check (revised)',
        bodyJa: '提供先を追加しました。',
        bodyEn: 'Adds a recipient.',
        material: true,
      },
      'staff:test',
    );
    await page.goto(`${t.url}${BASE}`);
    const name = page.locator('li', { has: page.getByText('氏名') });
    assert.match((await name.locator('.state').textContent())!, /再同意が必要/);
    const q = { resident: commonId, service: health, item: 'name', purpose: 'age-check' };
    const before = await consent.decide(q);
    assert.equal(before.decision === 'deny' && before.reason, 'reconsent-required');
    await page.getByRole('button', { name: /新しい内容で同意\s*：氏名/ }).click();
    await page.waitForURL(/\?done=again/);
    assert.match((await page.getByRole('status').textContent())!, /同意しました。/);
    assert.deepEqual(await consent.decide(q), { decision: 'allow', consentId: before.consentId, version: 2 });
    assert.match((await name.locator('.state').textContent())!, /提供中/);

    // The withdrawn item offers to consent again: a new record under the new notice.
    await page.getByRole('button', { name: /もう一度同意する\s*：生年月日/ }).click();
    await page.waitForURL(/\?done=again/);
    const again = await consent.decide({
      resident: commonId,
      service: health,
      item: 'birthdate',
      purpose: 'age-check',
    });
    assert.equal(again.decision, 'allow');
    assert.equal((await consent.get(again.consentId!))!.notice.version, 2);
    assert.deepEqual(await axe(), []);
  });

  it('pauses and resumes a data flow (both sides move together)', async () => {
    await page.goto(`${t.url}${BASE}`);
    await page.getByRole('button', { name: /一時停止\s*：活動記録/ }).click();
    await page.waitForURL(/\?done=pause/);
    const flow = {
      resident: commonId,
      service: sdgs,
      source: health,
      item: 'activity-records',
      purpose: 'activity-points',
    };
    const paused = await consent.decide(flow);
    assert.equal(paused.decision === 'deny' && paused.reason, 'paused');
    assert.deepEqual(
      (await consent.list(commonId)).filter((r) => r.dataItem === 'activity-records').map((r) => r.state),
      ['paused', 'paused'],
    );
    await page.getByRole('button', { name: /再開\s*：活動記録/ }).click();
    await page.waitForURL(/\?done=resume/);
    assert.equal((await consent.decide(flow)).decision, 'allow');
  });

  it('shows the notice each consent was given under, and points to the latest version', async () => {
    await page.goto(`${t.url}${BASE}`);
    await page
      .getByRole('link', { name: /同意したときの説明を読む（第1版）/ })
      .last()
      .click();
    await page.waitForURL(`${t.url}${BASE}/notice/sdgs-site/1`);
    assert.match((await page.textContent('h1'))!, /活動ポイントの付与/);
    assert.equal(await page.getByRole('link', { name: /最新版を読む/ }).count(), 0);
    await page.goto(`${t.url}${BASE}/notice/health-app/1`);
    assert.match((await page.textContent('main'))!, /最新は第2版です。/);
    assert.deepEqual(await axe(), []);
    const missing = await page.request.get(`${t.url}${BASE}/notice/health-app/9`);
    assert.equal(missing.status(), 404);
  });

  it('a partner asks the resident to opt in; only the ticked items are consented', async () => {
    const url = `${t.url}${BASE}/request?service=${sdgs}&purpose=activity-points&notice=sdgs-site&items=name,gender`;
    await page.goto(url);
    assert.match((await page.textContent('h1'))!, /情報提供への同意のお願い/);
    assert.match(
      (await page.textContent('main'))!,
      /SDGs活動サイト があなたの情報を受け取ることへの同意をお願いしています。/,
    );
    assert.equal(await page.getByLabel(/氏名/).isChecked(), false);
    assert.equal(await page.getByLabel(/性別/).isChecked(), false);
    assert.deepEqual(await axe(), []);
    await page.getByLabel(/性別/).check();
    await page.getByRole('button', { name: /選んだ項目に同意する/ }).click();
    await page.waitForURL(/\?done=again/);
    const q = { resident: commonId, service: sdgs, purpose: 'activity-points' };
    assert.equal((await consent.decide({ ...q, item: 'gender' })).decision, 'allow');
    assert.deepEqual(await consent.decide({ ...q, item: 'name' }), {
      decision: 'deny',
      reason: 'no-consent',
    });
    const given = (await consent.list(commonId)).find(
      (r) => r.recipientService === sdgs && r.dataItem === 'gender',
    )!;
    assert.equal(given.collectionMethod, 'portal');
    assert.deepEqual(given.notice, { id: 'sdgs-site', version: 1 });

    // A request the notice does not cover is refused and changes nothing.
    const before = (await consent.list(commonId)).length;
    await page.goto(`${t.url}${BASE}/request?service=${sdgs}&purpose=marketing&notice=sdgs-site&items=name`);
    assert.match((await page.textContent('h1'))!, /このお願いは無効です/);
    assert.equal((await consent.list(commonId)).length, before);
  });

  it('downloads the signed receipt of a consent', async () => {
    await page.goto(`${t.url}${BASE}`);
    const record = (await consent.list(commonId)).find((r) => r.dataItem === 'name')!;
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: /同意書\s*：氏名/ }).click(),
    ]);
    assert.equal(download.suggestedFilename(), `consent-receipt-${record.id}.json`);
    const body = JSON.parse(readFileSync((await download.path())!, 'utf8'));
    assert.equal(body.receipt.consentReceiptID, `${record.id}:v${record.version}`);
    assert.equal(record.version, 2);
    assert.match(body.jws, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('links a partner account with the code the partner shows, and unlinks it', async () => {
    await page.goto(`${t.url}${BASE}`);
    await page.locator('nav.menu summary').click();
    await page.getByRole('link', { name: /連携サービス/ }).click();
    await page.waitForURL(`${t.url}${BASE}/links`);
    assert.match((await page.textContent('main'))!, /連携しているサービスはありません。/);
    assert.deepEqual(await axe(), []);

    await page.getByLabel(/連携コード/).fill('ZZZZ-ZZZZ');
    await page.getByRole('button', { name: /^連携する/ }).click();
    await page.waitForURL(/m=invalid/);
    assert.match((await page.getByRole('alert').textContent())!, /コードが違うか/);

    const { code } = await consent.issueLinkCode(health, 'taro@health-app');
    await page.getByLabel(/連携コード/).fill(code.toLowerCase());
    await page.getByRole('button', { name: /^連携する/ }).click();
    await page.waitForURL(/m=linked/);
    assert.match((await page.getByRole('status').textContent())!, /サービスと連携しました。/);
    assert.deepEqual(await page.locator('section').first().locator('li strong').allTextContents(), [
      '健康アプリ',
    ]);
    assert.equal(await consent.isLinked(commonId, health), true);
    assert.deepEqual(await axe(), []);

    await page.getByRole('button', { name: /連携を解除\s*：健康アプリ/ }).click();
    await page.waitForURL(/m=unlinked/);
    assert.equal(await consent.isLinked(commonId, health), false);
    assert.match((await page.textContent('main'))!, /連携しているサービスはありません。/);
  });

  it('refuses a form without its CSRF token and changes nothing', async () => {
    const record = (await consent.list(commonId)).find((r) => r.dataItem === 'gender')!;
    const res = await page.request.post(`${t.url}${BASE}/${record.id}/withdraw`, {
      form: { csrf: 'forged' },
    });
    assert.equal(res.status(), 403);
    assert.equal((await consent.get(record.id))!.state, 'given');
    // A callback without this browser's login state (forged or replayed) signs nobody in.
    const forged = await page.request.get(`${t.url}${BASE}/callback?code=abc&state=xyz`);
    assert.equal(forged.status(), 400);
    assert.match(await forged.text(), /ログインできませんでした/);
  });

  it('signs out, and the pages then send the resident to sign in', async () => {
    await page.getByRole('button', { name: /ログアウト/ }).click();
    await page.waitForLoadState();
    assert.match((await page.textContent('h1'))!, /ログアウトしました/);
    assert.deepEqual(await axe(), []);
    const res = await page.request.get(`${t.url}${BASE}/history`, { maxRedirects: 0 });
    assert.equal(res.status(), 303);
    assert.equal(res.headers()['location'], `${BASE}/login?return=${encodeURIComponent(`${BASE}/history`)}`);
  });
});
