/**
 * The admin console's directory page in chromium: staff issue a merchant sign-in, the merchant
 * submits an entry change, staff see it beside the public entry and approve it; a rejection without
 * a reason and staff without the `directory` role change nothing. axe-core on the page.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  axe,
  type ConsolePlatform,
  createStaff,
  signInStaff,
  startConsolePlatform,
  type TestStaff,
} from '../portal_admin/support.ts';
import { Browser, csrfOf, publicSiteEnv, seedTowns } from './fixtures.ts';

describe('admin console: shop directory approvals', () => {
  let c: ConsolePlatform;
  let chief: TestStaff;
  let clerk: TestStaff;
  before(async () => {
    publicSiteEnv();
    c = await startConsolePlatform();
    await seedTowns(c.t);
    chief = await createStaff(c.idp, 'chief', true);
    clerk = await createStaff(c.idp, 'clerk', false);
  });
  after(() => c.stop());

  it('issues a sign-in, shows the submitted change beside the public entry, approves it', async () => {
    const { context, page } = await signInStaff(c, chief, '/admin/directory');
    assert.match(await page.locator('main').innerText(), /承認待ちの変更はありません/);
    assert.deepEqual(await axe(page), []);

    await page.fill('#merchant', 's2');
    await page.fill('#loginId', 'ekimae-seika');
    await page.click('form[action="/admin/directory/accounts"] button[type=submit]');
    const password = (await page.locator('#issued-password').textContent()) ?? '';
    assert.match(password, /^[A-Za-z2-9]{16}$/);

    const merchant = new Browser(c.url);
    assert.equal((await merchant.form('/merchant/login', { loginId: 'ekimae-seika', password })).status, 303);
    const pw = await (await merchant.fetch('/merchant/password')).text();
    await merchant.form('/merchant/password', {
      csrf: csrfOf(pw),
      current: password,
      next: 'seika-own-password',
    });
    const form = await (await merchant.fetch('/merchant')).text();
    const submitted = await merchant.form('/merchant/entry', {
      csrf: csrfOf(form),
      name: '駅前青果',
      category: 'grocery',
      area: '駅前',
      address: '愛媛県西条市大町2-2',
      hours: '8:00〜17:00',
    });
    assert.equal(submitted.status, 303);

    await page.goto(`${c.url}/admin/directory`);
    const card = page.locator('section.card', { hasText: 'merchant s2' });
    assert.match(await card.innerText(), /西条の店2/);
    assert.match(await card.locator('tr.changed', { hasText: '店名' }).innerText(), /駅前青果/);
    assert.deepEqual(await axe(page), []);

    // A rejection needs a reason: the form is refused and the change stays pending.
    await card.locator('textarea').fill('   ');
    await card
      .locator('form[action$="/reject"]')
      .evaluate((f) => (f as unknown as { submit(): void }).submit());
    await page.waitForSelector('.error[role=alert]');
    assert.equal(
      (await c.t.platform.db.query(`SELECT status FROM portal.shop_changes`)).rows[0]!.status,
      'pending',
    );

    await page
      .locator('section.card', { hasText: 'merchant s2' })
      .locator('form[action$="/approve"] button')
      .click();
    await page.waitForURL(/done=approved/);
    assert.match(await page.locator('[role=status]').innerText(), /承認して公開しました/);
    const shop = await (await fetch(`${c.url}/shops/s2`)).text();
    assert.match(shop, /<h1>駅前青果<\/h1>/);
    assert.match(shop, /8:00〜17:00/);
    await context.close();
  });

  it('refuses staff without the directory role, changing nothing', async () => {
    const { context, page } = await signInStaff(c, clerk, '/admin');
    const res = await page.goto(`${c.url}/admin/directory`);
    assert.equal(res?.status(), 403);
    const accounts = async () =>
      (await c.t.platform.db.query<{ n: number }>('SELECT count(*)::int AS n FROM portal.merchant_accounts'))
        .rows[0]!.n;
    const before = await accounts();
    const cookie = (await context.cookies()).map((k) => `${k.name}=${k.value}`).join('; ');
    const issued = await fetch(`${c.url}/admin/directory/accounts`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'merchant=s3&loginId=sneaky',
    });
    assert.equal(issued.status, 403);
    assert.equal(await accounts(), before);
    await context.close();
  });
});
