/**
 * Notices end to end in chromium: a resident signs in with a (test) My Number card, a staff member
 * sends a notice to the resident's municipality from the admin console, the resident sees it unread
 * in the portal and reads it, the staff page counts the read; the LINE delivery goes through the
 * channel port (a contract double) only because the resident allows LINE notices, and a failed push
 * is retried. Every page passes axe; refused notices (empty audience, missing text, outside
 * address) write nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import type { ModuleFactory } from '../../core/index.ts';
import { createIdpModuleWith } from '../../idp/index.ts';
import type { NoticeChannel, NoticeMessage } from '../../portal/notices/delivery.ts';
import { createServiceRegistry } from '../../portal/municipal_services/service_registry.ts';
import type { NoticeStore } from '../../portal/notices/notice_store.ts';
import { createCrl, createTestCa, issueCard } from '../idp/jpki_fixtures.ts';
import {
  axe,
  type ConsolePlatform,
  consoleCookie,
  createStaff,
  OUTSIDE,
  signInResident,
  signInStaff,
  startConsolePlatform,
} from '../portal_admin/support.ts';

process.env['NOTICE_DELIVERY_INTERVAL_MS'] = '0';

/** The LINE channel as the adapter would offer it: records pushes; can be told to fail. */
function lineDouble() {
  const pushes: Array<{ commonId: string; message: NoticeMessage; key: string }> = [];
  let failures = 0;
  const channel: NoticeChannel = {
    async send(commonId, message, key) {
      if (failures > 0) {
        failures -= 1;
        throw Object.assign(new Error('LINE answered 500'), { code: 'line-unavailable' });
      }
      pushes.push({ commonId, message, key });
      return 'sent';
    },
  };
  return { channel, pushes, failNext: (n: number) => (failures = n) };
}

