/**
 * The manuals and the API reference, filtered by who reads them (Saijo 9.2: residents see only the
 * resident manual; staff see all):
 *
 *   /help[/:slug[.en]]        everyone: the resident manual and the partner developers' guide
 *   /admin/help[/:slug[.en]]  staff (admin console sign-in): every manual, the runbook included
 *   /docs/api                 everyone: the API reference rendered from the OpenAPI document
 *   …/images/:file            screenshots (made by the browser tests, so they follow the pages)
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Request, type Response, type Router } from 'express';
import { ProblemError } from '../../core/index.ts';
import { sendAdminPage } from '../admin/layout.ts';
import { publicPage } from '../public/layout.ts';
import { publicSiteSettings } from '../public/settings.ts';
import { bi, escapeHtml } from '../shared/html.ts';
import type { PortalSection } from '../shared/section.ts';
import { renderApiReference } from './api_reference.ts';
import { type Audience, loadManuals, type Manual } from './manuals.ts';

export const DOCS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs');
const PUBLIC_AUDIENCES: readonly Audience[] = ['resident', 'partner'];
const AUDIENCE_NAMES: Record<Audience, [string, string]> = {
  resident: ['住民の方', 'Residents'],
  merchant: ['加盟店の方', 'Merchants'],
  staff: ['市町村職員', 'City staff'],
  operator: ['運用担当者', 'Operators'],
  partner: ['連携サービスの開発者', 'Partner developers'],
};

const STYLE = `<style>
  .manual .table-wrap { overflow-x: auto; margin: 1rem 0; }
  .manual pre, .api pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f8fa; border: 1px solid #d0d7de; border-radius: .375rem; padding: .75rem; font-size: .875rem; }
  .manual img { max-width: 100%; height: auto; border: 1px solid #c9d1d9; border-radius: .375rem; }
  .manual code, .api code { font-size: .9em; overflow-wrap: anywhere; }
  .api section.op { background: #fff; border: 1px solid #c9d1d9; border-radius: .5rem; padding: .75rem 1rem; margin: 0 0 1rem; }
  .api .method { display: inline-block; min-width: 4.5rem; font-weight: 700; border-radius: .25rem; padding: 0 .5rem; color: #fff; background: #0b4fa8; }
  .api .method-post { background: #0f5132; } .api .method-delete { background: #a4161a; }
  .api .method-put, .api .method-patch { background: #6b4a00; }
  ul.toc { columns: 2 14rem; }
</style>`;

function manualIndex(manuals: Manual[], base: string, audiences: readonly Audience[]): string {
  return audiences
    .map((a) => {
      const list = manuals.filter((m) => m.audience === a && m.lang === 'ja');
      if (list.length === 0) return '';
      const items = list
        .map((m) => {
          const en = manuals.find((e) => e.slug === m.slug && e.lang === 'en');
          return `<li><a href="${base}/${m.slug}">${escapeHtml(m.title)}</a>${en ? ` — <a href="${base}/${m.slug}.en" lang="en">${escapeHtml(en.title)}</a>` : ''}</li>`;
        })
        .join('');
      const [ja, en] = AUDIENCE_NAMES[a];
      return `<section class="card" aria-labelledby="aud-${a}"><h2 id="aud-${a}">${bi(ja, en)}</h2><ul>${items}</ul></section>`;
    })
    .join('\n');
}

function manualBody(m: Manual, manuals: Manual[], base: string): string {
  const other = manuals.find((o) => o.slug === m.slug && o.lang !== m.lang);
  const switchLink = other
    ? `<p><a href="${base}/${m.slug}${other.lang === 'en' ? '.en' : ''}" lang="${other.lang}" hreflang="${other.lang}">${other.lang === 'en' ? 'Read in English' : '日本語で読む'}</a></p>`
    : '';
  const toc = m.headings.length
    ? `<nav aria-label="${m.lang === 'ja' ? '目次' : 'Contents'}"><ul class="toc">${m.headings.map((h) => `<li><a href="#${h.id}">${escapeHtml(h.text)}</a></li>`).join('')}</ul></nav>`
    : '';
  return `${STYLE}${switchLink}${toc}<div class="manual"${m.lang === 'en' ? ' lang="en"' : ''}>${m.html}</div>
<p><a href="${base}">${bi('マニュアルの一覧へ', 'All manuals')}</a></p>`;
}

function findManual(manuals: Manual[], param: string, audiences: readonly Audience[] | 'all'): Manual {
  const [slug, lang] = param.endsWith('.en') ? [param.slice(0, -3), 'en'] : [param, 'ja'];
  const m = manuals.find((x) => x.slug === slug && x.lang === lang);
  // Staff-only manuals answer 404 to everyone else, the same as a manual that does not exist.
  if (!m || (audiences !== 'all' && !audiences.includes(m.audience)))
    throw new ProblemError('not-found', { detail: 'No such manual.' });
  return m;
}

function images(router: Router): void {
  router.use(
    '/images',
    express.static(path.join(DOCS_DIR, 'images'), { fallthrough: false, maxAge: '1h', index: false }),
  );
}

/** Manuals for everyone, at `/help`. */
export const helpSection: PortalSection = {
  name: 'help',
  prefix: '/help',
  create({ ctx }) {
    const manuals = loadManuals(DOCS_DIR);
    const settings = publicSiteSettings(process.env);
    const router = express.Router();
    images(router);
    const send = (req: Request, res: Response, title: string, titleEn: string, body: string) =>
      res
        .type('html')
        .setHeader('Cache-Control', 'public, max-age=300')
        .send(
          publicPage({
            site: settings.siteName,
            title,
            titleEn,
            canonical: `${ctx.config.publicUrl}${req.originalUrl.split('?')[0]}`,
            description: `${title} / ${titleEn}`,
            current: null,
            body,
          }),
        );
    router.get('/', (req, res) => {
      send(
        req,
        res,
        'ヘルプ・マニュアル',
        'Help and manuals',
        `${manualIndex(manuals, '/help', PUBLIC_AUDIENCES)}
<p><a href="/docs/api">${bi('API リファレンス（開発者向け）', 'API reference (for developers)')}</a></p>
<p class="meta">${bi('加盟店の方は加盟店コンソール、職員の方は管理コンソールからそれぞれのマニュアルを読めます。', 'Merchants read their manual in the merchant console, staff in the admin console.')}</p>`,
      );
    });
    router.get('/:slug', (req, res) => {
      const m = findManual(manuals, req.params['slug']!, PUBLIC_AUDIENCES);
      send(req, res, m.title, m.lang === 'ja' ? 'Manual' : m.title, manualBody(m, manuals, '/help'));
    });
    return router;
  },
};

