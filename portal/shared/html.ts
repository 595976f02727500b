/**
 * The HTML shell of every resident page: Japanese first with English beneath, no scripts, large
 * touch targets (≥ 44px), visible focus, WCAG 2.2 AA contrast, one column on a phone.
 *
 * Signed in, the header carries the portal menu (built from the sections' `nav` entries), a
 * language toggle (日本語 ⇄ English: English-only text where a page uses `bi`) and the sign-out form.
 *
 * @example
 *   res.type('html').send(portal.page(req, { title: 'ポイント', titleEn: 'Points', current: '/portal/points', body }));
 */
import type { Request } from 'express';

export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** Japanese text with its English translation beneath (English only when the resident chose English). */
export function bi(ja: string, en: string): string {
  return `<span class="ja" lang="ja">${escapeHtml(ja)}</span> <span class="en" lang="en">${escapeHtml(en)}</span>`;
}

const JST = new Intl.DateTimeFormat('ja-JP', {
  timeZone: 'Asia/Tokyo',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
});

/** Japanese and English on one line (`ja / en`), for short labels inside a sentence or a value. */
export function biInline(ja: string, en: string): string {
  return `<span class="ja" lang="ja">${escapeHtml(ja)} / </span><span class="en inline" lang="en">${escapeHtml(en)}</span>`;
}

/** A timestamp shown in JST, machine-readable in UTC. */
export function time(iso: string): string {
  return `<time datetime="${escapeHtml(iso)}">${escapeHtml(JST.format(new Date(iso)))}</time>`;
}

