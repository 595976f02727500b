/**
 * Shelter rosters for disaster staff (Sukumo 4(2): 避難所 — who is in which shelter): the admin
 * console pages at `/admin/shelters` (role `shelters`). The data are the card-reader adapter's live
 * presence rows (check-in/out touches at each shelter's terminal); every roster view is an audited
 * read of personal data (`adapters.card-readers.roster.read`).
 *
 *   GET /admin/shelters         every shelter: people present now, capacity, link to its roster
 *   GET /admin/shelters/:code   who is there now (name, checked in at, JST), newest state on reload
 */
import express from 'express';
import type { AdaptersServices } from '../../adapters/index.ts';
import { sendAdminPage, staffMember } from '../admin/layout.ts';
import { bi, escapeHtml, time } from '../shared/html.ts';
import type { PortalContext, PortalSection } from '../shared/section.ts';

export const SHELTERS_BASE = '/admin/shelters';

/** The card-reader services the pages use (looked up at request time). */
interface Shelters {
  shelters(): Promise<{
    items: Array<{ code: string; name: string; capacity: number | null; present: number }>;
  }>;
  shelterRoster(
    code: string,
    actor: string,
  ): Promise<{
    shelter: string;
    name: string;
    capacity: number | null;
    present: number;
    items: Array<{ resident: string; name: string | null; checkedInAt: string }>;
  }>;
}

function sheltersOf(p: PortalContext): Shelters | undefined {
  const adapters = p.ctx.services['adapters'] as AdaptersServices | undefined;
  return adapters?.adapters['card_readers'] as Shelters | undefined;
}

const asOf = (now: Date) =>
  `<p class="meta">${bi('時点', 'As of')} ${time(now.toISOString())} — <a href="?">${bi('最新の状態に更新', 'Refresh')}</a></p>`;

export function shelterPages(p: PortalContext): express.Router {
  const router = express.Router();
  router.use(p.requireStaff('shelters'));
  const unavailable = (req: express.Request, res: express.Response) =>
    sendAdminPage(req, res, {
      title: '避難所名簿',
      titleEn: 'Shelter rosters',
      status: 503,
      body: `<p>${bi('カードリーダー連携が動いていません。', 'The card-reader adapter is not running.')}</p>`,
    });

  router.get('/', async (req, res) => {
    const shelters = sheltersOf(p);
    if (!shelters) return unavailable(req, res);
    const { items } = await shelters.shelters();
    const rows = items
      .map(
        (
          s,
        ) => `<tr><td><a href="${SHELTERS_BASE}/${encodeURIComponent(s.code)}">${escapeHtml(s.name)}</a></td>
<td>${s.present}</td><td>${s.capacity ?? '—'}</td></tr>`,
      )
      .join('\n');
    sendAdminPage(req, res, {
      title: '避難所名簿',
      titleEn: 'Shelter rosters',
      body: `${asOf(p.ctx.now())}
<section class="card"><div class="table-wrap"><table>
<caption>${bi('避難所ごとの在所者数', 'People present per shelter')}</caption>
<thead><tr><th scope="col">${bi('避難所', 'Shelter')}</th><th scope="col">${bi('在所者数', 'Present')}</th><th scope="col">${bi('収容人数', 'Capacity')}</th></tr></thead>
<tbody>${rows || `<tr><td colspan="3">${bi('避難所が登録されていません。', 'No shelters are registered.')}</td></tr>`}</tbody>
</table></div></section>`,
    });
  });

  router.get('/:code', async (req, res) => {
    const shelters = sheltersOf(p);
    if (!shelters) return unavailable(req, res);
    const code = req.params['code'] ?? '';
    if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(code))
      return sendAdminPage(req, res, {
        title: '避難所名簿',
        titleEn: 'Shelter rosters',
        status: 404,
        body: `<p>${bi('その避難所はありません。', 'No such shelter.')}</p>`,
      });
    let roster: Awaited<ReturnType<Shelters['shelterRoster']>>;
    try {
      roster = await shelters.shelterRoster(code, `staff:${staffMember(res).staffId}`);
    } catch {
      return sendAdminPage(req, res, {
        title: '避難所名簿',
        titleEn: 'Shelter rosters',
        status: 404,
        body: `<p>${bi('その避難所はありません。', 'No such shelter.')}</p>`,
      });
    }
    const rows = roster.items
      .map(
        (r, i) =>
          `<tr><td>${i + 1}</td><td>${r.name ? escapeHtml(r.name) : bi('（氏名未登録）', '(no name on record)')}</td><td>${time(r.checkedInAt)}</td></tr>`,
      )
      .join('\n');
    sendAdminPage(req, res, {
      title: `${roster.name} 名簿`,
      titleEn: `${roster.name} roster`,
      body: `${asOf(p.ctx.now())}
<p>${bi(`在所者 ${roster.present} 人`, `${roster.present} present`)}${roster.capacity ? ` / ${bi(`収容 ${roster.capacity} 人`, `capacity ${roster.capacity}`)}` : ''}</p>
<section class="card"><div class="table-wrap"><table>
<caption>${bi('現在の在所者（受付順）', 'Present now (in order of check-in)')}</caption>
<thead><tr><th scope="col">#</th><th scope="col">${bi('氏名', 'Name')}</th><th scope="col">${bi('受付時刻', 'Checked in')}</th></tr></thead>
<tbody>${rows || `<tr><td colspan="3">${bi('現在、在所者はいません。', 'Nobody is checked in now.')}</td></tr>`}</tbody>
</table></div></section>
<p><a href="${SHELTERS_BASE}">${bi('避難所の一覧へ', 'All shelters')}</a></p>`,
    });
  });
  return router;
}

export const sheltersAdminSection: PortalSection = {
  name: 'admin-shelters',
  prefix: SHELTERS_BASE,
  adminNav: [{ href: SHELTERS_BASE, ja: '避難所名簿', en: 'Shelter rosters', role: 'shelters' }],
  create: (p) => shelterPages(p),
};
