/**
 * The public site's page shell: Japanese first with English beneath, readable without JavaScript
 * (scripts only add the map), phone-first (one column, ≥ 44px targets), WCAG 2.2 AA colours,
 * schema.org JSON-LD in the head.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export { time } from '../shared/html.ts';

const SPECIAL = /[&<>"']/;
const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** HTML escaping; most text on these pages has nothing to escape, so that case returns at once. */
export function escapeHtml(value: unknown): string {
  const text = String(value ?? '');
  return SPECIAL.test(text) ? text.replace(/[&<>"']/g, (c) => ENTITIES[c]!) : text;
}

/** Japanese text with its English translation beneath. */
export function bi(ja: string, en: string): string {
  return `${escapeHtml(ja)} <span class="en" lang="en">${escapeHtml(en)}</span>`;
}

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

const STYLE = readFileSync(path.join(import.meta.dirname, 'assets', 'site.css'), 'utf8');
/** The stylesheet's address carries a hash of its content, so it can be cached for a year. */
export const STYLE_PATH = `${STATIC_BASE}/site-${createHash('sha256').update(STYLE).digest('hex').slice(0, 12)}.css`;

/** The stylesheet served at STYLE_PATH. */
export function siteCss(): string {
  return STYLE;
}

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
<link rel="stylesheet" href="${STYLE_PATH}">
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
<footer><p><a href="/merchant">加盟店の方へ <span lang="en">For merchants</span></a> · <a href="/portal">住民ポータル <span lang="en">Resident portal</span></a> · <a href="/sitemap.xml">サイトマップ <span lang="en">Sitemap</span></a></p></footer>
</body>
</html>`;
}