/** Every manual, for signed-in staff, at `/admin/help`. */
export const staffHelpSection: PortalSection = {
  name: 'help-staff',
  prefix: '/admin/help',
  adminNav: [{ href: '/admin/help', ja: 'マニュアル', en: 'Manuals' }],
  create(p) {
    const manuals = loadManuals(DOCS_DIR);
    const router = express.Router();
    router.use(p.requireStaff());
    images(router);
    router.get('/', (req, res) => {
      sendAdminPage(req, res, {
        title: 'マニュアル',
        titleEn: 'Manuals',
        body: `${manualIndex(manuals, '/admin/help', ['staff', 'operator', 'merchant', 'resident', 'partner'])}
<p><a href="/docs/api">${bi('API リファレンス', 'API reference')}</a></p>`,
      });
    });
    router.get('/:slug', (req, res) => {
      const m = findManual(manuals, req.params['slug']!, 'all');
      sendAdminPage(req, res, {
        title: m.title,
        titleEn: m.lang === 'ja' ? 'Manual' : m.title,
        body: manualBody(m, manuals, '/admin/help'),
      });
    });
    return router;
  },
};

/** The API reference for partner developers, at `/docs/api`. */
export const apiDocsSection: PortalSection = {
  name: 'api-docs',
  prefix: '/docs/api',
  create({ ctx }) {
    const settings = publicSiteSettings(process.env);
    const router = express.Router();
    router.get('/', (_req, res) => {
      const { body } = renderApiReference(ctx.http.openApi());
      res
        .type('html')
        .setHeader('Cache-Control', 'public, max-age=300')
        .send(
          publicPage({
            site: settings.siteName,
            title: 'API リファレンス',
            titleEn: 'API reference',
            canonical: `${ctx.config.publicUrl}/docs/api`,
            description: 'つなぐ API リファレンス / Tsunagu API reference',
            current: null,
            body: `${STYLE}<div class="api">${body}</div>`,
          }),
        );
    });
    return router;
  },
};
