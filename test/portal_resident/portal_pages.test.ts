/**
 * The resident portal in a real browser (Debian chromium, phone viewport), signed in with a test My
 * Number card through `/portal/login`: the home with balances per currency and point type, the
 * points history in pages and JST, the QR code (decoded from the rendered SVG, verified through the
 * portal's service, expiring), notification settings, a consent withdrawn and seen in the history,
 * a partner account linked by signing in at the partner (a real OpenID provider) and unlinked, the
 * language toggle, and an axe-core scan of every page. Rejected requests change nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRequire } from 'node:module';
import { freePort } from '../support/ports.ts';
import { type PartnerProvider, startPartnerProvider } from './partner_provider.ts';
import { type ResidentPortal, startResidentPortal } from './support.ts';

/** jsqr is CommonJS: its export is the function itself. */
const jsQR = createRequire(import.meta.url)('jsqr') as typeof import('jsqr').default;
/** Runs in the page: the server's SVG drawn into a canvas, one character per pixel (1 dark), as a scanner sees it. */
const RASTERISE = `(async () => {
  const svg = document.querySelector('svg.qr');
  const img = new Image();
  img.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(new XMLSerializer().serializeToString(svg));
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = 300;
  canvas.height = 300;
  const c = canvas.getContext('2d');
  c.fillStyle = '#fff';
  c.fillRect(0, 0, 300, 300);
  c.drawImage(img, 0, 0, 300, 300);
  const rgba = c.getImageData(0, 0, 300, 300).data;
  let dark = '';
  for (let i = 0; i < rgba.length; i += 4) dark += rgba[i] < 128 ? '1' : '0';
  return dark;
})()`;
const SIZE = 300;
const ACTOR = { actor: 'staff:test' };
let n = 0;
const key = () => ({ idempotency: { scope: 'test', key: `k-${++n}` }, ...ACTOR });

/** What the page shows for an instant: JST, `YYYY/MM/DD HH:MM`. */
function jst(iso: string): string {
  const d = new Date(new Date(iso).getTime() + 9 * 3_600_000).toISOString();
  return `${d.slice(0, 4)}/${d.slice(5, 7)}/${d.slice(8, 10)} ${d.slice(11, 16)}`;
}

