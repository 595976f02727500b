/**
 * The public site's page shell: Japanese first with English beneath, readable without JavaScript
 * (scripts only add the map), phone-first (one column, ≥ 44px targets), WCAG 2.2 AA colours,
 * schema.org JSON-LD in the head.
 */
import { bi, escapeHtml } from '../shared/html.ts';

export { bi, escapeHtml, time } from '../shared/html.ts';

export type NavKey = 'home' | 'shops' | 'earn' | 'opendata';

export interface PublicPageOptions {
  site: { ja: string; en: string };
  title: string;
  titleEn: string;
  /** Absolute URL of this page (canonical link). */
  canonical: string;
  description: string;
  current: NavKey | null;
  body: string;
  /** schema.org objects, each rendered as an application/ld+json block. */
  jsonLd?: unknown[];
  /** Same-origin scripts and stylesheets (the map). */
  scripts?: string[];
  styles?: string[];
  /** The home page shows the site name as its h1. */
  heading?: string;
}

export const STATIC_BASE = '/static/public';

const STYLE = `
  :root { color-scheme: light; }
  * { box-sizing: border-box; }
  body { margin: 0; font-family: system-ui, "Hiragino Sans", "Noto Sans JP", sans-serif; font-size: 1.0625rem;
         line-height: 1.7; color: #1a1a1a; background: #f4f6f8; }
  a { color: #0b4fa8; }
  .skip { position: absolute; left: -999px; top: 0; background: #fff; padding: .5rem 1rem; z-index: 2000; }
  .skip:focus { left: 0; }
  header.top { background: #0b4fa8; color: #fff; }
  header.top .bar { max-width: 60rem; margin: 0 auto; padding: .5rem 1rem; }
  header.top a { color: #fff; }
  header.top .brand { font-weight: 700; text-decoration: none; display: inline-block; min-height: 44px; padding: .5rem 0; }
  header.top nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 0 1.25rem; }
  header.top nav a { display: inline-block; min-height: 44px; padding: .5rem 0; }
  header.top nav a[aria-current=page] { font-weight: 700; text-decoration-thickness: 3px; }
  main { max-width: 60rem; margin: 0 auto; padding: 1.25rem 1rem 3rem; }
  h1 { font-size: 1.5rem; line-height: 1.4; margin: 0 0 1rem; }
  h2 { font-size: 1.25rem; line-height: 1.4; margin: 0 0 .5rem; }
  h3 { font-size: 1.0625rem; line-height: 1.4; margin: 0 0 .25rem; }
  .en { display: block; font-size: .875em; color: #4a4a4a; font-weight: normal; }
  header.top .en, a.button .en, button .en { color: inherit; }
  section.card { background: #fff; border: 1px solid #c9d1d9; border-radius: .5rem; padding: 1rem; margin-bottom: 1rem; }
  ul.plain { list-style: none; margin: 0; padding: 0; }
  ul.cards { list-style: none; margin: 0; padding: 0; display: grid; gap: .75rem; grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); }
  ul.cards > li { background: #fff; border: 1px solid #c9d1d9; border-radius: .5rem; padding: .75rem 1rem; }
  ol.steps { padding-left: 1.5rem; }
  ol.steps li { margin-bottom: .5rem; }
  .meta { font-size: .9375rem; color: #3d3d3d; margin: .25rem 0; }
  .tag { display: inline-block; border: 1px solid #0b4fa8; color: #0b4fa8; border-radius: 999px; padding: 0 .625rem;
         font-size: .875rem; margin: 0 .25rem .25rem 0; background: #fff; }
  a.button, button { display: inline-block; min-height: 44px; min-width: 44px; padding: .5rem 1rem; font: inherit;
           font-weight: 600; border-radius: .375rem; border: 2px solid #0b4fa8; background: #0b4fa8; color: #fff;
           cursor: pointer; text-decoration: none; line-height: 1.4; }
  a.button.secondary { background: #fff; color: #0b4fa8; }
  .actions { display: flex; flex-wrap: wrap; gap: .5rem; margin: .75rem 0; }
  :focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
  form.search { display: grid; gap: .5rem 1rem; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); align-items: end; }
  label { display: block; font-weight: 600; margin: .25rem 0; }
  input[type=search], input[type=text], select { width: 100%; font: inherit; padding: .5rem; min-height: 44px;
           border: 2px solid #6b7280; border-radius: .375rem; background: #fff; color: #1a1a1a; }
  dl.facts { display: grid; grid-template-columns: minmax(7rem, auto) 1fr; gap: .25rem 1rem; margin: 0; }
  dl.facts dt { font-weight: 600; }
  dl.facts dd { margin: 0; white-space: pre-line; }
  @media (max-width: 30rem) { dl.facts { grid-template-columns: 1fr; } dl.facts dd { margin-bottom: .5rem; } }
  .map { height: 22rem; border: 1px solid #c9d1d9; border-radius: .5rem; background: #e8eef4; margin: 1rem 0; }
  .pager { display: flex; justify-content: space-between; gap: .5rem; margin: 1rem 0; }
  .count { font-weight: 600; }
  table { width: 100%; border-collapse: collapse; background: #fff; font-size: .9375rem; }
  th, td { text-align: left; vertical-align: top; padding: .5rem; border-bottom: 1px solid #d0d7de; }
  footer { max-width: 60rem; margin: 0 auto; padding: 1rem; font-size: .9375rem; color: #3d3d3d; }
  .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

/** JSON for a `<script type="application/ld+json">`: `<` escaped so no text can close the element. */
export function jsonLdBlock(value: unknown): string {
  const json = JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028|\u2029/g, (c) => (c === '\u2028' ? '\\u2028' : '\\u2029'));
  return `<script type="application/ld+json">${json}</script>`;
}

const NAV: ReadonlyArray<[NavKey, string, string, string]> = [
  ['home', '/', 'ホーム', 'Home'],
  ['shops', '/shops', 'お店をさがす', 'Shops'],
  ['earn', '/earn', 'ポイントをためる', 'Earn points'],
  ['opendata', '/opendata', 'オープンデータ', 'Open data'],
];

export function publicPage(o: PublicPageOptions): string {
  const nav = NAV.map(
    ([key, href, ja, en]) =>
      `<li><a href="${href}"${o.current === key ? ' aria-current="page"' : ''}>${escapeHtml(ja)} <span lang="en">/ ${escapeHtml(en)}</span></a></li>`,
  ).join('\n');
  return `<!doctype html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(o.title)} / ${escapeHtml(o.titleEn)} — ${escapeHtml(o.site.ja)}</title>
