/**
 * The API reference for partner developers (`/docs/api`): the platform's OpenAPI document rendered
 * as one server-side page — operations grouped by tag, each with its method, path, what it needs
 * (bearer scopes), parameters and JSON Schemas. No script: it reads on a phone and prints.
 */
import type { JsonSchema, OpenApiDocument, OpenApiOperation } from '../../core/index.ts';
import { escapeHtml } from '../shared/html.ts';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

function schemaBlock(schema: JsonSchema | undefined): string {
  if (!schema) return '';
  return `<pre class="schema"><code>${escapeHtml(JSON.stringify(schema, null, 2))}</code></pre>`;
}

function operation(method: string, pathName: string, op: OpenApiOperation, id: string): string {
  const scopes = (op.security ?? []).flatMap((s) => Object.values(s).flat());
  const needs = op.security
    ? `<p class="meta">認証 <span lang="en">Auth</span>: Bearer${scopes.length ? ` — scope <code>${scopes.map(escapeHtml).join('</code> <code>')}</code>` : ''}</p>`
    : '';
  const params = op.parameters?.length
    ? `<div class="table-wrap" tabindex="0" role="region" aria-label="${escapeHtml(`${method.toUpperCase()} ${pathName} parameters`)}"><table><thead><tr><th scope="col">名前 <span lang="en">Name</span></th><th scope="col">場所 <span lang="en">In</span></th><th scope="col">必須 <span lang="en">Required</span></th><th scope="col">型 <span lang="en">Schema</span></th></tr></thead><tbody>${op.parameters
        .map(
          (p) =>
            `<tr><td><code>${escapeHtml(p.name)}</code></td><td>${p.in}</td><td>${p.required ? 'yes' : ''}</td><td><code>${escapeHtml(JSON.stringify(p.schema))}</code></td></tr>`,
        )
        .join('')}</tbody></table></div>`
    : '';
  const body = op.requestBody
    ? `<h4>リクエスト本文 <span lang="en">Request body</span></h4>${schemaBlock(op.requestBody.content['application/json']?.schema)}`
    : '';
  const responses = Object.entries(op.responses)
    .filter(([status]) => status !== 'default')
    .map(
      ([status, r]) =>
        `<li><code>${escapeHtml(status)}</code> ${escapeHtml(r.description)}${schemaBlock(r.content?.['application/json']?.schema)}</li>`,
    )
    .join('');
  return `<section class="op" id="${id}" aria-labelledby="${id}-h">
<h3 id="${id}-h"><span class="method method-${method}">${method.toUpperCase()}</span> <code>${escapeHtml(pathName)}</code></h3>
<p>${escapeHtml(op.summary)}</p>
${needs}${params}${body}
<h4>応答 <span lang="en">Responses</span></h4>
<ul>${responses}<li><code>4xx/5xx</code> <a href="#problems">problem+json</a></li></ul>
</section>`;
}

export function renderApiReference(doc: OpenApiDocument): { body: string; operations: number } {
  const byTag = new Map<string, string[]>();
  let count = 0;
  for (const [pathName, item] of Object.entries(doc.paths).sort(([a], [b]) => a.localeCompare(b))) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const tag = op.tags?.[0] ?? pathName.split('/').filter(Boolean).slice(0, 2).join('/');
      const id = `op-${++count}`;
      const list = byTag.get(tag) ?? [];
      list.push(operation(method, pathName, op, id));
      byTag.set(tag, list);
    }
  }
  const tags = [...byTag.keys()].sort();
  const toc = tags
    .map((t, i) => `<li><a href="#tag-${i}">${escapeHtml(t)}</a> (${byTag.get(t)!.length})</li>`)
    .join('');
  const sections = tags
    .map(
      (t, i) =>
        `<section aria-labelledby="tag-${i}"><h2 id="tag-${i}">${escapeHtml(t)}</h2>${byTag.get(t)!.join('\n')}</section>`,
    )
    .join('\n');
  const body = `<p>${escapeHtml('つなぐの全APIの一覧です。機械可読な定義は')} <a href="/openapi.json">/openapi.json</a> ${escapeHtml('（OpenAPI 3.1）にあります。はじめての方は')} <a href="/help/partner">${escapeHtml('連携サービス開発ガイド')}</a> ${escapeHtml('をお読みください。')}</p>
<p lang="en" class="en">Every API of the platform. The machine-readable definition is <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). New partner developers start with the <a href="/help/partner.en">getting-started guide</a>.</p>
<nav aria-label="APIの分類 / API groups"><ul class="toc">${toc}</ul></nav>
<section aria-labelledby="problems"><h2 id="problems">エラー <span lang="en">Errors</span></h2>
<p>${escapeHtml('失敗はすべて RFC 9457 の application/problem+json で返ります。code はプログラムで判定できる安定した値です。')}</p>
<p lang="en" class="en">Every failure answers RFC 9457 application/problem+json; <code>code</code> is stable for programs to branch on (the NGSIv2 broker answers Orion-style <code>{"error","description"}</code>).</p>
${schemaBlock((doc.components['schemas'] as Record<string, JsonSchema> | undefined)?.['Problem'])}</section>
${sections}`;
  return { body, operations: count };
}