describe('resident portal in a browser', () => {
  let r: ResidentPortal;
  let partner: PartnerProvider;
  let health: string;

  before(async () => {
    r = await startResidentPortal();
    const { points, consent, idp, commonId } = r;
    health = (
      await idp.clients.create(
        { name: '健康アプリ', grantTypes: ['client_credentials'], scopes: ['consent:decide'] },
        'test',
      )
    ).client.clientId;
    await consent.publishNotice(
      {
        noticeId: 'health-app',
        service: health,
        purposes: ['age-check'],
        titleJa: '年齢の確認',
        titleEn: 'Age check',
        bodyJa: '年齢を確認します。',
        bodyEn: 'We check your age.',
        material: true,
      },
      'staff:test',
    );

    // Two currencies; the first with two point types, one of them expiring.
    await points.createCurrency(
      { code: 'saijo', municipality: '西条市', name: '西条ポイント' },
      'staff:test',
    );
    await points.createPointType(
      { currency: 'saijo', code: 'basic', name: '通常ポイント', issuer: 'city', validityDays: 180 },
      'staff:test',
    );
    await points.createPointType(
      { currency: 'saijo', code: 'bonus', name: '健康ボーナス', issuer: 'city', spendPriority: 10 },
      'staff:test',
    );
    await points.createPool({ currency: 'saijo', pool: 'city' }, 'staff:test');
    await points.fundPool({ currency: 'saijo', pool: 'city', amount: 100_000, ...key() });
    for (let i = 1; i <= 24; i++)
      await points.grant({
        currency: 'saijo',
        pool: 'city',
        resident: commonId,
        amount: 10,
        pointType: 'basic',
        ...key(),
      });
    await points.grant({
      currency: 'saijo',
      pool: 'city',
      resident: commonId,
      amount: 500,
      pointType: 'bonus',
      ...key(),
    });
    await points.registerMerchant({ id: 'shop-1', municipality: '西条市', name: '駅前商店' }, 'staff:test');
    await points.pay({ currency: 'saijo', resident: commonId, merchant: 'shop-1', amount: 300, ...key() });
    await points.createCurrency(
      { code: 'niihama', municipality: '新居浜市', name: '新居浜ポイント' },
      'staff:test',
    );
    await points.createPointType(
      { currency: 'niihama', code: 'basic', name: '地域ポイント', issuer: 'city' },
      'staff:test',
    );
    await points.createPool({ currency: 'niihama', pool: 'city' }, 'staff:test');
    await points.fundPool({ currency: 'niihama', pool: 'city', amount: 1_000, ...key() });
    await points.grant({
      currency: 'niihama',
      pool: 'city',
      resident: commonId,
      amount: 70,
      pointType: 'basic',
      ...key(),
    });

    // The partner signs its users in itself; the platform is its client.
    partner = await startPartnerProvider({
      host: 'localhost',
      port: await freePort(),
      redirectUri: r.portal.linkPartners.redirectUri,
    });
    await r.portal.linkPartners.register(
      {
        service: health,
        issuer: partner.issuer,
        clientId: partner.clientId,
        clientSecret: partner.clientSecret,
        scope: 'openid',
      },
      'staff:test',
    );
    await r.page.reload();
  });
  after(async () => {
    await partner?.stop();
    await r?.stop();
  });

  it('home: balances per currency and point type, the menu, Japanese first', async () => {
    const { page } = r;
    assert.equal(await page.getAttribute('html', 'lang'), 'ja');
    assert.match((await page.textContent('h1'))!, /ホーム\s*Home/);
    const balances = page.locator('section', { has: page.locator('#balances') });
    const text = (await balances.textContent())!.replace(/\s+/g, ' ');
    // 24 × 10 + 500 − 300: the bonus type is spent first (priority 10).
    assert.match(text, /西条ポイント 440 pt/);
    assert.match(text, /通常ポイント.*240 pt/);
    assert.match(text, /健康ボーナス.*200 pt/);
    assert.match(text, /新居浜ポイント 70 pt/);
    await page.locator('nav.menu summary').click();
    const entries = (await page.locator('nav.menu a').allTextContents()).map((s) =>
      s.replace(/\s+/g, ' ').trim(),
    );
    assert.deepEqual(entries.slice(0, 2), ['ホーム Home', 'ポイント Points']);
    for (const e of [
      'マイQRコード My QR code',
      '同意の管理 My consents',
      '連携サービス Linked services',
      '通知の設定 Notifications',
    ])
      assert.ok(entries.includes(e), e);
    assert.equal(await page.getAttribute('nav.menu a[aria-current=page]', 'href'), '/portal');
    assert.deepEqual(await r.axe(), []);
  });

  it('points history: newest first in JST, 20 per page, older pages, another currency', async () => {
    const { page, points, commonId } = r;
    await page.goto(`${r.t.url}/portal`);
    await r.menu(/ポイント/);
    await page.waitForURL(`${r.t.url}/portal/points`);
    const all = (await points.history({ currency: 'saijo', holder: commonId, limit: 100 })).items;
    assert.equal(all.length, 26);
    const rows = page.locator('table.history tbody tr');
    // Currencies in code order: 新居浜 (niihama) first, then 西条 (saijo).
    assert.equal(await rows.count(), 1);
    await page.locator('nav.sub').getByRole('link', { name: '西条ポイント' }).click();
    await page.waitForURL(/currency=saijo/);
    assert.equal(await rows.count(), 20);
    const first = (await rows.first().textContent())!.replace(/\s+/g, ' ');
    assert.match(first, /支払い Payment/);
    assert.match(first, /−300 pt/);
    assert.match(first, /440 pt/);
    assert.equal(await rows.first().locator('time').getAttribute('datetime'), all[0]!.at);
    assert.equal((await rows.first().locator('time').textContent())!.trim(), jst(all[0]!.at));
    assert.deepEqual(await r.axe(), []);

    await page.getByRole('link', { name: /さらに前の履歴/ }).click();
    await page.waitForURL(/before=/);
    assert.equal(await rows.count(), 6);
    assert.match((await rows.last().textContent())!.replace(/\s+/g, ' '), /付与 Granted.*\+10 pt.*10 pt/);
    assert.equal(await page.getByRole('link', { name: /さらに前の履歴/ }).count(), 0);
    await page.getByRole('link', { name: /最新の履歴/ }).click();
    assert.equal(await rows.count(), 20);

    await page.locator('nav.sub').getByRole('link', { name: '新居浜ポイント' }).click();
    await page.waitForURL(/currency=niihama/);
    assert.equal(await rows.count(), 1);
    assert.match((await page.locator('.big').textContent())!, /70 pt/);
    // A cursor that is not one is ignored, not passed to the database.
    const odd = await page.request.get(`${r.t.url}/portal/points?currency=saijo&before=1;DROP`);
    assert.equal(odd.status(), 200);
  });

  it('QR code: the SVG decodes to a short-lived token that names the resident without the common ID', async () => {
    const { page, portal, commonId, t } = r;
    await r.menu(/マイQRコード/);
    await page.waitForURL(`${t.url}/portal/qr`);
    assert.equal(await page.locator('svg.qr[role=img]').count(), 1);
    assert.deepEqual(await r.axe(), []);
    const dark = (await page.evaluate(RASTERISE)) as string;
    const image = new Uint8ClampedArray(SIZE * SIZE * 4).fill(255);
    for (let i = 0; i < dark.length; i++) if (dark[i] === '1') image.fill(0, i * 4, i * 4 + 3);
    const decoded = jsQR(image, SIZE, SIZE);
    assert.ok(decoded, 'the QR code decodes');
    const token = decoded.data;
    assert.match(token, /^TSR1\./);
    assert.ok(!token.includes(commonId));
    assert.ok(!Buffer.from(token.slice(5), 'base64url').toString('latin1').includes(commonId));

    const verified = await portal.qr.verify(token, 'system:card-reader');
    assert.equal(verified.resident, commonId);
    // Each visit shows a new, unlinkable code.
    await page.reload();
    const svg1 = await page.locator('svg.qr').innerHTML();
    await page.reload();
    assert.notEqual(await page.locator('svg.qr').innerHTML(), svg1);

    // Redeemed once; a second redeem, a forged or an expired code is refused and records nothing.
    const count = async () =>
      Number(
        (await t.platform.db.query<{ n: string }>('SELECT count(*) AS n FROM portal.resident_qr_uses'))
          .rows[0]!.n,
      );
    await portal.qr.redeem(token, { purpose: 'payment', actor: 'client:shop-app' });
    assert.equal(await count(), 1);
    await assert.rejects(portal.qr.redeem(token, { purpose: 'payment', actor: 'client:shop-app' }), {
      code: 'resident-qr-used',
      status: 409,
    });
    const forged = `${token.slice(0, -4)}${token.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    await assert.rejects(portal.qr.verify(forged, 'system:card-reader'), { code: 'resident-qr-invalid' });
    await assert.rejects(portal.qr.verify(commonId, 'system:card-reader'), { code: 'resident-qr-invalid' });
    const fresh = portal.qr.issue(commonId);
    r.advance(portal.qr.ttlSeconds + 1);
    await assert.rejects(portal.qr.redeem(fresh.token, { purpose: 'check-in', actor: 'system:gate' }), {
      code: 'resident-qr-expired',
    });
    assert.equal(await count(), 1);
  });

  it('notification settings: saved per kind and channel, read by other modules; a forged form changes nothing', async () => {
    const { page, portal, commonId, t } = r;
    await r.menu(/通知の設定/);
    await page.waitForURL(`${t.url}/portal/preferences`);
    assert.equal(await page.getByRole('checkbox').count(), 6);
    assert.deepEqual(await r.axe(), []);
    await page.getByRole('checkbox', { name: /お知らせ：メール/ }).check();
    await page.getByRole('checkbox', { name: /ポイント：LINE/ }).check();
    await page.getByRole('button', { name: /保存する/ }).click();
    await page.waitForURL(/saved=1/);
    assert.match((await page.getByRole('status').textContent())!, /設定を保存しました。/);
    assert.equal(await page.getByRole('checkbox', { name: /お知らせ：メール/ }).isChecked(), true);
    assert.deepEqual(await portal.preferences.get(commonId), {
      notices: { email: true, line: false },
      points: { email: false, line: true },
      consent: { email: false, line: false },
    });
    assert.equal(await portal.preferences.allows(commonId, 'points', 'line'), true);
    assert.deepEqual(await portal.preferences.allowing([commonId, 'someone-else'], 'notices', 'email'), [
      commonId,
    ]);

    const forged = await page.request.post(`${t.url}/portal/preferences`, {
      form: { csrf: 'forged', 'consent.email': 'on' },
    });
    assert.equal(forged.status(), 403);
    assert.equal(await portal.preferences.allows(commonId, 'consent', 'email'), false);
    // An unknown kind or channel is refused before anything is written, valid entries included.
    const before = await portal.preferences.get(commonId);
    await assert.rejects(
      portal.preferences.set(commonId, { consent: { email: true }, notices: { sms: true } }, 'resident'),
      { code: 'invalid-preferences', status: 400 },
    );
    assert.deepEqual(await portal.preferences.get(commonId), before);
  });

  it('withdraws a consent and sees it in the history', async () => {
    const { page, consent, commonId, t } = r;
    await consent.give({
      resident: commonId,
      service: health,
      items: ['birthdate'],
      purpose: 'age-check',
      notice: { id: 'health-app', version: 1 },
    });
    await r.menu(/同意の管理/);
    await page.waitForURL(`${t.url}/portal/consent`);
    assert.deepEqual(await r.axe(), []);
    await page.getByRole('button', { name: /撤回\s*：生年月日/ }).click();
    await page.waitForURL(/\?done=withdraw/);
    const d = await consent.decide({
      resident: commonId,
      service: health,
      item: 'birthdate',
      purpose: 'age-check',
    });
    assert.equal(d.decision === 'deny' && d.reason, 'withdrawn');
    await page
      .locator('nav.sub')
      .getByRole('link', { name: /変更の履歴/ })
      .click();
    await page.waitForURL(`${t.url}/portal/consent/history`);
    const first = (await page.locator('tbody tr').first().textContent())!.replace(/\s+/g, ' ');
    assert.match(first, /撤回しました Withdrawn/);
    assert.match(first, /生年月日 Date of birth/);
    assert.equal(await page.getAttribute('nav.menu a[aria-current=page]', 'href'), '/portal/consent');
    assert.deepEqual(await r.axe(), []);
  });

  it('links a partner account by signing in at the partner, then unlinks it', async () => {
    const { page, consent, commonId, t } = r;
    await r.menu(/連携サービス/);
    await page.waitForURL(`${t.url}/portal/consent/links`);
    assert.deepEqual(await r.axe(), []);

    // A callback this browser did not start links nothing.
    await page.goto(`${t.url}/portal/consent/links/callback?code=abc&state=forged`);
    await page.waitForURL(/m=redirect-failed/);
    assert.match((await page.getByRole('alert').textContent())!, /連携できませんでした。/);
    assert.equal(await consent.isLinked(commonId, health), false);

    // A forged form, or a service that offers no sign-in linking, starts nothing.
    const forged = await page.request.post(`${t.url}/portal/consent/links/${health}/connect`, {
      form: { csrf: 'forged' },
      maxRedirects: 0,
    });
    assert.equal(forged.status(), 403);
    assert.equal(forged.headers()['set-cookie'], undefined);

    const answers: string[] = [];
    page.on('request', (req) => {
      if (req.url().includes('/links/callback?')) answers.push(req.url());
    });
    // The resident changes their mind at the partner: nothing is linked.
    await page.getByRole('button', { name: /健康アプリにログインして連携/ }).click();
    await page.waitForURL(new RegExp(`^${partner.issuer}/`));
    await page.getByRole('link', { name: /Cancel/ }).click();
    await page.waitForURL(/m=cancelled/);
    assert.match((await page.getByRole('status').textContent())!, /連携を取りやめました。/);
    assert.equal(await consent.isLinked(commonId, health), false);

    await page.getByRole('button', { name: /健康アプリにログインして連携/ }).click();
    await page.waitForURL(new RegExp(`^${partner.issuer}/`));
    await page.fill('input[name=login]', 'hanako-at-health');
    await page.fill('input[name=password]', 'any');
    await page.click('button[type=submit]');
    await page.waitForLoadState();
    if (page.url().startsWith(partner.issuer)) await page.click('button[type=submit]'); // the partner's consent prompt
    await page.waitForURL(/\/portal\/consent\/links\?m=linked/);
    assert.match((await page.getByRole('status').textContent())!, /サービスと連携しました。/);

    const [link] = (await consent.links(commonId)).filter((l) => l.unlinkedAt === null);
    assert.equal(link!.service, health);
    assert.equal(link!.method, 'oauth-redirect');
    assert.equal(link!.accountRef, partner.subjectFor('hanako-at-health'));
    assert.notEqual(link!.accountRef, 'hanako-at-health');
    assert.match((await page.locator('main').textContent())!, /サービスへのログインで確認/);
    // Linked: the partner is no longer offered for sign-in linking.
    assert.equal(await page.getByRole('button', { name: /ログインして連携/ }).count(), 0);
    assert.deepEqual(await r.axe(), []);
    const { rows } = await t.platform.db.query<{
      payload: { type: string; event: string; accountRef: string };
    }>(`SELECT payload FROM consent.outbox WHERE service_id = $1 ORDER BY id`, [health]);
    assert.deepEqual(rows.map((x) => [x.payload.type, x.payload.event, x.payload.accountRef]).at(-1), [
      'link.status',
      'linked',
      link!.accountRef,
    ]);

    // The partner's answer replayed (the state cookie is spent) links nothing more.
    const linksBefore = (await consent.links(commonId)).length;
    assert.match(answers.at(-1)!, /[?&]code=/);
    await page.goto(answers.at(-1)!);
    await page.waitForURL(/m=redirect-failed/);
    assert.equal((await consent.links(commonId)).length, linksBefore);

    await page.goto(`${t.url}/portal/consent/links`);
    await page.getByRole('button', { name: /連携を解除\s*：健康アプリ/ }).click();
    await page.waitForURL(/m=unlinked/);
    assert.equal(await consent.isLinked(commonId, health), false);
    assert.equal(await page.getByRole('button', { name: /健康アプリにログインして連携/ }).count(), 1);
  });

  it('refuses a link partner that is not an OpenID provider setting, and keeps the one registered', async () => {
    const { portal } = r;
    const before = await portal.linkPartners.list();
    for (const bad of [
      { issuer: 'ftp://partner.example', scope: 'openid' },
      { issuer: 'not a url', scope: 'openid' },
      { issuer: partner.issuer, scope: 'profile' },
    ])
      await assert.rejects(
        portal.linkPartners.register(
          { service: health, clientId: 'x', clientSecret: 'y', ...bad },
          'staff:test',
        ),
        { code: 'invalid-link-partner' },
      );
    assert.deepEqual(await portal.linkPartners.list(), before);
    assert.equal((await portal.linkPartners.secretOf(health))!.clientSecret, partner.clientSecret);
    const { rows } = await r.t.platform.db.query<{ sealed_secret: string }>(
      'SELECT sealed_secret FROM portal.link_partners',
    );
    assert.ok(!rows[0]!.sealed_secret.includes(partner.clientSecret));
  });

  it('the language toggle shows English, and back', async () => {
    const { page, t } = r;
    await page.goto(`${t.url}/portal/points`);
    await page.getByRole('link', { name: 'English' }).click();
    await page.waitForURL(`${t.url}/portal/points`);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal(await page.locator('h1').innerText(), 'Points');
    assert.deepEqual(await r.axe(), []);
    await page.getByRole('link', { name: '日本語' }).click();
    assert.equal(await page.getAttribute('html', 'lang'), 'ja');
    // The toggle only returns to portal pages.
    const away = await page.request.get(`${t.url}/portal/lang?to=ja&return=https://evil.example/`, {
      maxRedirects: 0,
    });
    assert.equal(away.headers()['location'], '/portal');
  });

  it('signs out; every resident page then sends the resident to /portal/login', async () => {
    const { page, t } = r;
    await page.goto(`${t.url}/portal`);
    await page.getByRole('button', { name: /ログアウト/ }).click();
    await page.waitForLoadState();
    assert.match((await page.textContent('h1'))!, /ログアウトしました/);
    assert.deepEqual(await r.axe(), []);
    // A sign-in answer this browser did not ask for signs nobody in, on an accessible page.
    await page.goto(`${t.url}/portal/callback?code=abc&state=forged`);
    assert.match((await page.textContent('h1'))!, /ログインできませんでした/);
    assert.equal(
      (await r.context.cookies()).find((c) => c.name === 'tsunagu_portal'),
      undefined,
    );
    assert.deepEqual(await r.axe(), []);
    for (const path of [
      '/portal',
      '/portal/points',
      '/portal/qr',
      '/portal/preferences',
      '/portal/consent/links',
    ]) {
      const res = await page.request.get(`${t.url}${path}`, { maxRedirects: 0 });
      assert.equal(res.status(), 303, path);
      assert.equal(res.headers()['location'], `/portal/login?return=${encodeURIComponent(path)}`, path);
    }
  });
});
