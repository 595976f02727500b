/**
 * The analysts' pages in the staff console (/admin/analytics) in chromium: a maintainer signs in
 * (password + TOTP), builds and saves a chart with the console session (audited as the staff member);
 * a viewer (role `dashboards` only) may look but a save is refused and changes nothing; no session,
 * no page. axe-core on the builder and the operator dashboard.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  axe,
  type ConsolePlatform,
  consoleCookie,
  createStaff,
  signInStaff,
  startConsolePlatform,
  type TestStaff,
} from '../portal_admin/support.ts';

describe('analytics in the staff console', () => {
  let c: ConsolePlatform;
  let maintainer: TestStaff;
  let viewer: TestStaff;
  const charts = async () => (await c.t.platform.db.query('SELECT id FROM analytics.chart')).rows.length;

  before(async () => {
    c = await startConsolePlatform();
    maintainer = await createStaff(c.idp, 'bunseki', true);
    viewer = await createStaff(c.idp, 'etsuran', false);
    await c.t.platform.db.query(
      `INSERT INTO portal.staff_roles (staff_id, role, granted_by, granted_at) VALUES ($1, 'dashboards', 'test', now())`,
      [viewer.staffId],
    );
  });
  after(async () => {
    await c?.stop();
  });

  it('without a session the pages send to the staff sign-in', async () => {
    const res = await fetch(`${c.url}/admin/analytics/builder`, { redirect: 'manual' });
    assert.equal(res.status, 303);
    assert.match(res.headers.get('location') ?? '', /^\/admin\/login\?return=/);
  });

  it('a maintainer builds and saves a chart with the console session', async () => {
    const { context, page } = await signInStaff(c, maintainer, '/admin/analytics/builder');
    assert.equal(await page.locator('#token').count(), 0, 'no token field in the console');
    await page.locator('#title').fill('日別の決済件数');
    await page.locator('#view').selectOption('points_kpi_daily');
    await page.locator('#chartType').selectOption('line');
    await page.locator('#dimension-list').getByLabel('day', { exact: true }).check();
    await page.locator('#measure-list').getByLabel('payments', { exact: true }).check();
    await page.getByRole('button', { name: /プレビュー/ }).click();
    await page.locator('#preview table').waitFor();
    assert.deepEqual(await axe(page), []);
    await page.getByRole('button', { name: '保存 / Save', exact: true }).click();
    await page.getByRole('status').filter({ hasText: '保存しました' }).waitFor();
    const { rows } = await c.t.platform.db.query(
      `SELECT actor FROM core.audit_log WHERE action = 'dashboards.chart.create'`,
    );
    assert.deepEqual(rows, [{ actor: `staff:${maintainer.staffId}` }]);
    await page.goto(`${c.url}/admin/analytics`);
    assert.match((await page.title()) ?? '', /運用ダッシュボード/);
    assert.deepEqual(await axe(page), []);
    // A write without the form token is refused.
    const res = await fetch(`${c.url}/admin/analytics/api/charts`, {
      method: 'POST',
      headers: { cookie: await consoleCookie(context), 'content-type': 'application/json' },
      body: JSON.stringify({
        title: 'x',
        definition: {
          view: 'points_kpi_daily',
          chartType: 'table',
          dimensions: [],
          measures: [{ column: 'payments' }],
        },
      }),
    });
    assert.equal(res.status, 403);
    assert.equal(await charts(), 1);
    await context.close();
  });

  it('a viewer sees the pages but cannot save', async () => {
    const { context, page } = await signInStaff(c, viewer, '/admin/analytics/builder');
    const csrf = await page.locator('body').getAttribute('data-csrf');
    const res = await fetch(`${c.url}/admin/analytics/api/charts`, {
      method: 'POST',
      headers: {
        cookie: await consoleCookie(context),
        'content-type': 'application/json',
        'x-csrf-token': csrf!,
      },
      body: JSON.stringify({
        title: 'x',
        definition: {
          view: 'points_kpi_daily',
          chartType: 'table',
          dimensions: [],
          measures: [{ column: 'payments' }],
        },
      }),
    });
    assert.equal(res.status, 403);
    assert.match(((await res.json()) as { detail: string }).detail, /dashboards-maintainer/);
    assert.equal(await charts(), 1);
    await context.close();
  });
});
