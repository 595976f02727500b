/**
 * The admin console's shell at `/admin`: staff sign-in through our OpenID provider (`/admin/login`,
 * `/admin/callback`, `/admin/logout`), the console's home page listing what the staff member may
 * use, and the role grants (`/admin/roles`, privileged staff only). Other sections add their staff
 * pages under `/admin/<name>` and their navigation entries through `adminNav` (see portal/README.md).
 *
 *   GET  /admin            home                 requireStaff()
 *   GET  /admin/login      → provider           address
 *   GET  /admin/callback   ← provider           address
 *   POST /admin/logout                          requireStaff()
 *   GET  /admin/roles      grants               requireStaff('roles')
 *   POST /admin/roles      grant / revoke       requireStaff('roles')
 */
import express, { type RequestHandler } from 'express';
import { ProblemError } from '../../core/index.ts';
import { bi, escapeHtml, time } from '../shared/html.ts';
import type { PortalContext, PortalSection } from '../shared/section.ts';
import {
  ADMIN_BASE,
  adminPage,
  csrfField,
  errorLine,
  sendAdminPage,
  staffMember,
  statusLine,
} from './layout.ts';
import { safeAdminReturn } from './staff_console.ts';
import { STAFF_ROLES_MIGRATIONS } from './staff_roles.ts';

const STAFF_ID = /^st_[A-Za-z0-9_-]{6,40}$/;
const ROLE = /^[a-z][a-z0-9_-]{0,39}$/;