const STYLE = `
  :root { color-scheme: light; }
  * { box-sizing: border-box; }
  body { margin: 0; font-family: system-ui, "Hiragino Sans", "Noto Sans JP", sans-serif; font-size: 1.0625rem;
         line-height: 1.7; color: #1a1a1a; background: #f4f6f8; }
  header.top { background: #0b4fa8; color: #fff; }
  header.top .bar { max-width: 40rem; margin: 0 auto; padding: .5rem 1rem; display: flex; flex-wrap: wrap;
                    gap: .5rem 1rem; align-items: center; justify-content: space-between; }
  header.top a, header.top button, header.top summary { color: #fff; }
  header.top .brand { font-size: 1.125rem; font-weight: 700; text-decoration: none; display: inline-block;
                      padding: .5rem 0; min-height: 44px; }
  header.top .tools { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
  header.top .tools form { margin: 0; }
  header.top .lang { display: inline-flex; align-items: center; min-height: 44px; padding: 0 .5rem; }
  nav.menu { max-width: 40rem; margin: 0 auto; padding: 0 1rem .5rem; }
  nav.menu summary { display: inline-flex; align-items: center; gap: .5rem; min-height: 44px; padding: 0 .75rem;
                     border: 2px solid #fff; border-radius: .375rem; cursor: pointer; font-weight: 600; }
  nav.menu ul { list-style: none; margin: .5rem 0 0; padding: 0; display: grid;
                grid-template-columns: repeat(auto-fill, minmax(10.5rem, 1fr)); gap: .25rem 1rem; }
  nav.menu a { display: block; min-height: 44px; padding: .25rem 0; line-height: 1.35; }
  nav a[aria-current=page] { font-weight: 700; text-decoration-thickness: 3px; }
  nav.sub ul { list-style: none; margin: 0 0 1rem; padding: 0; display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; }
  nav.sub a { display: inline-flex; align-items: center; min-height: 44px; }
  html[lang=en] .ja { display: none; }
  html[lang=en] .en { display: inline; font-size: 1em; color: inherit; }
  main { max-width: 40rem; margin: 0 auto; padding: 1.25rem 1rem 3rem; }
  h1 { font-size: 1.375rem; line-height: 1.4; margin: 0 0 1rem; }
  h2 { font-size: 1.125rem; line-height: 1.4; margin: 0 0 .5rem; }
  .en { display: block; font-size: .875em; color: #4a4a4a; font-weight: normal; }
  .en.inline { display: inline; }
  header.top .en, button .en, a.button .en { color: inherit; }
  section.card { background: #fff; border: 1px solid #c9d1d9; border-radius: .5rem; padding: 1rem; margin-bottom: 1rem; }
  ul.items { list-style: none; margin: 0; padding: 0; }
  ul.items > li { border-top: 1px solid #d0d7de; padding: .75rem 0; }
  ul.items > li:first-child { border-top: 0; }
  .item-head { display: flex; justify-content: space-between; gap: .5rem; align-items: baseline; flex-wrap: wrap; }
  .state { display: inline-block; border-radius: 999px; padding: 0 .75rem; font-size: .9375rem; font-weight: 600; border: 2px solid; }
  .state-given { color: #0f5132; border-color: #0f5132; background: #e8f5ee; }
  .state-paused { color: #6b4a00; border-color: #6b4a00; background: #fff7e0; }
  .state-withdrawn, .state-expired { color: #4a4a4a; border-color: #4a4a4a; background: #f0f0f0; }
  .meta { font-size: .9375rem; color: #3d3d3d; margin: .25rem 0; }
  .actions { display: flex; flex-wrap: wrap; gap: .5rem; margin-top: .5rem; }
  .actions form { margin: 0; }
  button, a.button { display: inline-block; min-height: 44px; min-width: 44px; padding: .5rem 1rem; font: inherit;
           font-weight: 600; border-radius: .375rem; border: 2px solid #0b4fa8; background: #0b4fa8; color: #fff;
           cursor: pointer; text-decoration: none; line-height: 1.4; }
  button.secondary, a.button.secondary { background: #fff; color: #0b4fa8; }
  button.danger { background: #fff; color: #a4161a; border-color: #a4161a; }
  header.top button { background: transparent; border-color: #fff; }
  :focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
  .status { border-left: 4px solid #0f5132; background: #e8f5ee; padding: .75rem; margin-bottom: 1rem; }
  .error { border-left: 4px solid #a4161a; background: #fef3f2; padding: .75rem; margin-bottom: 1rem; }
  table { width: 100%; border-collapse: collapse; background: #fff; font-size: .9375rem; }
  caption { text-align: left; font-weight: 600; padding: .5rem 0; }
  th, td { text-align: left; vertical-align: top; padding: .5rem; border-bottom: 1px solid #d0d7de; }
  @media (max-width: 36rem) {
    table.history thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
    table.history tr { display: block; border-bottom: 2px solid #c9d1d9; padding: .5rem 0; }
    table.history td { display: block; border: 0; padding: .125rem .5rem; }
    table.history td::before { content: attr(data-label); display: block; font-size: .8125rem; color: #3d3d3d; }
  }
  fieldset { margin: 0 0 1rem; }
  legend { font-weight: 600; padding: 0 .25rem; }
  h3 { font-size: 1rem; margin: 1rem 0 .25rem; }
  ul.checks li { display: flex; gap: .75rem; align-items: center; min-height: 44px; }
  ul.checks input { width: 1.5rem; height: 1.5rem; flex: none; }
  ul.checks label { flex: 1; padding: .25rem 0; }
  input[type=text] { width: 100%; font: inherit; padding: .625rem; border: 2px solid #6b7280; border-radius: .375rem; min-height: 44px; letter-spacing: .1em; }
  label { display: block; font-weight: 600; margin: .5rem 0 .25rem; }
  dl.balances { margin: 0; }
  dl.balances div { display: flex; justify-content: space-between; gap: 1rem; flex-wrap: wrap; border-top: 1px solid #d0d7de; padding: .5rem 0; }
  dl.balances div:first-child { border-top: 0; }
  dl.balances dd { margin: 0; font-weight: 700; font-variant-numeric: tabular-nums; }
  .amount { font-variant-numeric: tabular-nums; white-space: nowrap; }
  .big { font-size: 1.75rem; font-weight: 700; margin: .25rem 0 .5rem; }
  figure.qr-figure { margin: 0; }
  .qr { display: block; width: 100%; max-width: 18rem; height: auto; margin: 0 auto; background: #fff; }
  .pager { display: flex; flex-wrap: wrap; gap: .5rem; justify-content: space-between; margin-top: 1rem; }
  table.prefs th, table.prefs td { text-align: center; vertical-align: middle; }
  table.prefs th[scope=row], table.prefs th:first-child { text-align: left; }
  table.prefs th[scope=col] { white-space: nowrap; }
  table.prefs th .meta { display: block; font-weight: normal; }
  dl.balances dt .meta { display: block; margin: 0; }
  table.prefs input { width: 1.5rem; height: 1.5rem; }
  table.prefs label { display: inline-flex; align-items: center; justify-content: center; min-width: 44px; min-height: 44px; margin: 0; }
  .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

/** One entry of the resident portal's menu (a section's `nav`). */
export interface NavEntry {
  href: string;
  ja: string;
  en: string;
  /** Lower comes first; home is 0 (see portal/README.md for the order in use). */
  order?: number;
}

export type Lang = 'ja' | 'en';

export const LANG_COOKIE = 'tsunagu_lang';

/** The language the resident chose with the toggle (cookie `tsunagu_lang`); Japanese by default. */
export function langOf(req: Request): Lang {
  const cookie = req.headers.cookie ?? '';
  return /(?:^|;\s*)tsunagu_lang=en(?:;|$)/.test(cookie) ? 'en' : 'ja';
}

export interface PageOptions {
  title: string;
  titleEn: string;
  body: string;
  /** The `href` of the menu entry this page belongs to (marked `aria-current="page"`). */
  current?: string | null;
  /** The CSRF token for the sign-out form; given means signed in: the menu and sign-out show. */
  csrf?: string;
  /** The portal menu; empty or absent shows none. */
  nav?: readonly NavEntry[];
  /** Where the sign-out form posts (default `/portal/logout`). */
  logoutAction?: string;
  lang?: Lang;
  /** This page's path and query, for the language toggle to return to. */
  path?: string;
  /** Kept for older callers; the shell no longer needs it. */
  base?: string;
}

/** `/portal/lang?to=…&return=…`: the toggle's link (served by the home section). */
export function langToggleHref(to: Lang, path: string): string {
  return `/portal/lang?to=${to}&return=${encodeURIComponent(path)}`;
}

export function page(o: PageOptions): string {
  const lang = o.lang ?? 'ja';
  const signedIn = o.csrf !== undefined;
  const entries = [...(o.nav ?? [])].sort((a, b) => (a.order ?? 50) - (b.order ?? 50));
  const menu =
    signedIn && entries.length > 0
      ? `<nav class="menu" aria-label="メニュー / Menu"><details><summary>${bi('メニュー', 'Menu')}</summary><ul>
