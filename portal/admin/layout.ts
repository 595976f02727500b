/**
 * The admin console's page shell: a header with the signed-in staff member and sign-out, the
 * navigation every section adds entries to (`adminNav` on its `PortalSection`, shown to staff holding
 * the entry's role), and the page body. Japanese first with English, no scripts, WCAG 2.2 AA
 * contrast, 44px targets, one column on a phone.
 *
 * @example
 *   router.get('/', p.requireStaff('notices'), (req, res) => {
 *     sendAdminPage(req, res, { title: 'お知らせ', titleEn: 'Notices', body: '<p>…</p>' });
 *   });
 */
import type { Request, Response } from 'express';
import { bi, escapeHtml } from '../shared/html.ts';
import type { AdminNavEntry, StaffMember } from '../shared/staff_session.ts';

export const ADMIN_BASE = '/admin';

const STYLE = `
  :root { color-scheme: light; }
  * { box-sizing: border-box; }
  body { margin: 0; font-family: system-ui, "Hiragino Sans", "Noto Sans JP", sans-serif; font-size: 1rem;
         line-height: 1.7; color: #1a1a1a; background: #f3f4f6; }
  a { color: #0b4fa8; }
  header.top { background: #1f2937; color: #fff; }
  header.top .bar { max-width: 72rem; margin: 0 auto; padding: .5rem 1rem; display: flex; flex-wrap: wrap;
                    gap: .5rem 1rem; align-items: center; justify-content: space-between; }
  header.top a, header.top .who { color: #fff; }
  header.top form { margin: 0; }
  header.top button { background: transparent; border-color: #fff; color: #fff; }
  .skip { position: absolute; left: -999px; }
  .skip:focus { left: .5rem; top: .5rem; background: #fff; color: #0b4fa8; padding: .5rem; z-index: 2; }
  .layout { max-width: 72rem; margin: 0 auto; padding: 1rem; display: grid; grid-template-columns: 14rem 1fr; gap: 1.5rem; }
  @media (max-width: 48rem) { .layout { grid-template-columns: 1fr; } }
  nav.admin ul { list-style: none; margin: 0; padding: 0; }
  nav.admin a { display: block; min-height: 44px; padding: .5rem .75rem; border-radius: .375rem; text-decoration: none; }
  nav.admin a:hover { background: #e5e7eb; }
  nav.admin a[aria-current=page] { background: #dbeafe; font-weight: 700; }
  main { min-width: 0; }
  h1 { font-size: 1.375rem; line-height: 1.4; margin: 0 0 1rem; }
  h2 { font-size: 1.125rem; line-height: 1.4; margin: 1.5rem 0 .5rem; }
  .en { display: block; font-size: .875em; color: #4b5563; font-weight: normal; }
  header.top .en, button .en, a.button .en, th .en { color: inherit; }
  section.card { background: #fff; border: 1px solid #d1d5db; border-radius: .5rem; padding: 1rem; margin-bottom: 1rem; }
  button, a.button { display: inline-block; min-height: 44px; min-width: 44px; padding: .5rem 1rem; font: inherit;
           font-weight: 600; border-radius: .375rem; border: 2px solid #0b4fa8; background: #0b4fa8; color: #fff;
           cursor: pointer; text-decoration: none; line-height: 1.4; }
  button.secondary, a.button.secondary { background: #fff; color: #0b4fa8; }
  button.danger { background: #fff; color: #a4161a; border-color: #a4161a; }
  :focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
  .status { border-left: 4px solid #0f5132; background: #e8f5ee; padding: .75rem; margin-bottom: 1rem; }
  .error { border-left: 4px solid #a4161a; background: #fef3f2; padding: .75rem; margin-bottom: 1rem; }
  .meta { font-size: .9375rem; color: #374151; }
  table { width: 100%; border-collapse: collapse; background: #fff; font-size: .9375rem; }
  caption { text-align: left; font-weight: 600; padding: .5rem 0; }
  th, td { text-align: left; vertical-align: top; padding: .5rem; border-bottom: 1px solid #d1d5db; }
  .table-wrap { overflow-x: auto; }
  label { display: block; font-weight: 600; margin: .75rem 0 .25rem; }
  input[type=text], input[type=number], input[type=date], input[type=datetime-local], select, textarea {
    width: 100%; max-width: 40rem; font: inherit; padding: .5rem; border: 2px solid #6b7280; border-radius: .375rem; min-height: 44px; background: #fff; }
  textarea { min-height: 8rem; }
  input[type=file] { font: inherit; min-height: 44px; }
  fieldset { margin: 0 0 1rem; border: 1px solid #d1d5db; border-radius: .375rem; }
  legend { font-weight: 600; padding: 0 .25rem; }
  .inline { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
  .inline label { display: inline; margin: 0; font-weight: normal; }
  .choice { display: flex; gap: .5rem; align-items: center; min-height: 44px; }
  .choice input { width: 1.25rem; height: 1.25rem; flex: none; }
  .choice label { display: inline; margin: 0; font-weight: normal; }
  .actions { display: flex; flex-wrap: wrap; gap: .5rem; margin-top: .75rem; }
  .actions form { margin: 0; }
  .hint { font-size: .875rem; color: #374151; margin: .125rem 0 .25rem; }
  .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

export interface AdminPageOptions {
  title: string;
  titleEn: string;
  body: string;
  /** HTTP status (default 200). */
  status?: number;
}

/** The full HTML of a console page. `current` is the request path, to mark the navigation entry. */
export function adminPage(
  o: AdminPageOptions & { member: StaffMember | undefined; nav: readonly AdminNavEntry[]; current: string },
): string {
  const visible = o.member ? o.nav.filter((e) => !e.role || o.member!.has(e.role)) : [];
  const isCurrent = (href: string) =>
    href === ADMIN_BASE
      ? o.current === ADMIN_BASE || o.current === `${ADMIN_BASE}/`
      : o.current.startsWith(href);
  const nav = visible.length
    ? `<nav class="admin" aria-label="管理メニュー / Admin menu"><ul>
