/**
 * Municipal services in the admin console (chromium): register, edit, add targets one by one, from
 * a CSV upload and from an attribute search, relate a watcher to the watched, retire; every page
 * passes axe; refused changes (bad CSV rows, unknown IDs, relations to non-targets, a retired
 * service, a staff member without the role) change nothing.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
  axe,
  type ConsolePlatform,
  createStaff,
  signInStaff,
  startConsolePlatform,
  type TestStaff,
} from '../portal_admin/support.ts';
import { municipalitiesOf } from '../../portal/municipal_services/resident_directory.ts';
import { createServiceRegistry } from '../../portal/municipal_services/service_registry.ts';
import { createResidents } from './support.ts';

describe('municipal services in the admin console', () => {
  let c: ConsolePlatform;
  let admin: TestStaff;
  let page: Page;
  let residents: string[];
  let serviceId: string;
  const thisYear = new Date().getFullYear();

  const count = async (table: string) =>
    Number(
      (await c.t.platform.db.query<{ n: string }>(`SELECT count(*) AS n FROM portal.${table}`)).rows[0]!.n,
    );
  const targets = async () =>
    (
      await c.t.platform.db.query<{ common_id: string; source: string }>(
        'SELECT common_id, source FROM portal.service_targets WHERE service_id = $1 ORDER BY common_id',
        [serviceId],
      )
    ).rows;
  const expectRefused = async (status: number) => {
    assert.match((await page.textContent('main'))!, /何も変更していません/);
    assert.deepEqual(await axe(page), []);
    return status;
  };

  before(async () => {
    c = await startConsolePlatform();
    admin = await createStaff(c.idp, 'kanri', true);
    residents = await createResidents(c, [
      { address: '鳥取県鳥取市東町一丁目220', gender: 'female', birthdate: `${thisYear - 80}-04-01` },
      { address: '鳥取県鳥取市西町二丁目1', gender: 'male', birthdate: `${thisYear - 70}-01-15` },
      { address: '鳥取県米子市加茂町一丁目1', gender: 'female', birthdate: `${thisYear - 75}-07-07` },
      { address: '鳥取県鳥取市末広温泉町1', gender: 'female', birthdate: `${thisYear - 30}-12-31` },
      { address: '鳥取県倉吉市葵町722', gender: 'male', birthdate: `${thisYear - 45}-03-03` },
    ]);
    ({ page } = await signInStaff(c, admin, '/admin/services'));
  });
  after(async () => {
    await c?.stop();
  });

  it('reads the municipality from an address', () => {
    assert.deepEqual(municipalitiesOf('鳥取県鳥取市東町一丁目220'), ['鳥取県鳥取市', '鳥取市', '鳥取県']);
    assert.deepEqual(municipalitiesOf('東京都千代田区霞が関１－１'), [
      '東京都千代田区',
      '千代田区',
      '東京都',
    ]);
    assert.deepEqual(municipalitiesOf('鳥取県八頭郡智頭町智頭2072'), ['鳥取県智頭町', '智頭町', '鳥取県']);
    assert.deepEqual(municipalitiesOf('三重県四日市市諏訪町1-5'), ['三重県四日市市', '四日市市', '三重県']);
    assert.deepEqual(municipalitiesOf('北海道余市郡余市町朝日町26'), ['北海道余市町', '余市町', '北海道']);
  });

  it('registers and edits a service (list and detail pages pass axe)', async () => {
    assert.deepEqual(await axe(page), []);
    await page.fill('#code', 'mimamori');
    await page.fill('#nameJa', '見守りサービス');
    await page.fill('#nameEn', 'Watching over');
    await page.fill('#descriptionJa', '高齢の方の見守り');
    await page.click('#create-service');
    await page.waitForURL(/\/admin\/services\/[0-9a-f-]{36}\?done=created/);
    serviceId = /services\/([0-9a-f-]{36})/.exec(page.url())![1]!;
    assert.deepEqual(await axe(page), []);
    await page.fill('#nameJa', '高齢者見守りサービス');
    await page.click('#update-service');
    await page.waitForURL(/done=updated/);
    assert.match((await page.textContent('h1'))!, /高齢者見守りサービス/);

    // The same code again is refused, and nothing is added.
    await page.goto(`${c.url}/admin/services`);
    await page.fill('#code', 'mimamori');
    await page.fill('#nameJa', '重複');
    await page.fill('#nameEn', 'Duplicate');
    await page.click('#create-service');
    await page.waitForSelector('#problem');
    assert.equal(await page.getAttribute('#problem', 'data-code'), 'municipal-service-code-taken');
    await expectRefused(409);
    assert.equal(await count('municipal_services'), 1);
  });

  it('adds targets one by one, from CSV and from a search; refused input adds nobody', async () => {
    await page.goto(`${c.url}/admin/services/${serviceId}`);
    // A well-formed ID nobody has is refused.
    await page.fill('#commonId', 'q'.repeat(26));
    await page.click('#add-target');
    await page.waitForSelector('#problem');
    assert.match((await page.textContent('#problem'))!, /No active resident/);
    assert.deepEqual(await targets(), []);
    await page.goto(`${c.url}/admin/services/${serviceId}`);
    await page.fill('#commonId', residents[0]!);
    await page.click('#add-target');
    await page.waitForURL(/done=added&n=1/);

    const dir = os.tmpdir();
    const bad = path.join(dir, `targets-bad-${process.pid}.csv`);
    writeFileSync(bad, `common_id\r\n${residents[1]}\r\nnot-an-id\r\n`);
    await page.setInputFiles('#file', bad);
    await page.click('#upload-targets');
    await page.waitForSelector('#problem');
    assert.match((await page.textContent('#problem'))!, /Rows 3 are not common IDs/);
    await expectRefused(400);
    assert.deepEqual(
      (await targets()).map((t) => t.common_id),
      [residents[0]],
    );

    const good = path.join(dir, `targets-${process.pid}.csv`);
    // Excel's UTF-8 with BOM, a Japanese header, CRLF, a blank row and a duplicate.
    writeFileSync(
      good,
      `\uFEFF共通ID,メモ\r\n${residents[1]},a\r\n\r\n${residents[2]},b\r\n${residents[0]},c\r\n`,
    );
    await page.goto(`${c.url}/admin/services/${serviceId}`);
    await page.setInputFiles('#file', good);
    await page.click('#upload-targets');
    await page.waitForURL(/done=added&n=2/);

    await page.click('#search-link');
    await page.waitForURL(/\/search$/);
    assert.deepEqual(await axe(page), []);
    await page.fill('#municipality', '鳥取市');
    await page.selectOption('#gender', 'female');
    await page.fill('#ageMin', '65');
    await page.click('#search');
    await page.waitForSelector('#search-count');
    assert.match((await page.textContent('#search-count'))!, /1人/);
    assert.deepEqual(await axe(page), []);
    await page.fill('#municipality', '島根県');
    await page.selectOption('#gender', '');
    await page.fill('#ageMin', '');
    await page.click('#search');
    await page.waitForSelector('#search-count');
    assert.match((await page.textContent('#search-count'))!, /0人/);
    await page.fill('#municipality', '鳥取市');
    await page.click('#search');
    await page.waitForSelector('#add-found');
    await page.click('#add-found');
    await page.waitForURL(/done=added&n=1/);
    const now = await targets();
    assert.deepEqual(now.map((t) => t.common_id).sort(), residents.slice(0, 4).sort());
    assert.equal(now.find((t) => t.common_id === residents[3])?.source, 'search');
    assert.deepEqual(await axe(page), []);
  });

  it('pages long target lists (axe clean)', async () => {
    const { db, audit } = c.t.platform;
    const many = Array.from({ length: 150 }, (_, i) =>
      `m${String(i).padStart(3, '0')}`.replace(/\d/g, (d) => 'abcdefghij'[Number(d)]!).padEnd(26, 'x'),
    );
    await createServiceRegistry(db, audit, () => new Date()).addTargets(serviceId, many, 'csv', 'staff:test');
    await page.goto(`${c.url}/admin/services/${serviceId}`);
    assert.equal(await page.locator('tbody tr:has(form[action$="/targets/remove"])').count(), 100);
    await page.click('a[rel=next]');
    await page.waitForURL(/\?page=2$/);
    assert.equal(await page.locator('tbody tr:has(form[action$="/targets/remove"])').count(), 54);
    assert.deepEqual(await axe(page), []);
    await db.query(`DELETE FROM portal.service_targets WHERE common_id = ANY($1::text[])`, [many]);
  });

  it('relates a watcher to the watched; a relation to a non-target is refused', async () => {
    await page.goto(`${c.url}/admin/services/${serviceId}`);
    await page.selectOption('#kind', 'watcher');
    await page.fill('#from', residents[3]!);
    await page.fill('#to', residents[0]!);
    await page.click('#add-relation');
    await page.waitForURL(/done=related/);
    assert.deepEqual(await axe(page), []);

    await page.fill('#from', residents[4]!);
    await page.fill('#to', residents[0]!);
    await page.click('#add-relation');
    await page.waitForSelector('#problem');
    await expectRefused(400);
    const rows = (
      await c.t.platform.db.query<{ kind: string; from_id: string; to_id: string }>(
        'SELECT kind, from_id, to_id FROM portal.service_relations',
      )
    ).rows;
    assert.deepEqual(rows, [{ kind: 'watcher', from_id: residents[3], to_id: residents[0] }]);
  });

  it('retires the service; a retired service takes no new targets', async () => {
    await page.goto(`${c.url}/admin/services/${serviceId}`);
    await page.click('#retire-service');
    await page.waitForURL(/done=retired/);
    assert.equal(await page.$('#add-target'), null);
    assert.deepEqual(await axe(page), []);
    const csrf = await page.getAttribute('input[name=csrf]', 'value');
    const cookie = (await page.context().cookies())
      .filter((k) => k.path === '/admin')
      .map((k) => `${k.name}=${k.value}`)
      .join('; ');
    const before = await targets();
    const res = await fetch(`${c.url}/admin/services/${serviceId}/targets`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: csrf!, commonId: residents[4]! }),
      redirect: 'manual',
    });
    assert.equal(res.status, 409);
    assert.deepEqual(await targets(), before);
    const audit = (
      await c.t.platform.db.query<{ action: string }>(
        `SELECT action FROM core.audit_log WHERE action LIKE 'portal.service.%' ORDER BY seq`,
      )
    ).rows.map((r) => r.action);
    assert.deepEqual(audit, [
      'portal.service.create',
      'portal.service.update',
      'portal.service.targets-add',
      'portal.service.targets-add',
      'portal.service.targets-add',
      'portal.service.targets-add', // the paging test's 150
      'portal.service.relate',
      'portal.service.retire',
    ]);
  });

  it('refuses a staff member without the services role', async () => {
    const clerk = await createStaff(c.idp, 'tanto', false);
    const { context, page: p } = await signInStaff(c, clerk, '/admin');
    const res = await p.goto(`${c.url}/admin/services`);
    assert.equal(res!.status(), 403);
    await context.close();
  });
});
