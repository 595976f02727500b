/**
 * The HTML shell of the resident consent pages: Japanese first with English beside it, no scripts,
 * large touch targets (≥ 44px), visible focus, WCAG 2.2 AA contrast, one column on a phone.
 */

export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** Japanese text with its English translation beneath. */
export function bi(ja: string, en: string): string {
  return `${escapeHtml(ja)} <span class="en" lang="en">${escapeHtml(en)}</span>`;
}

const JST = new Intl.DateTimeFormat('ja-JP', {
  timeZone: 'Asia/Tokyo',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
});

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
  header.top div { max-width: 40rem; margin: 0 auto; padding: .75rem 1rem; display: flex; flex-wrap: wrap;
                   gap: .5rem 1rem; align-items: center; justify-content: space-between; }
  header.top a, header.top button { color: #fff; }
  nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: .25rem 1rem; }
  nav a { display: inline-block; min-height: 44px; padding: .5rem 0; }
  nav a[aria-current=page] { font-weight: 700; text-decoration-thickness: 3px; }
  main { max-width: 40rem; margin: 0 auto; padding: 1.25rem 1rem 3rem; }
  h1 { font-size: 1.375rem; line-height: 1.4; margin: 0 0 1rem; }
  h2 { font-size: 1.125rem; line-height: 1.4; margin: 0 0 .5rem; }
  .en { display: block; font-size: .875em; color: #4a4a4a; font-weight: normal; }
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
  .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

export interface PageOptions {
  title: string;
  titleEn: string;
  /** Which navigation entry is the current page. */
  current: 'consents' | 'history' | 'links' | null;
  /** The CSRF token for the logout form, when signed in. */
  csrf?: string;
  base: string;
  body: string;
}

export function page(o: PageOptions): string {
  const link = (key: 'consents' | 'history' | 'links', href: string, ja: string, en: string) =>
    `<li><a href="${href}"${o.current === key ? ' aria-current="page"' : ''}>${escapeHtml(ja)} <span lang="en">/ ${escapeHtml(en)}</span></a></li>`;
  const nav =
    o.csrf === undefined
      ? ''
      : `<nav aria-label="同意の管理 / Consents"><ul>
${link('consents', `${o.base}`, '同意の一覧', 'My consents')}
${link('history', `${o.base}/history`, '変更の履歴', 'History')}
${link('links', `${o.base}/links`, '連携サービス', 'Linked services')}
</ul></nav>
<form method="post" action="${o.base}/logout"><input type="hidden" name="csrf" value="${escapeHtml(o.csrf)}"><button type="submit">ログアウト <span lang="en">Sign out</span></button></form>`;
  return `<!doctype html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(o.title)} / ${escapeHtml(o.titleEn)} — つなぐ Tsunagu</title>
<style>${STYLE}</style>
</head>
<body>
<header class="top"><div><strong>つなぐ <span lang="en">Tsunagu</span></strong>${nav}</div></header>
<main>
<h1>${bi(o.title, o.titleEn)}</h1>
${o.body}
</main>
</body>
</html>`;
}
