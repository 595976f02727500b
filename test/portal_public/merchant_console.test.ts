/**
 * The merchant edits its own directory entry; staff approve before it is public. Credentials are
 * issued by staff; refused requests (no CSRF, bad fields, wrong password, no staff token, a second
 * decision) change nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { send } from '../support/http.ts';
import type { TestPlatform } from '../support/platform.ts';
import { Browser, csrfOf, STAFF, seedTowns, startPublicSite } from './fixtures.ts';

const ENTRY = {
  name: '西条商店',
  nameKana: 'さいじょうしょうてん',
  nameEn: 'Saijo Store',
  category: 'grocery',
  area: '駅前',
  postalCode: '７９３−００３０',
  address: '愛媛県西条市大町1-1',
  hours: '9:00〜19:00（日曜定休）',
  phone: '0897-00-0000',
  url: 'https://saijo-shoten.example.jp/',
  description: '地元の野菜と果物のお店です。',
  lat: '33.9196',
  lon: '133.1812',
};

async function count(t: TestPlatform, sql: string): Promise<number> {
  const { rows } = await t.platform.db.query<{ n: number }>(sql);
  return rows[0]!.n;
}

describe('merchant console and staff approval', () => {
  let t: TestPlatform;
  let password = '';
  before(async () => {
    t = await startPublicSite();
    await seedTowns(t);
  });
  after(() => t.stop());

  it('issues a merchant account only with the staff scope, for a merchant the ledger knows', async () => {
    const none = await send(`${t.url}/api/admin/portal/merchant-accounts`, {
      method: 'POST',
      body: { merchant: 's1', loginId: 'saijo-shoten' },
    });
    assert.equal(none.status, 401);
    const wrongScope = await send(`${t.url}/api/admin/portal/merchant-accounts`, {
      method: 'POST',
      headers: { authorization: 'Bearer other-token' },
      body: { merchant: 's1', loginId: 'saijo-shoten' },
    });
    assert.equal(wrongScope.status, 403);
    const unknown = await send(`${t.url}/api/admin/portal/merchant-accounts`, {
      method: 'POST',
      headers: STAFF,
      body: { merchant: 'nope', loginId: 'nobody' },
    });
    assert.equal(unknown.status, 422);
    assert.equal(unknown.body.code, 'unknown-merchant');
    assert.equal(await count(t, 'SELECT count(*)::int AS n FROM portal.merchant_accounts'), 0);

    const issued = await send(`${t.url}/api/admin/portal/merchant-accounts`, {
      method: 'POST',
      headers: STAFF,
      body: { merchant: 's1', loginId: 'saijo-shoten' },
    });
    assert.equal(issued.status, 201);
    assert.equal(issued.body.account.merchantId, 's1');
    assert.equal(issued.body.account.mustChange, true);
    assert.match(issued.body.password, /^[A-Za-z2-9]{16}$/);
    password = issued.body.password;
    const again = await send(`${t.url}/api/admin/portal/merchant-accounts`, {
      method: 'POST',
      headers: STAFF,
      body: { merchant: 's2', loginId: 'saijo-shoten' },
    });
    assert.equal(again.status, 409);
    const listed = await send(`${t.url}/api/admin/portal/merchant-accounts?merchant=s1`, { headers: STAFF });
    assert.equal(listed.body.length, 1);
    assert.equal(JSON.stringify(listed.body).includes(password), false);
  });

  it('signs in, changes the issued password, submits a change that stays private until approved', async () => {
    const b = new Browser(t.url);
    const wrong = await b.form('/merchant/login', { loginId: 'saijo-shoten', password: 'not-the-password' });
    assert.equal(wrong.status, 401);
    assert.match(await wrong.text(), /ログインIDまたはパスワードが違います/);
    assert.equal(b.cookies.size, 0);

    const login = await b.form('/merchant/login', { loginId: 'saijo-shoten', password });
    assert.equal(login.status, 303);
    assert.equal(login.headers.get('location'), '/merchant/password');
    const pwPage = await (await b.fetch('/merchant/password')).text();
    const weak = await b.form('/merchant/password', {
      csrf: csrfOf(pwPage),
      current: password,
      next: 'short',
    });
    assert.equal(weak.status, 400);
    const changed = await b.form('/merchant/password', {
      csrf: csrfOf(pwPage),
      current: password,
      next: 'a-long-own-passphrase',
    });
    assert.equal(changed.status, 303);
    password = 'a-long-own-passphrase';

    const consolePage = await b.fetch('/merchant');
    assert.equal(consolePage.status, 200);
    assert.equal(consolePage.headers.get('cache-control'), 'no-store');
    const html = await consolePage.text();
    assert.match(html, /西条の店1/);
    const csrf = csrfOf(html);

    const noCsrf = await b.form('/merchant/entry', ENTRY);
    assert.equal(noCsrf.status, 403);
    const bad = await b.form('/merchant/entry', { ...ENTRY, csrf, category: 'casino', lat: '33.9', lon: '' });
    assert.equal(bad.status, 422);
    const badHtml = await bad.text();
    assert.match(badHtml, /aria-invalid="true"/);
    assert.match(badHtml, /is not a known category/);
    assert.equal(await count(t, 'SELECT count(*)::int AS n FROM portal.shop_changes'), 0);

    const ok = await b.form('/merchant/entry', { ...ENTRY, csrf });
    assert.equal(ok.status, 303);
    const pending = await (await b.fetch('/merchant?submitted=1')).text();
    assert.match(pending, /変更を申請中です/);

    // Not public yet: the shop page shows the ledger name only.
    const shopPage = await (await fetch(`${t.url}/shops/s1`)).text();
    assert.match(shopPage, /西条の店1/);
    assert.doesNotMatch(shopPage, /西条商店/);
  });

  it('lets staff approve a pending change once; the entry becomes public and searchable', async () => {
    const noToken = await send(`${t.url}/api/admin/portal/directory/changes?status=pending`);
    assert.equal(noToken.status, 401);
    const list = await send(`${t.url}/api/admin/portal/directory/changes?status=pending`, { headers: STAFF });
    assert.equal(list.status, 200);
    assert.equal(list.body.length, 1);
    const change = list.body[0];
    assert.equal(change.merchantId, 's1');
    assert.equal(change.profile.postalCode, '793-0030', 'full-width digits are normalised');
    assert.equal(change.profile.lat, 33.9196);

    const refused = await send(`${t.url}/api/admin/portal/directory/changes/${change.id}/approve`, {
      method: 'POST',
      headers: { authorization: 'Bearer other-token' },
    });
    assert.equal(refused.status, 403);
    assert.equal(await count(t, `SELECT count(*)::int AS n FROM portal.shops WHERE version > 0`), 0);

    const approved = await send(`${t.url}/api/admin/portal/directory/changes/${change.id}/approve`, {
      method: 'POST',
      headers: STAFF,
    });
    assert.equal(approved.status, 200);
    assert.equal(approved.body.status, 'approved');
    assert.equal(approved.body.decidedBy, 'staff:alice');
    const twice = await send(`${t.url}/api/admin/portal/directory/changes/${change.id}/reject`, {
      method: 'POST',
      headers: STAFF,
      body: { reason: 'too late' },
    });
    assert.equal(twice.status, 409);
    assert.equal(twice.body.code, 'change-not-pending');

    const shopPage = await fetch(`${t.url}/shops/s1`);
    const html = await shopPage.text();
    assert.match(html, /<h1>西条商店<\/h1>/);
    assert.match(html, /愛媛県西条市大町1-1/);
    const ld = JSON.parse(/<script type="application\/ld\+json">(.*?)<\/script>/s.exec(html)![1]!);
    assert.equal(ld['@type'], 'LocalBusiness');
    assert.equal(ld.name, '西条商店');
    assert.deepEqual(ld.geo, { '@type': 'GeoCoordinates', latitude: 33.9196, longitude: 133.1812 });
    assert.equal(ld.address.postalCode, '793-0030');

    const search = await (
      await fetch(
        `${t.url}/shops?q=%E3%81%95%E3%81%84%E3%81%98%E3%82%87%E3%81%86&category=grocery&area=saijo%2F%E9%A7%85%E5%89%8D`,
      )
    ).text();
    assert.match(search, /1 件/);
    assert.match(search, /href="\/shops\/s1"/);

    const audit = await t.platform.db.query<{ action: string; actor: string }>(
      `SELECT action, actor FROM core.audit_log WHERE target = 'portal.shop:s1' ORDER BY seq`,
    );
    assert.deepEqual(
      audit.rows.map((r) => r.action),
      ['portal.shop.change-submitted', 'portal.shop.change-approved'],
    );
  });

  it('shows a rejection and its reason to the merchant', async () => {
    const b = new Browser(t.url);
    assert.equal((await b.form('/merchant/login', { loginId: 'saijo-shoten', password })).status, 303);
    const csrf = csrfOf(await (await b.fetch('/merchant')).text());
    assert.equal((await b.form('/merchant/entry', { ...ENTRY, csrf, name: '西条商店 本店' })).status, 303);
    const [change] = (
      await send(`${t.url}/api/admin/portal/directory/changes?status=pending`, { headers: STAFF })
    ).body;
    const rejected = await send(`${t.url}/api/admin/portal/directory/changes/${change.id}/reject`, {
      method: 'POST',
      headers: STAFF,
      body: { reason: '店名は登録名と同じにしてください' },
    });
    assert.equal(rejected.status, 200);
    const page = await (await b.fetch('/merchant')).text();
    assert.match(page, /承認されませんでした/);
    assert.match(page, /店名は登録名と同じにしてください/);
    assert.match(await (await fetch(`${t.url}/shops/s1`)).text(), /<h1>西条商店<\/h1>/);
  });

  it('locks the account after five wrong passwords, and a disabled account loses its session', async () => {
    const b = new Browser(t.url);
    assert.equal((await b.form('/merchant/login', { loginId: 'saijo-shoten', password })).status, 303);
    assert.equal((await b.fetch('/merchant')).status, 200);
    const [account] = (
      await send(`${t.url}/api/admin/portal/merchant-accounts?merchant=s1`, { headers: STAFF })
    ).body;

    const other = new Browser(t.url);
    for (let i = 0; i < 5; i++)
      assert.equal(
        (await other.form('/merchant/login', { loginId: 'saijo-shoten', password: 'wrong' })).status,
        401,
      );
    const locked = await other.form('/merchant/login', { loginId: 'saijo-shoten', password });
    assert.equal(locked.status, 401);
    assert.match(await locked.text(), /15分後/);

    const disabled = await send(`${t.url}/api/admin/portal/merchant-accounts/${account.id}/disable`, {
      method: 'POST',
      headers: STAFF,
    });
    assert.equal(disabled.status, 200);
    const after = await (await b.fetch('/merchant')).text();
    assert.match(after, /加盟店ログイン/);
  });
});