function adminShell(p: PortalContext): RequestHandler {
  const router = express.Router();
  const { session } = p.staff;
  const adminOnly = p.ctx.http.adminOnly;

  router.get('/', p.requireStaff(), (req, res) => {
    const m = staffMember(res);
    const entries = p.staff.nav.filter((e) => e.href !== ADMIN_BASE && (!e.role || m.has(e.role)));
    sendAdminPage(req, res, {
      title: '管理コンソール',
      titleEn: 'Admin console',
      body: `<section class="card"><h2>${bi('利用できる機能', 'What you can use')}</h2>
${
  entries.length
    ? `<ul>${entries.map((e) => `<li><a href="${escapeHtml(e.href)}">${bi(e.ja, e.en)}</a></li>`).join('')}</ul>`
    : `<p>${bi('利用できる機能はまだありません。管理者に権限を依頼してください。', 'Nothing yet: ask an administrator for a role.')}</p>`
}
</section>
<section class="card"><h2>${bi('あなたのアカウント', 'Your account')}</h2>
<p>${bi('職員ID', 'Staff ID')}: <code id="staff-id">${escapeHtml(m.staffId)}</code></p>
<p>${bi('権限', 'Roles')}: <span id="roles">${escapeHtml(m.privileged ? '特権（すべて） / privileged (all)' : m.roles.join(', ') || '—')}</span></p>
</section>`,
    });
  });

  router.get('/login', adminOnly, async (req, res) => {
    await session.login(req, res, safeAdminReturn(req.query['return']));
  });

  router.get('/callback', adminOnly, async (req, res) => {
    const done = await session.callback(req, res);
    if (done) {
      await p.ctx.audit.record({
        actor: `staff:${done.staffId}`,
        action: 'portal.admin.sign-in',
        target: `staff:${done.staffId}`,
        details: {},
      });
      return res.redirect(303, done.returnTo);
    }
    res
      .status(400)
      .type('html')
      .send(
        adminPage({
          title: 'ログインできませんでした',
          titleEn: 'Sign-in did not complete',
          body: `${errorLine('もう一度お試しください。', 'Please try again.')}
<p><a class="button" href="${ADMIN_BASE}/login">${bi('ログインする', 'Sign in')}</a></p>`,
          member: undefined,
          nav: [],
          current: `${ADMIN_BASE}/callback`,
        }),
      );
  });

  router.post('/logout', p.requireStaff(), async (_req, res) => {
    const m = staffMember(res);
    session.logout(res);
    await p.ctx.audit.record({
      actor: `staff:${m.staffId}`,
      action: 'portal.admin.sign-out',
      target: `staff:${m.staffId}`,
      details: {},
    });
    res
      .status(200)
      .type('html')
      .send(
        adminPage({
          title: 'ログアウトしました',
          titleEn: 'Signed out',
          body: `<p><a class="button" href="${ADMIN_BASE}/login">${bi('もう一度ログインする', 'Sign in again')}</a></p>`,
          member: undefined,
          nav: [],
          current: `${ADMIN_BASE}/logout`,
        }),
      );
  });

  const knownRoles = () => [...new Set(p.staff.nav.flatMap((e) => (e.role ? [e.role] : [])))].sort();

  router.get('/roles', p.requireStaff('roles'), async (req, res) => {
    const grants = await p.staff.roles.list();
    const done = String(req.query['done'] ?? '');
    const options = knownRoles()
      .map((r) => `<option value="${escapeHtml(r)}">${escapeHtml(r)}</option>`)
      .join('');
    sendAdminPage(req, res, {
      title: '職員の権限',
      titleEn: 'Staff roles',
      body: `${done === 'granted' ? statusLine('権限を付与しました。', 'Role granted.') : ''}${done === 'revoked' ? statusLine('権限を取り消しました。', 'Role revoked.') : ''}
<p>${bi('特権職員はすべての権限を持ちます。ここでは他の職員に機能ごとの権限を付与します。', 'Privileged staff hold every role; grant roles per feature to other staff here.')}</p>
<section class="card"><h2>${bi('権限を付与する', 'Grant a role')}</h2>
<form method="post" action="${ADMIN_BASE}/roles">${csrfField(res)}<input type="hidden" name="action" value="grant">
<label for="staffId">${bi('職員ID（st_ で始まる）', 'Staff ID (starts with st_)')}</label>
<input type="text" id="staffId" name="staffId" required pattern="st_[A-Za-z0-9_\\-]{6,40}" autocomplete="off">
<label for="role">${bi('権限', 'Role')}</label>
<select id="role" name="role">${options}</select>
<div class="actions"><button type="submit" id="grant">${bi('付与する', 'Grant')}</button></div>
</form></section>
<div class="table-wrap"><table>
<caption>${bi('付与済みの権限', 'Granted roles')}</caption>
<thead><tr><th scope="col">${bi('職員ID', 'Staff ID')}</th><th scope="col">${bi('権限', 'Role')}</th><th scope="col">${bi('付与', 'Granted')}</th><th scope="col"><span class="visually-hidden">${bi('操作', 'Action')}</span></th></tr></thead>
<tbody>${
        grants
          .map(
            (
              g,
            ) => `<tr><td><code>${escapeHtml(g.staffId)}</code></td><td>${escapeHtml(g.role)}</td><td>${time(g.grantedAt)}</td>
<td><form method="post" action="${ADMIN_BASE}/roles">${csrfField(res)}<input type="hidden" name="action" value="revoke"><input type="hidden" name="staffId" value="${escapeHtml(g.staffId)}"><input type="hidden" name="role" value="${escapeHtml(g.role)}"><button type="submit" class="danger">${bi('取り消す', 'Revoke')} <span class="visually-hidden">${escapeHtml(`${g.staffId} ${g.role}`)}</span></button></form></td></tr>`,
          )
          .join('') || `<tr><td colspan="4">${bi('まだありません。', 'None yet.')}</td></tr>`
      }</tbody></table></div>`,
    });
  });

  router.post('/roles', p.requireStaff('roles'), async (req, res) => {
    const m = staffMember(res);
    const b = (req.body ?? {}) as Record<string, unknown>;
    const staffId = String(b['staffId'] ?? '').trim();
    const role = String(b['role'] ?? '');
    const action = String(b['action'] ?? '');
    if (!STAFF_ID.test(staffId) || !ROLE.test(role) || !['grant', 'revoke'].includes(action))
      throw new ProblemError('validation-failed', { detail: 'staffId, role and action are required.' });
    if (action === 'grant') {
      if (!(await p.idp.staff.isActive(staffId)))
        throw new ProblemError('validation-failed', { detail: 'No active staff member has this ID.' });
      await p.staff.roles.grant(staffId, role, `staff:${m.staffId}`);
    } else {
      await p.staff.roles.revoke(staffId, role, `staff:${m.staffId}`);
    }
    res.redirect(303, `${ADMIN_BASE}/roles?done=${action === 'grant' ? 'granted' : 'revoked'}`);
  });

  return router;
}

export const adminSection: PortalSection = {
  name: 'admin',
  prefix: ADMIN_BASE,
  migrations: STAFF_ROLES_MIGRATIONS,
  adminNav: [
    { href: ADMIN_BASE, ja: 'ホーム', en: 'Home' },
    { href: `${ADMIN_BASE}/roles`, ja: '職員の権限', en: 'Staff roles', role: 'roles' },
  ],
  create: (p) => adminShell(p),
};
