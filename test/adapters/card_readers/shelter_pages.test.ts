/**
 * The shelter roster pages of the admin console (/admin/shelters) in chromium: the live roster after
 * signed check-in touches, phone width, axe, audited reads; staff without the role and outside
 * addresses are refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type CardReaderServices, signTouch } from '../../../adapters/card_readers/index.ts';
import type { AdaptersServices } from '../../../adapters/index.ts';
import { send } from '../../support/http.ts';
import {
  axe,
  type ConsolePlatform,
  consoleCookie,
  createStaff,
  OUTSIDE,
  signInStaff,
  startConsolePlatform,
  type TestStaff,
} from '../../portal_admin/support.ts';

describe('shelter roster pages', () => {
  let c: ConsolePlatform;
  let lead: TestStaff;
  let clerk: TestStaff;

  before(async () => {
    c = await startConsolePlatform({ env: { ADAPTERS_OUTBOX_POLL_MS: '0' } });
    lead = await createStaff(c.idp, 'bousai-lead', true);
    clerk = await createStaff(c.idp, 'clerk', false);
    const cards = (c.t.platform.services['adapters'] as AdaptersServices).adapters[
      'card_readers'
    ] as CardReaderServices;
    await cards.putFacility(
      { code: 'shelter-chuo', kind: 'shelter', name: '中央避難所', municipality: 'sukumo', capacity: 120 },
      'staff:setup',
    );
    await cards.putFacility(
      { code: 'shelter-oki', kind: 'shelter', name: '沖の島避難所', municipality: 'sukumo', capacity: 30 },
      'staff:setup',
    );
    const { secret } = await cards.registerTerminal(
      { id: 'chuo-1', facility: 'shelter-chuo' },
      'staff:setup',
    );
    const names = ['宿毛 花子', '平田 一郎'];
    for (const [i, name] of names.entries()) {
      const resident = await c.t.platform.db.transaction((tx) =>
        c.idp.accounts.create(tx, 'test', {
          name,
          birthdate: '1960-04-01',
          gender: 'female',
          address: '高知県宿毛市',
          evidence: { issuer: 'test', serial: String(i), verifiedAt: new Date().toISOString() },
        }),
      );
      const { cityId } = await cards.issueCityId(resident, 'staff:setup');
      const raw = JSON.stringify({
        touchId: `evac-${i}`,
        facility: 'shelter-chuo',
        card: { type: 'city-id', value: cityId },
        at: new Date().toISOString(),
      });
      const ts = Math.floor(Date.now() / 1000);
      const res = await send(`${c.url}/api/adapters/card-readers/v1/touches`, {
        method: 'POST',
        raw,
        headers: {
          'content-type': 'application/json',
          'x-terminal-id': 'chuo-1',
          'x-terminal-timestamp': String(ts),
          'x-terminal-signature': signTouch(secret, ts, raw),
        },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
  });
  after(() => c.stop());

  it('shows every shelter and the live roster, readable on a phone, with the read audited', async () => {
    const { context, page } = await signInStaff(c, lead, '/admin/shelters');
    await page.setViewportSize({ width: 390, height: 844 });
    const rows = await page.$$eval('tbody tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim())),
    );
    assert.deepEqual(rows, [
      ['中央避難所', '2', '120'],
      ['沖の島避難所', '0', '30'],
    ]);
    assert.deepEqual(await axe(page), []);
    await page.click('text=中央避難所');
    await page.waitForURL(`${c.url}/admin/shelters/shelter-chuo`);
    const names = await page.$$eval('tbody tr td:nth-child(2)', (tds) => tds.map((td) => td.textContent));
    assert.deepEqual(names, ['宿毛 花子', '平田 一郎']);
    assert.match((await page.textContent('main'))!, /在所者 2 人/);
    assert.deepEqual(await axe(page), []);
    const width = (await page.evaluate('document.documentElement.scrollWidth')) as number;
    assert.ok(width <= 390, `no sideways scrolling (${width}px)`);
    const audit = await c.t.platform.db.query(
      `SELECT actor, details FROM core.audit_log WHERE action = 'adapters.card-readers.roster.read'`,
    );
    assert.deepEqual(
      audit.rows.map((r) => [r.actor, r.details.present]),
      [[`staff:${lead.staffId}`, 2]],
    );
    const cookie = await consoleCookie(context);
    const outside = await send(`${c.url}/admin/shelters/shelter-chuo`, {
      headers: { cookie, 'x-forwarded-for': OUTSIDE },
    });
    assert.equal(outside.status, 403);
    const unknown = await send(`${c.url}/admin/shelters/no-such`, { headers: { cookie } });
    assert.equal(unknown.status, 404);
    await context.close();
  });

  it('refuses staff without the shelters role and reads nothing', async () => {
    const reads = async () =>
      (
        await c.t.platform.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM core.audit_log WHERE action = 'adapters.card-readers.roster.read'`,
        )
      ).rows[0]!.n;
    const before = await reads();
    const { context, page } = await signInStaff(c, clerk, '/admin');
    const res = await page.goto(`${c.url}/admin/shelters/shelter-chuo`);
    assert.equal(res?.status(), 403);
    assert.doesNotMatch((await page.textContent('body'))!, /宿毛 花子/);
    assert.equal(await reads(), before);
    await context.close();
  });
});