${entries
  .map(
    (e) =>
      `<li><a href="${escapeHtml(e.href)}"${o.current === e.href ? ' aria-current="page"' : ''}>${bi(e.ja, e.en)}</a></li>`,
  )
  .join('\n')}
</ul></details></nav>`
      : '';
  const toggle =
    o.path === undefined
      ? ''
      : lang === 'ja'
        ? `<a class="lang" href="${escapeHtml(langToggleHref('en', o.path))}" lang="en" hreflang="en">English</a>`
        : `<a class="lang" href="${escapeHtml(langToggleHref('ja', o.path))}" lang="ja" hreflang="ja">日本語</a>`;
  const signOut = signedIn
    ? `<form method="post" action="${escapeHtml(o.logoutAction ?? '/portal/logout')}"><input type="hidden" name="csrf" value="${escapeHtml(o.csrf)}"><button type="submit">${bi('ログアウト', 'Sign out')}</button></form>`
    : '';
  const title = lang === 'ja' ? `${o.title} / ${o.titleEn}` : o.titleEn;
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} — つなぐ Tsunagu</title>
<style>${STYLE}</style>
</head>
<body>
<header class="top"><div class="bar"><a class="brand" href="/portal">つなぐ <span lang="en">Tsunagu</span></a><div class="tools">${toggle}${signOut}</div></div>
${menu}</header>
<main>
<h1>${bi(o.title, o.titleEn)}</h1>
${o.body}
</main>
</body>
</html>`;
}

/** What the resident shell needs from the portal: its menu and the session. */
export interface ResidentShell {
  nav: readonly NavEntry[];
  session: { residentOf(req: Request): string | undefined; csrfFor(req: Request): string };
}

/** The page for this request: menu and sign-out when signed in, the chosen language, the toggle. */
export function residentPage(
  shell: ResidentShell,
  req: Request,
  o: Omit<PageOptions, 'nav' | 'lang' | 'path' | 'csrf'> & { csrf?: string },
): string {
  const signedIn = shell.session.residentOf(req) !== undefined;
  return page({
    ...o,
    nav: shell.nav,
    lang: langOf(req),
    path: req.originalUrl,
    ...(o.csrf !== undefined || signedIn ? { csrf: o.csrf ?? shell.session.csrfFor(req) } : {}),
  });
}
