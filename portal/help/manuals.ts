/**
 * The online manuals: Markdown files in `docs/`, Japanese (`name.md`) with an English translation
 * beside it (`name.en.md`), each opening with a small front matter block:
 *
 *   ---
 *   title: 住民向けマニュアル
 *   audience: resident        # resident | merchant | staff | operator | partner
 *   order: 10
 *   ---
 *
 * Rendered once at start with `marked` (GitHub-flavoured Markdown). The files are ours, part of the
 * release, so their HTML is trusted; headings get ids for the table of contents.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Marked, type Tokens } from 'marked';

export const AUDIENCES = ['resident', 'merchant', 'staff', 'operator', 'partner'] as const;
export type Audience = (typeof AUDIENCES)[number];
export type Lang = 'ja' | 'en';

export interface Manual {
  slug: string;
  lang: Lang;
  audience: Audience;
  title: string;
  order: number;
  /** The rendered body; image sources are relative to `images/` under the help base. */
  html: string;
  /** Second-level headings, for the table of contents. */
  headings: Array<{ id: string; text: string }>;
}

export class ManualError extends Error {}

function frontMatter(file: string, text: string): { meta: Record<string, string>; body: string } {
  const m = /^---\n([\s\S]*?)\n---\n/.exec(text);
  if (!m)
    throw new ManualError(`${file}: the manual needs a front matter block (--- title/audience/order ---)`);
  const meta: Record<string, string> = {};
  for (const line of m[1]!.split('\n')) {
    const kv = /^([a-z]+):\s*(.*?)\s*(#.*)?$/.exec(line);
    if (kv) meta[kv[1]!] = kv[2]!;
  }
  return { meta, body: text.slice(m[0].length) };
}

function slugify(text: string, used: Set<string>): string {
  const base =
    text
      .normalize('NFKC')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}]+/gu, '-')
      .replace(/^-|-$/g, '') || 'section';
  let id = base;
  for (let i = 2; used.has(id); i++) id = `${base}-${i}`;
  used.add(id);
  return id;
}

export function renderManual(file: string, text: string): Manual {
  const { meta, body } = frontMatter(file, text);
  const name = path.basename(file);
  const lang: Lang = name.endsWith('.en.md') ? 'en' : 'ja';
  const slug = name.replace(/(\.en)?\.md$/, '');
  const audience = meta['audience'] as Audience;
  if (!AUDIENCES.includes(audience))
    throw new ManualError(`${file}: audience must be one of ${AUDIENCES.join(', ')}`);
  if (!meta['title']) throw new ManualError(`${file}: the manual needs a title`);
  const used = new Set<string>();
  const headings: Manual['headings'] = [];
  const marked = new Marked({ gfm: true });
  marked.use({
    renderer: {
      heading(this: { parser: { parseInline(tokens: Tokens.Generic[]): string } }, token: Tokens.Heading) {
        const inner = this.parser.parseInline(token.tokens);
        const id = slugify(token.text, used);
        if (token.depth === 2) headings.push({ id, text: token.text });
        // The page's h1 is the manual's title, so the file's headings move one level down.
        const level = Math.min(6, token.depth + 1);
        return `<h${level} id="${id}">${inner}</h${level}>\n`;
      },
      table(this: { parser: { parseInline(tokens: Tokens.Generic[]): string } }, token: Tokens.Table) {
        const cell = (c: Tokens.TableCell, tag: 'th' | 'td') =>
          `<${tag}${c.align ? ` style="text-align:${c.align}"` : ''}>${this.parser.parseInline(c.tokens)}</${tag}>`;
        return `<div class="table-wrap" tabindex="0" role="region" aria-label="表 / Table"><table>
<thead><tr>${token.header.map((c) => cell(c, 'th')).join('')}</tr></thead>
<tbody>${token.rows.map((r) => `<tr>${r.map((c) => cell(c, 'td')).join('')}</tr>`).join('\n')}</tbody>
</table></div>\n`;
      },
    },
  });
  const html = marked.parse(body, { async: false }) as string;
  return { slug, lang, audience, title: meta['title'], order: Number(meta['order'] ?? 100), html, headings };
}

/** Every manual under `dir` (not recursive), sorted by order then slug. */
export function loadManuals(dir: string): Manual[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.md') && f !== 'README.md');
  return files
    .map((f) => renderManual(path.join(dir, f), readFileSync(path.join(dir, f), 'utf8')))
    .sort((a, b) => a.order - b.order || a.slug.localeCompare(b.slug));
}