<meta name="description" content="${escapeHtml(o.description)}">
<link rel="canonical" href="${escapeHtml(o.canonical)}">
<style>${STYLE}</style>
${(o.styles ?? []).map((href) => `<link rel="stylesheet" href="${escapeHtml(href)}">`).join('\n')}
${(o.jsonLd ?? []).map(jsonLdBlock).join('\n')}
${(o.scripts ?? []).map((src) => `<script src="${escapeHtml(src)}" defer></script>`).join('\n')}
</head>
<body>
<a class="skip" href="#main">本文へ <span lang="en">Skip to content</span></a>
<header class="top"><div class="bar">
<a class="brand" href="/">${escapeHtml(o.site.ja)} <span lang="en">${escapeHtml(o.site.en)}</span></a>
<nav aria-label="サイト / Site"><ul>
${nav}
</ul></nav>
</div></header>
<main id="main">
<h1>${o.heading ?? bi(o.title, o.titleEn)}</h1>
${o.body}
</main>
<footer><p><a href="/merchant">加盟店の方へ <span lang="en">For merchants</span></a> · <a href="/portal/consent">住民ポータル <span lang="en">Resident portal</span></a> · <a href="/sitemap.xml">サイトマップ <span lang="en">Sitemap</span></a></p></footer>
</body>
</html>`;
}
