/**
 * The access history in chromium: a resident enrols with a (test) My Number card, which hands the
 * basic 4 info to mediation; a partner reads it through the mediation API; the resident's page shows
 * who accessed what, when and why (axe clean, phone-sized) and offers CSV/JSON downloads; staff see
 * the same entry in the console's access log with filters and export.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { ConsentServices } from '../../consent/index.ts';
import { createIdpModuleWith } from '../../idp/index.ts';
import type { MediationServices } from '../../mediation/index.ts';
import { createCrl, createTestCa, issueCard } from '../idp/jpki_fixtures.ts';
import {
  axe,
  type ConsolePlatform,
  consoleCookie,
  createStaff,
  signInResident,
  signInStaff,
  startConsolePlatform,
} from '../portal_admin/support.ts';
import { send } from '../support/http.ts';

describe('who accessed my data: the resident’s page and the staff view', () => {
  let c: ConsolePlatform;
  let page: Page;
  let commonId: string;
  let clientId: string;
  let staffPage: Page;

  before(async () => {
    const ca = await createTestCa();
    const card = { sign: await issueCard(ca, { kind: 'sign' }), auth: await issueCard(ca, { kind: 'auth' }) };
    c = await startConsolePlatform({
      idp: createIdpModuleWith({
        jpki: { trustAnchors: ca.pem, test: true, crls: [await createCrl(ca, [])] },
      }),
    });
    page = await (
      await c.browser.newContext({ locale: 'ja-JP', viewport: { width: 390, height: 844 }, bypassCSP: true })
    ).newPage();
    commonId = await signInResident(c, page, card, '/portal/access');
  });
  after(async () => {
    await c?.stop();
  });

  it('shows an empty history before any service asked (axe clean)', async () => {
    assert.match((await page.textContent('#empty'))!, /まだアクセスはありません/);
    assert.deepEqual(await axe(page), []);
  });

  it('a partner’s read appears with service, items, purpose and result', async () => {
    const mediation = c.t.platform.services['mediation'] as MediationServices;
    const consent = c.t.platform.services['consent'] as ConsentServices;
    const { client, clientSecret } = await c.idp.clients.create(
      { name: '健康アプリ', grantTypes: ['client_credentials'], scopes: ['mediation:read'] },
      'test',
    );
    clientId = client.clientId;
    await mediation.registry.add(
      {
        service: clientId,
        name: '健康アプリ',
        items: ['name', 'birthdate'],
        purposes: [{ code: 'age-check', label: '年齢確認' }],
      },
      'staff:test',
    );
    await consent.publishNotice(
      {
        noticeId: 'health',
        service: clientId,
        purposes: ['age-check'],
        titleJa: '健康アプリ',
        titleEn: 'Health app',
        bodyJa: '年齢確認に使います。',
        bodyEn: 'Used to check age.',
        material: true,
      },
      'staff:test',
    );
    await consent.give({
      resident: commonId,
      service: clientId,
      items: ['birthdate'],
      purpose: 'age-check',
      notice: { id: 'health', version: 1 },
    });
    const token = await fetch(`${c.url}/oidc/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials&scope=mediation%3Aread',
    }).then(async (r) => ((await r.json()) as { access_token: string }).access_token);
    const read = await send(`${c.url}/api/mediation/v1/requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: {
        subject: await c.idp.accounts.pairwiseSubject(commonId, clientId),
        items: ['name', 'birthdate'],
        purpose: 'age-check',
      },
    });
    assert.equal(read.status, 200);
    assert.deepEqual(Object.keys(read.body.items), ['birthdate']);
    assert.deepEqual(read.body.withheld, ['name']);

    await page.goto(`${c.url}/portal/access`);
    const entries = await page.$$('#accesses li.access');
    assert.equal(entries.length, 1);
    const text = (await page.textContent('#accesses'))!;
    assert.match(text, /健康アプリ/);
    assert.match(text, /氏名/);
    assert.match(text, /生年月日/);
    assert.match(text, /年齢確認/);
    assert.match(text, /一部を提供しました/);
    assert.deepEqual(await axe(page), []);
    const width = (await page.evaluate('document.documentElement.scrollWidth')) as number;
    assert.ok(width <= 390, `no horizontal scrolling on a phone (${width}px)`);
  });

  it('downloads the history as CSV and JSON, only for the signed-in resident', async () => {
    const cookie = (await page.context().cookies())
      .filter((k) => k.path === '/portal')
      .map((k) => `${k.name}=${k.value}`)
      .join('; ');
    const csv = await send(`${c.url}/portal/access/history.csv`, { headers: { cookie } });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-disposition')!, /access-history\.csv/);
    const lines = String(csv.body)
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n');
    assert.equal(lines.length, 2);
    assert.match(lines[1]!, new RegExp(`read,${clientId},,name birthdate,age-check,partial`));
    const json = await send(`${c.url}/portal/access/history.json`, { headers: { cookie } });
    assert.deepEqual(
      json.body.entries.map((e: { decision: string }) => e.decision),
      ['partial'],
    );
    const anonymous = await fetch(`${c.url}/portal/access/history.csv`, { redirect: 'manual' });
    assert.equal(anonymous.status, 303);
  });

  it('staff find the entry in the console’s access log, filter it and export it (audited)', async () => {
    const { context, page: staff } = await signInStaff(
      c,
      await createStaff(c.idp, 'kansa', true),
      '/admin/mediation/log',
    );
    assert.match((await staff.textContent('#entries'))!, /健康アプリ/);
    assert.deepEqual(await axe(staff), []);
    await staff.selectOption('#f-decision', 'deny');
    await staff.click('#apply');
    await staff.waitForURL(/decision=deny/);
    assert.equal((await staff.$$('#entries tr')).length, 0);
    const csv = await send(`${c.url}/admin/mediation/log/export.csv?service=${clientId}`, {
      headers: { cookie: await consoleCookie(context) },
    });
    assert.equal(csv.status, 200);
    assert.match(String(csv.body), new RegExp(`${commonId}`));
    const audit = await c.t.platform.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM core.audit_log WHERE action = 'mediation.log.read'`,
    );
    assert.equal(audit.rows[0]!.n, 3);
    staffPage = staff;
  });

  it('staff register a partner service from the console with no code change; refused input changes nothing', async () => {
    const mediation = c.t.platform.services['mediation'] as MediationServices;
    const { client } = await c.idp.clients.create(
      { name: 'LINE', grantTypes: ['client_credentials'], scopes: ['mediation:read'] },
      'test',
    );
    await staffPage.goto(`${c.url}/admin/mediation/services`);
    assert.deepEqual(await axe(staffPage), []);
    const before = (await mediation.registry.list()).length;
    await staffPage.fill('#service', 'c_not-a-client');
    await staffPage.fill('#name', 'だれでもない');
    await staffPage.check('#item-name');
    await staffPage.fill('#purposes', 'x=y');
    await staffPage.click('#register');
    await staffPage.waitForSelector('[role=alert]');
    assert.match((await staffPage.textContent('[role=alert]'))!, /登録できませんでした/);
    assert.equal((await mediation.registry.list()).length, before);
    assert.deepEqual(await axe(staffPage), []);

    await staffPage.fill('#service', client.clientId);
    await staffPage.fill('#name', 'LINE市民ポータル');
    await staffPage.check('#item-address');
    await staffPage.fill('#purposes', 'citizen-portal=本人表示\ninvestigation=法令に基づく照会:90');
    await staffPage.click('#register');
    await staffPage.waitForURL(/done=added/);
    const registered = (await mediation.registry.get(client.clientId))!;
    assert.deepEqual(
      [registered.name, registered.items, registered.purposes],
      [
        'LINE市民ポータル',
        ['name', 'address'],
        [
          { code: 'citizen-portal', label: '本人表示' },
          { code: 'investigation', label: '法令に基づく照会', suppressDays: 90 },
        ],
      ],
    );
    assert.match((await staffPage.textContent(`#service-${client.clientId}`))!, /提供中/);
    await staffPage.click(`#service-${client.clientId} button`);
    await staffPage.waitForURL(/done=changed/);
    assert.equal((await mediation.registry.get(client.clientId))!.state, 'disabled');
    assert.deepEqual(await axe(staffPage), []);
  });
});