${visible
  .map(
    (e) =>
      `<li><a href="${escapeHtml(e.href)}"${isCurrent(e.href) ? ' aria-current="page"' : ''}>${escapeHtml(e.ja)} <span lang="en" class="en">${escapeHtml(e.en)}</span></a></li>`,
  )
  .join('\n')}
</ul></nav>`
    : '<div></div>';
  const who = o.member
    ? `<span class="who">${bi(`${o.member.username} さん`, `Signed in as ${o.member.username}`)}</span>
<form method="post" action="${ADMIN_BASE}/logout"><input type="hidden" name="csrf" value="${escapeHtml(o.member.csrf)}"><button type="submit" id="logout">ログアウト <span lang="en">Sign out</span></button></form>`
    : '';
  return `<!doctype html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(o.title)} / ${escapeHtml(o.titleEn)} — つなぐ 管理コンソール</title>
<style>${STYLE}</style>
</head>
<body>
<a class="skip" href="#main">本文へ移動 / Skip to content</a>
<header class="top"><div class="bar"><a href="${ADMIN_BASE}"><strong>つなぐ 管理コンソール <span lang="en">Tsunagu admin</span></strong></a>${who}</div></header>
<div class="layout">
${nav}
<main id="main">
<h1>${bi(o.title, o.titleEn)}</h1>
${o.body}
</main>
</div>
</body>
</html>`;
}

/** The signed-in staff member `requireStaff` put on the response. */
export function staffMember(res: Response): StaffMember {
  const member = (res.locals as { staff?: StaffMember }).staff;
  if (!member) throw new Error('staffMember() outside requireStaff');
  return member;
}

/** Sends a console page for the staff member `requireStaff` put on the response. */
export function sendAdminPage(req: Request, res: Response, o: AdminPageOptions): void {
  const locals = res.locals as { staff?: StaffMember; adminNav?: readonly AdminNavEntry[] };
  res
    .status(o.status ?? 200)
    .type('html')
    .setHeader('Cache-Control', 'no-store')
    .send(
      adminPage({
        ...o,
        member: locals.staff,
        nav: locals.adminNav ?? [],
        current: req.originalUrl.split('?')[0] ?? ADMIN_BASE,
      }),
    );
}

/** A status line after a change (`?done=…`), announced to screen readers. */
export function statusLine(ja: string, en: string): string {
  return `<div class="status" role="status">${bi(ja, en)}</div>`;
}

/** An error line for a refused form, announced to screen readers. */
export function errorLine(ja: string, en: string): string {
  return `<div class="error" role="alert">${bi(ja, en)}</div>`;
}

/** The hidden CSRF field every console POST form carries. */
export function csrfField(res: Response): string {
  return `<input type="hidden" name="csrf" value="${escapeHtml(staffMember(res).csrf)}">`;
}
