/**
 * The frame of the analysts' pages under /admin/dashboards: header, navigation between the
 * operator dashboard, the builder, dashboards and the map, Japanese first with English, phone-first
 * layout. Scripts are served from this origin only (CSP `script-src 'self'`).
 */
import { escapeHtml } from './render_svg.ts';

export const ADMIN_STYLE = `
body{font-family:system-ui,"Hiragino Sans","Noto Sans JP",sans-serif;margin:0;color:#1a1a1a;background:#f6f7f9;line-height:1.6}
header{background:#0b3d75;color:#fff;padding:.75rem 1rem}h1{font-size:1.3rem;margin:0}
header nav ul{list-style:none;display:flex;flex-wrap:wrap;gap:.25rem 1rem;margin:.25rem 0 0;padding:0}
header nav a{color:#fff;display:inline-block;min-height:24px;padding:.1rem 0}header nav a[aria-current="page"]{font-weight:700;text-decoration:underline 3px}
main{padding:1rem;max-width:72rem;margin:auto}.en{color:#555;font-size:.9em}header .en,button .en{color:#e6eefa}
form,.panel{background:#fff;padding:.75rem;border-radius:6px}
form.filters{display:flex;flex-wrap:wrap;gap:.75rem;align-items:flex-end}
label{display:flex;flex-direction:column;font-size:.9rem}input,select,button,textarea{font-size:1rem;padding:.4rem;min-height:44px;box-sizing:border-box;max-width:100%}
fieldset{border:1px solid #ccc;border-radius:4px;margin:.5rem 0;padding:.5rem;min-width:0}legend{font-weight:600}
fieldset label.check{flex-direction:row;align-items:center;gap:.4rem;min-height:44px}
fieldset label.check input{min-height:auto;width:1.25rem;height:1.25rem}
button{background:#0b3d75;color:#fff;border:0;border-radius:4px;padding:.4rem 1rem;cursor:pointer}
button.secondary{background:#fff;color:#0b3d75;border:2px solid #0b3d75}button.secondary .en{color:#0b3d75}
:focus-visible{outline:3px solid #f5a623;outline-offset:2px}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(10rem,1fr));gap:.75rem;margin:1rem 0;padding:0;list-style:none}
.tile{background:#fff;border-radius:6px;padding:.75rem}.tile .value{font-size:1.6rem;font-weight:700}.tile .target{font-size:.85rem}
section{background:#fff;border-radius:6px;padding:.75rem;margin:1rem 0}h2{font-size:1.1rem;margin:.25rem 0}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border-bottom:1px solid #ddd;padding:.3rem;text-align:right}
th:first-child,td:first-child{text-align:left}.scroll{overflow-x:auto}caption{text-align:left;font-weight:600}
figure.chart{margin:0}.note{font-size:.9rem}.error{color:#a4000f;font-weight:600}
.grid{display:grid;grid-template-columns:repeat(12,1fr);gap:.75rem}
.grid>section{margin:0;grid-column:1 / -1;min-width:0}
@media (min-width:48rem){.grid>section{grid-column:var(--x) / span var(--w)}}
`;

const NAV: Array<[string, string, string]> = [
  ['', '運用ダッシュボード', 'Operator dashboard'],
  ['/builder', 'グラフ作成', 'Chart builder'],
  ['/boards', 'ダッシュボード一覧', 'Dashboards'],
  ['/map', '地図', 'Map'],
];

/** Where the pages are mounted: `/admin/dashboards` (address allow-list) or the staff console's section. */
export interface PagesMount {
  base: string;
  /** The gate in front of every page (address allow-list, or the staff session's check). */
  gate: import('express').RequestHandler;
  /** Staff console mode: the builder calls this API with the console's form token. */
  staffApi?: { url: string; csrfOf(res: import('express').Response): string };
}

export function adminPage(input: {
  title: { ja: string; en: string };
  /** The page's path below `base` ('' for the operator dashboard; undefined marks no nav entry current). */
  path: string | undefined;
  base?: string;
  bodyAttributes?: string;
  body: string;
  head?: string;
  scripts?: string[];
}): string {
  const base = input.base ?? '/admin/dashboards';
  const nav = NAV.map(
    ([href, ja, en]) =>
      `<li><a href="${base}${href}"${href === input.path ? ' aria-current="page"' : ''}>${ja} <span class="en">/ ${en}</span></a></li>`,
  ).join('');
  return `<!doctype html>
<html lang="ja">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(input.title.ja)} / ${escapeHtml(input.title.en)} — Tsunagu</title><style>${ADMIN_STYLE}</style>${input.head ?? ''}</head>
<body${input.bodyAttributes ? ` ${input.bodyAttributes}` : ''}>
<header><h1>${escapeHtml(input.title.ja)} <span class="en">/ ${escapeHtml(input.title.en)}</span></h1>
<nav aria-label="分析メニュー / Analytics menu"><ul>${nav}</ul></nav></header>
<main>
${input.body}
</main>
${(input.scripts ?? []).map((s) => `<script src="${s}"></script>`).join('\n')}
</body>
</html>`;
}
