/**
 * The admin console shell in chromium: staff sign in through our provider (password + TOTP), the
 * home page and role grants, no serious or critical axe violation; requests from outside
 * ADMIN_IP_ALLOWLIST, without the form token, or without the role are refused and change nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  axe,
  type ConsolePlatform,
  consoleCookie,
  createStaff,
  OUTSIDE,
  signInStaff,
  startConsolePlatform,
  type TestStaff,
} from './support.ts';

describe('admin console shell', () => {
  let c: ConsolePlatform;
  let admin: TestStaff;
  let clerk: TestStaff;
  const grants = async () =>
    (
      await c.t.platform.db.query<{ staff_id: string; role: string }>(
        'SELECT staff_id, role FROM portal.staff_roles ORDER BY staff_id, role',
      )
    ).rows;

  before(async () => {
    c = await startConsolePlatform();
    admin = await createStaff(c.idp, 'kanri', true);
    clerk = await createStaff(c.idp, 'tanto', false);
  });
  after(async () => {
    await c?.stop();
  });

  it('sends a visitor without a session to the staff sign-in, keeping where they were going', async () => {
    const res = await fetch(`${c.url}/admin/roles`, { redirect: 'manual' });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/admin/login?return=%2Fadmin%2Froles');
    const login = await fetch(`${c.url}/admin/login?return=%2Fadmin%2Froles`, { redirect: 'manual' });
    assert.equal(login.status, 303);
    const to = new URL(login.headers.get('location')!);
    assert.equal(`${to.origin}${to.pathname}`, `${c.url}/oidc/auth`);
    assert.equal(to.searchParams.get('prompt'), 'login');
    assert.equal(to.searchParams.get('acr_values'), 'urn:tsunagu:acr:staff-mfa');
    assert.equal(to.searchParams.get('redirect_uri'), `${c.url}/admin/callback`);
  });

  it('signs a privileged staff member in with password + TOTP; home and roles pages pass axe', async () => {
    const { context, page } = await signInStaff(c, admin, '/admin');
    assert.equal(await page.getAttribute('html', 'lang'), 'ja');
    assert.match((await page.textContent('h1'))!, /管理コンソール/);
    assert.equal((await page.textContent('#staff-id'))!.trim(), admin.staffId);
    const cookie = (await context.cookies()).find((k) => k.name === 'tsunagu_admin')!;
    assert.equal(cookie.path, '/admin');
    assert.equal(cookie.httpOnly, true);
    assert.deepEqual(await axe(page), []);

    await page.click('nav.admin a[href="/admin/roles"]');
    await page.waitForURL(`${c.url}/admin/roles`);
    assert.deepEqual(await axe(page), []);
    await page.fill('#staffId', clerk.staffId);
    await page.selectOption('#role', 'roles');
    await page.click('#grant');
    await page.waitForURL(`${c.url}/admin/roles?done=granted`);
    assert.match((await page.textContent('[role=status]'))!, /権限を付与しました/);
    assert.deepEqual(await grants(), [{ staff_id: clerk.staffId, role: 'roles' }]);
    assert.deepEqual(await axe(page), []);
    const audit = await c.t.platform.db.query<{ action: string; actor: string }>(
      `SELECT action, actor FROM core.audit_log WHERE action LIKE 'portal.%' ORDER BY seq`,
    );
    assert.deepEqual(
      audit.rows.map((r) => [r.action, r.actor]),
      [
        ['portal.admin.sign-in', `staff:${admin.staffId}`],
        ['portal.staff-role.grant', `staff:${admin.staffId}`],
      ],
    );

    await page.click('#logout');
    await page.waitForURL(`${c.url}/admin/logout`);
    assert.equal(
      (await context.cookies()).find((k) => k.name === 'tsunagu_admin'),
      undefined,
    );
    assert.deepEqual(await axe(page), []);
    // A callback without a sign-in in progress: a page saying so, and still no session.
    const failed = await page.goto(`${c.url}/admin/callback?code=x&state=y`);
    assert.equal(failed!.status(), 400);
    assert.deepEqual(await axe(page), []);
    await page.goto(`${c.url}/admin`);
    assert.match(page.url(), /\/idp\/interaction\//);
    await context.close();
  });

  it('refuses requests from outside ADMIN_IP_ALLOWLIST, even with a valid session, and changes nothing', async () => {
    const { context, page } = await signInStaff(c, admin, '/admin/roles');
    const cookie = await consoleCookie(context);
    const csrf = await page.getAttribute('input[name=csrf]', 'value');
    const before = await grants();

    for (const path of [
      '/admin',
      '/admin/login',
      '/admin/callback?code=x&state=y',
      '/admin/roles',
      '/admin/notices',
      '/admin/notices/new',
      '/admin/surveys',
      '/admin/services',
    ]) {
      const res = await fetch(`${c.url}${path}`, {
        headers: { cookie, 'x-forwarded-for': OUTSIDE },
        redirect: 'manual',
      });
      assert.equal(res.status, 403, path);
      assert.equal(((await res.json()) as { code: string }).code, 'ip-not-allowed');
    }
    const outside = await fetch(`${c.url}/admin/roles`, {
      method: 'POST',
      headers: { cookie, 'x-forwarded-for': OUTSIDE, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: csrf!, action: 'grant', staffId: clerk.staffId, role: 'notices' }),
      redirect: 'manual',
    });
    assert.equal(outside.status, 403);
    // From inside but without the form token: refused too.
    const forged = await fetch(`${c.url}/admin/roles`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: 'forged', action: 'grant', staffId: clerk.staffId, role: 'notices' }),
      redirect: 'manual',
    });
    assert.equal(forged.status, 403);
    assert.deepEqual(await grants(), before);
    await context.close();
  });

  it('shows a staff member without the role a 403 page (axe clean); they cannot grant themselves a role', async () => {
    const { context, page } = await signInStaff(c, clerk, '/admin');
    assert.equal((await page.textContent('#roles'))!.trim(), 'roles');
    await c.t.platform.db.query('DELETE FROM portal.staff_roles WHERE staff_id = $1', [clerk.staffId]);
    const denied = await page.goto(`${c.url}/admin/roles`);
    assert.equal(denied!.status(), 403);
    assert.match((await page.textContent('main'))!, /権限がありません/);
    assert.deepEqual(await axe(page), []);
    const cookie = await consoleCookie(context);
    const csrf = await page.getAttribute('input[name=csrf]', 'value');
    const res = await fetch(`${c.url}/admin/roles`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: csrf!, action: 'grant', staffId: clerk.staffId, role: 'roles' }),
      redirect: 'manual',
    });
    assert.equal(res.status, 403);
    assert.deepEqual(await grants(), []);
    await context.close();
  });
});
