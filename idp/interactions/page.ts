/**
 * The HTML shell of every page the identity provider shows: Japanese first with English beneath,
 * no scripts, large touch targets, visible focus, readable on a phone (WCAG 2.2 AA contrast).
 */

export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** A heading or label in Japanese with its English translation. */
export function bilingual(ja: string, en: string): string {
  return `${escapeHtml(ja)} <span class="en" lang="en">${escapeHtml(en)}</span>`;
}

const STYLE = `
  :root { color-scheme: light; }
  * { box-sizing: border-box; }
  body { margin: 0; font-family: system-ui, "Hiragino Sans", "Noto Sans JP", sans-serif; font-size: 1.0625rem;
         line-height: 1.7; color: #1a1a1a; background: #f4f6f8; }
  main { max-width: 34rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
  .card { background: #fff; border: 1px solid #c9d1d9; border-radius: .5rem; padding: 1.25rem; }
  h1 { font-size: 1.375rem; line-height: 1.4; margin: 0 0 1rem; }
  .en { display: block; font-size: .875em; color: #4a4a4a; font-weight: normal; }
  label { display: block; font-weight: 600; margin: 1rem 0 .25rem; }
  input[type=text], input[type=email], input[type=password], input[type=date], input[type=tel], textarea { width: 100%; font: inherit; padding: .625rem; border: 2px solid #6b7280; border-radius: .375rem; }
  textarea { min-height: 6rem; font-family: ui-monospace, monospace; font-size: .875rem; }
  button { display: block; width: 100%; min-height: 3rem; margin-top: 1rem; font: inherit; font-weight: 600;
           border-radius: .375rem; border: 2px solid #0b4fa8; background: #0b4fa8; color: #fff; cursor: pointer; }
  button.secondary { background: #fff; color: #0b4fa8; }
  button .en { color: inherit; }
  :focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
  .error { border-left: 4px solid #b42318; background: #fef3f2; padding: .75rem; margin-bottom: 1rem; }
  ul.claims { padding-left: 1.25rem; }
  code.nonce { word-break: break-all; display: block; background: #eef2f6; padding: .5rem; border-radius: .25rem; }
`;

export function page(options: { title: string; titleEn: string; body: string }): string {
  return `<!doctype html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)} / ${escapeHtml(options.titleEn)} — つなぐ Tsunagu</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<div class="card">
<h1>${bilingual(options.title, options.titleEn)}</h1>
${options.body}
</div>
</main>
</body>
</html>`;
}