describe('notices from the admin console to the resident portal', () => {
  let c: ConsolePlatform;
  let resident: Page;
  let staff: Page;
  let staffContext: BrowserContext;
  let commonId: string;
  let noticeId: string;
  const line = lineDouble();
  const portal = () =>
    c.t.platform.services['portal'] as {
      notices: NoticeStore;
      noticeDeliveries: { runOnce(): Promise<number> };
      preferences: { set(r: string, changes: object, actor: string): Promise<unknown> };
    };
  const count = async (table: string) =>
    Number(
      (await c.t.platform.db.query<{ n: string }>(`SELECT count(*) AS n FROM portal.${table}`)).rows[0]!.n,
    );

  before(async () => {
    const ca = await createTestCa();
    const card = { sign: await issueCard(ca, { kind: 'sign' }), auth: await issueCard(ca, { kind: 'auth' }) };
    const channels: ModuleFactory = () => ({
      name: 'notice-channels',
      migrations: null,
      routers: [],
      services: { line: line.channel },
    });
    c = await startConsolePlatform({
      idp: createIdpModuleWith({
        jpki: { trustAnchors: ca.pem, test: true, crls: [await createCrl(ca, [])] },
      }),
      extra: [channels],
    });
    resident = await (
      await c.browser.newContext({ locale: 'ja-JP', viewport: { width: 390, height: 844 }, bypassCSP: true })
    ).newPage();
    commonId = await signInResident(c, resident, card, '/portal/notices');
    ({ context: staffContext, page: staff } = await signInStaff(
      c,
      await createStaff(c.idp, 'kouhou', true),
      '/admin/notices',
    ));
  });
  after(async () => {
    await c?.stop();
  });

  it('shows a resident without notices an empty list (axe clean)', async () => {
    assert.match((await resident.textContent('main'))!, /お知らせはまだありません/);
    assert.deepEqual(await axe(resident), []);
  });

  it('a staff member sends a notice to the resident’s municipality; LINE only because the resident allows it', async () => {
    await portal().preferences.set(commonId, { notices: { line: true } }, `resident:${commonId}`);
    assert.deepEqual(await axe(staff), []);
    await staff.click('#compose');
    await staff.waitForURL(`${c.url}/admin/notices/new`);
    assert.deepEqual(await axe(staff), []);
    await staff.fill('#titleJa', '防災訓練のお知らせ');
    await staff.fill('#bodyJa', '11月30日に防災訓練を行います。');
    await staff.fill('#titleEn', 'Disaster drill');
    await staff.fill('#bodyEn', 'A disaster drill takes place on 30 November.');
    await staff.check('#audience-municipality');
    await staff.fill('#municipality', '千代田区');
    await staff.check('#channel-line');
    await staff.check('#channel-email');
    await staff.click('#send');
    await staff.waitForURL(/\/admin\/notices\/[0-9a-f-]{36}\?done=sent/);
    noticeId = /notices\/([0-9a-f-]{36})/.exec(staff.url())![1]!;
    assert.equal((await staff.textContent('#recipients'))!.trim(), '1');
    assert.deepEqual(await axe(staff), []);

    // One LINE delivery (the resident allows it), none by e-mail (they do not).
    const deliveries = await c.t.platform.db.query<{ channel: string; state: string }>(
      'SELECT channel, state FROM portal.notice_deliveries',
    );
    assert.deepEqual(deliveries.rows, [{ channel: 'line', state: 'pending' }]);
    line.failNext(1);
    assert.equal(await portal().noticeDeliveries.runOnce(), 1);
    assert.equal(line.pushes.length, 0);
    const retry = await c.t.platform.db.query<{ state: string; attempts: number; outcome: string }>(
      'SELECT state, attempts, outcome FROM portal.notice_deliveries',
    );
    assert.deepEqual(retry.rows, [{ state: 'pending', attempts: 1, outcome: 'line-unavailable' }]);
    await c.t.platform.db.query(`UPDATE portal.notice_deliveries SET next_at = now() - interval '1 second'`);
    assert.equal(await portal().noticeDeliveries.runOnce(), 1);
    assert.equal(line.pushes.length, 1);
    assert.equal(line.pushes[0]!.commonId, commonId);
    assert.equal(line.pushes[0]!.message.titleJa, '防災訓練のお知らせ');
    assert.equal(line.pushes[0]!.message.url, `${c.url}/portal/notices/${noticeId}`);
    assert.equal(await portal().noticeDeliveries.runOnce(), 0);
  });

  it('the resident sees the notice unread, reads it, and the staff page counts the read', async () => {
    await resident.goto(`${c.url}/portal/notices`);
    assert.match((await resident.textContent('#unread'))!, /未読 1件/);
    assert.deepEqual(await axe(resident), []);
    await resident.click(`a[href="/portal/notices/${noticeId}"]`);
    await resident.waitForURL(`${c.url}/portal/notices/${noticeId}`);
    assert.match((await resident.textContent('#body-ja'))!, /11月30日に防災訓練を行います。/);
    assert.deepEqual(await axe(resident), []);
    await resident.goto(`${c.url}/portal/notices`);
    assert.match((await resident.textContent('#unread'))!, /未読 0件/);

    await staff.goto(`${c.url}/admin/notices/${noticeId}`);
    assert.equal((await staff.textContent('#read-count'))!.trim(), '1');
    await staff.goto(`${c.url}/admin/notices`);
    assert.deepEqual(await axe(staff), []);
    // A resident outside the audience cannot open it.
    assert.equal(await portal().notices.open('a'.repeat(26), noticeId), undefined);
  });

  it('a notice to everyone reaches the resident too', async () => {
    await portal().notices.send(
      {
        titleJa: '年末年始の窓口',
        titleEn: 'Year-end office hours',
        bodyJa: '12月29日から1月3日まで休みます。',
        bodyEn: 'Closed 29 December to 3 January.',
        audience: { kind: 'all' },
        channels: [],
      },
      'staff:test',
    );
    await resident.goto(`${c.url}/portal/notices`);
    assert.match((await resident.textContent('#unread'))!, /未読 1件/);
    assert.match((await resident.textContent('#notices'))!, /年末年始の窓口/);
  });

  it('a notice to a service’s target list reaches its targets; the resident sees the service (axe clean)', async () => {
    const { db, audit } = c.t.platform;
    const registry = createServiceRegistry(db, audit, () => new Date());
    const service = await registry.create(
      {
        code: 'mimamori',
        nameJa: '見守りサービス',
        nameEn: 'Watching over',
        descriptionJa: '週に一度お電話します。',
      },
      'staff:test',
    );
    const watcher = 'w'.repeat(26);
    await registry.addTargets(service.id, [commonId, watcher], 'manual', 'staff:test');
    await registry.relate(service.id, { kind: 'watcher', from: watcher, to: commonId }, 'staff:test');
    await staff.goto(`${c.url}/admin/notices/new`);
    await staff.fill('#titleJa', '見守り訪問の日程');
    await staff.fill('#bodyJa', '12月の訪問日をお知らせします。');
    await staff.fill('#titleEn', 'Visit schedule');
    await staff.fill('#bodyEn', 'December visits.');
    await staff.check('#audience-service');
    await staff.selectOption('#serviceId', service.id);
    await staff.click('#send');
    await staff.waitForURL(/done=sent/);
    assert.equal((await staff.textContent('#recipients'))!.trim(), '2');
    await resident.goto(`${c.url}/portal/notices`);
    assert.match((await resident.textContent('#notices'))!, /見守り訪問の日程/);
    await resident.goto(`${c.url}/portal/services`);
    assert.match((await resident.textContent('#services'))!, /見守りサービス/);
    assert.match((await resident.textContent('#services'))!, /あなたには「見守る人」が登録されています/);
    assert.deepEqual(await axe(resident), []);
  });

  it('refuses a notice with no recipients, without text, or from outside the allow-list; nothing is written', async () => {
    const before = [
      await count('notices'),
      await count('notice_recipients'),
      await count('notice_deliveries'),
    ];
    await staff.goto(`${c.url}/admin/notices/new`);
    await staff.fill('#titleJa', '米子市の皆さまへ');
    await staff.fill('#bodyJa', '本文');
    await staff.fill('#titleEn', 'To Yonago');
    await staff.fill('#bodyEn', 'Text');
    await staff.check('#audience-municipality');
    await staff.fill('#municipality', '米子市');
    await staff.click('#send');
    await staff.waitForSelector('#problem');
    assert.equal(await staff.getAttribute('#problem', 'data-code'), 'portal-notice-no-recipients');
    assert.deepEqual(await axe(staff), []);

    const cookie = await consoleCookie(staffContext);
    const csrf = await staff.getAttribute('input[name=csrf]', 'value');
    const post = (body: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(`${c.url}/admin/notices`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams({ csrf: csrf!, ...body }),
        redirect: 'manual',
      });
    const full = { titleJa: 'a', titleEn: 'a', bodyJa: 'a', bodyEn: 'a', audience: 'all' };
    assert.equal((await post({ ...full, titleJa: '' })).status, 400);
    assert.equal((await post(full, { 'x-forwarded-for': OUTSIDE })).status, 403);
    assert.equal((await post({ ...full, csrf: 'x' })).status, 403);
    assert.deepEqual(
      [await count('notices'), await count('notice_recipients'), await count('notice_deliveries')],
      before,
    );
    const sends = await c.t.platform.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM core.audit_log WHERE action = 'portal.notice.send'`,
    );
    assert.equal(Number(sends.rows[0]!.n), 3);
  });
});
