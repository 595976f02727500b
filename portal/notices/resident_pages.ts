/**
 * The resident's notices (`/portal/notices`): the list, newest first, unread ones marked, and one
 * notice, which opening marks read. Only notices addressed to the resident (or to everyone) open;
 * any other id answers 404 like an unknown one.
 *
 *   GET /       list
 *   GET /:id    one notice (marks it read)
 */
import express, { type RequestHandler } from 'express';
import type { ResidentDirectory } from '../municipal_services/resident_directory.ts';
import { bi, escapeHtml, residentPage, time } from '../shared/html.ts';
import type { PortalContext } from '../shared/section.ts';
import type { NoticeStore } from './notice_store.ts';

export const NOTICES_BASE = '/portal/notices';

export function noticesResidentPages(
  p: PortalContext,
  notices: NoticeStore,
  directory: ResidentDirectory,
): RequestHandler {
  const router = express.Router();
  const shell = { nav: p.residentNav, session: p.resident };

  router.use((req, res, next) => {
    const resident = p.resident.residentOf(req);
    if (!resident) return res.redirect(303, p.residentLoginUrl(req.originalUrl));
    res.locals['resident'] = resident;
    // Keep the resident's attributes current for staff audiences (at most daily).
    directory.touch(resident).then(
      () => next(),
      (error: unknown) => {
        p.ctx.logger.warn({ err: error }, 'resident directory refresh failed');
        next();
      },
    );
  });

  router.get('/', async (req, res) => {
    const list = await notices.forResident(String(res.locals['resident']));
    const unread = list.filter((n) => !n.readAt).length;
    res.type('html').send(
      residentPage(shell, req, {
        title: 'お知らせ',
        titleEn: 'Notices',
        current: NOTICES_BASE,
        body: `<p id="unread" role="status">${bi(`未読 ${unread}件`, `${unread} unread`)}</p>
${
  list.length
    ? `<ul class="items" id="notices">${list
        .map(
          (
            n,
          ) => `<li${n.readAt ? '' : ' class="unread"'}><div class="item-head"><a href="${NOTICES_BASE}/${escapeHtml(n.id)}">${n.readAt ? '' : `<strong>${bi('未読', 'Unread')}</strong> `}${bi(n.titleJa, n.titleEn)}</a></div>
<p class="meta">${time(n.sentAt)}</p></li>`,
        )
        .join('')}</ul>`
    : `<p>${bi('お知らせはまだありません。', 'No notices yet.')}</p>`
}`,
      }),
    );
  });

  router.get('/:id', async (req, res, next) => {
    const n = await notices.open(String(res.locals['resident']), String(req.params['id']));
    if (!n) return next();
    res.type('html').send(
      residentPage(shell, req, {
        title: n.titleJa,
        titleEn: n.titleEn,
        current: NOTICES_BASE,
        body: `<p class="meta">${time(n.sentAt)}</p>
<section class="card"><p style="white-space: pre-wrap" id="body-ja">${escapeHtml(n.bodyJa)}</p>
<p lang="en" style="white-space: pre-wrap">${escapeHtml(n.bodyEn)}</p></section>
<p><a href="${NOTICES_BASE}">${bi('お知らせの一覧へ', 'All notices')}</a></p>`,
      }),
    );
  });

  return router;
}
