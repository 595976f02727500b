/**
 * The adapters' few resident pages (account-link steps): Japanese first with English beneath,
 * phone-sized, no scripts. Values are always escaped.
 */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Japanese text with its English beneath. */
export function bilingual(ja: string, en: string): string {
  return `<span lang="ja">${escapeHtml(ja)}</span><br><span lang="en">${escapeHtml(en)}</span>`;
}

export function page(input: { titleJa: string; titleEn: string; body: string }): string {
  return `<!doctype html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(input.titleJa)} / ${escapeHtml(input.titleEn)} — つなぐ</title>
<style>
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 36rem; padding: 1rem; line-height: 1.6; color: #1a1a1a; background: #fff; }
h1 { font-size: 1.4rem; }
a.button, button { display: inline-block; min-height: 44px; padding: .6rem 1.2rem; border-radius: .4rem; background: #0b5cad; color: #fff; border: 0; font-size: 1rem; text-decoration: none; }
a.button:focus-visible, button:focus-visible { outline: 3px solid #f5a623; outline-offset: 2px; }
[lang="en"] { color: #444; }
</style>
</head>
<body>
<main>
<h1>${bilingual(input.titleJa, input.titleEn)}</h1>
${input.body}
</main>
</body>
</html>`;
}
