/**
 * The resident's access history (アクセス履歴): who asked for which of their data, when, why and
 * what was provided — every attempt, including refusals — with CSV and JSON downloads. Entries a
 * service's purpose holds back by law stay hidden until their period ends (mediation decides).
 *
 *   GET {base}                  the history (newest first)
 *   GET {base}/history.csv      download (UTF-8 with BOM, for spreadsheet software)
 *   GET {base}/history.json     download
 */
import express, { type Router } from 'express';
import type { ConsentServices } from '../../consent/index.ts';
import type { MediationServices } from '../../mediation/index.ts';
import { bi, escapeHtml, residentPage } from '../shared/html.ts';
import type { PortalContext } from '../shared/section.ts';
import { ACCESS_STYLE, entryHtml, loadLabels } from './history_view.ts';

export function accessPages(portal: PortalContext, base: string): Router {
  const router = express.Router();
  const shell = { nav: portal.residentNav, session: portal.resident };
  const mediation = () => portal.ctx.services['mediation'] as MediationServices;
  const consent = () => portal.ctx.services['consent'] as ConsentServices | undefined;

  const signedIn: express.RequestHandler = (req, res, next) => {
    const resident = portal.resident.residentOf(req);
    if (!resident) return res.redirect(303, portal.residentLoginUrl(req.originalUrl));
    res.locals['resident'] = resident;
    res.set('cache-control', 'no-store');
    next();
  };

  router.get('/', signedIn, async (req, res) => {
    const resident = res.locals['resident'] as string;
    const [entries, labels] = await Promise.all([
      mediation().history(resident),
      loadLabels(mediation(), consent()),
    ]);
    const list =
      entries.length === 0
        ? `<p id="empty">${bi('まだアクセスはありません。', 'No service has asked for your data yet.')}</p>`
        : `<ol class="accesses" id="accesses">${entries.map((e) => entryHtml(e, labels)).join('\n')}</ol>`;
    res.type('html').send(
      residentPage(shell, req, {
        title: 'アクセス履歴',
        titleEn: 'Who accessed my data',
        current: base,
        body: `${ACCESS_STYLE}
<p>${bi(
          '連携サービスがあなたの情報を求めた記録です。提供しなかった場合も記録しています。項目の名前だけを記録し、内容は記録しません。',
          'Every time a partner service asked for your data, including when nothing was provided. Only the names of items are recorded, never their contents.',
        )}</p>
<p class="downloads">${bi('ダウンロード', 'Download')}：
<a href="${escapeHtml(base)}/history.csv" download>CSV</a>
<a href="${escapeHtml(base)}/history.json" download>JSON</a></p>
${list}
<p class="meta">${bi(
          '法令に基づく照会などは、定められた期間が過ぎてから表示されることがあります。',
          'Some requests (e.g. inquiries under the law) appear only after a period the law allows.',
        )}</p>`,
      }),
    );
  });

  router.get('/history.csv', signedIn, async (_req, res) => {
    res
      .type('text/csv; charset=utf-8')
      .attachment('access-history.csv')
      .send(await mediation().historyCsv(res.locals['resident'] as string));
  });

  router.get('/history.json', signedIn, async (_req, res) => {
    res
      .attachment('access-history.json')
      .json({ entries: await mediation().history(res.locals['resident'] as string) });
  });
  return router;
}
