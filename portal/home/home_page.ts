/**
 * The resident portal's home (ホーム) and the language toggle, server-rendered, no scripts:
 *
 *   GET /portal              balances per currency and point type, the latest notices, shortcuts
 *   GET /portal/lang?to=&return=   remember 日本語 or English (cookie), back to the page
 *
 * Notices come from the notices section's store (`services.portal.notices.forResident`), read at
 * call time; without that section the home shows no notices card.
 */
import express, { type Router } from 'express';
import type { PointsService } from '../../points/index.ts';
import { amountText, residentBalances } from '../points/points_view.ts';
import { bi, biInline, escapeHtml, LANG_COOKIE, residentPage, time } from '../shared/html.ts';
import type { PortalContext } from '../shared/section.ts';
import { safeReturn } from '../shell.ts';

/** The slice of the notices section's store the home page reads (`services.portal.notices`). */
export interface ResidentNoticesFeed {
  forResident(
    resident: string,
    limit?: number,
  ): Promise<Array<{ id: string; titleJa: string; titleEn: string; sentAt: string; readAt: string | null }>>;
}

const NOTICES_BASE = '/portal/notices';

export function homePages(portal: PortalContext, base: string): Router {
  const router = express.Router();
  const shell = { nav: portal.residentNav, session: portal.resident };

  router.get('/lang', (req, res) => {
    const to = req.query['to'] === 'en' ? 'en' : 'ja';
    res.cookie(LANG_COOKIE, to, {
      path: base,
      sameSite: 'lax',
      httpOnly: true,
      secure: portal.ctx.config.publicUrl.startsWith('https://'),
      maxAge: 365 * 86_400_000,
    });
    res.redirect(303, safeReturn(req.query['return']));
  });

  router.get('/', async (req, res) => {
    const resident = portal.resident.residentOf(req);
    if (!resident) return res.redirect(303, portal.residentLoginUrl(req.originalUrl));
    const points = portal.ctx.services['points'] as PointsService | undefined;
    const balances = points ? await residentBalances(points, resident) : [];
    const feed = (portal.ctx.services['portal'] as { notices?: Partial<ResidentNoticesFeed> } | undefined)
      ?.notices;
    const notices = typeof feed?.forResident === 'function' ? await feed.forResident(resident, 3) : null;

    const balanceCards = balances
      .map(
        (b) => `<div class="balance">
<h3>${escapeHtml(b.name)}</h3>
<p class="big amount">${amountText(b.spendable)}</p>
${
  b.types.length > 0
    ? `<dl class="balances">${b.types
        .map(
          (t) =>
            `<div><dt>${escapeHtml(t.name)}${t.nextExpiry ? `<span class="meta">${biInline('次の有効期限', 'Next expiry')}: ${time(t.nextExpiry.at)}（${amountText(t.nextExpiry.amount)}）</span>` : ''}</dt><dd class="amount">${amountText(t.amount)}</dd></div>`,
        )
        .join('')}</dl>`
    : ''
}
<p><a href="${base}/points?currency=${encodeURIComponent(b.currency)}">${bi(`${b.name}の履歴を見る`, `${b.name}: history`)}</a></p>
</div>`,
      )
      .join('\n');
    const noticeCard =
      notices === null
        ? ''
        : `<section class="card" aria-labelledby="notices">
<h2 id="notices">${bi('お知らせ', 'Notices')}</h2>
${
  notices.length === 0
    ? `<p>${bi('お知らせはありません。', 'No notices.')}</p>`
    : `<ul class="items">${notices
        .map(
          (n) =>
            `<li><a href="${NOTICES_BASE}/${encodeURIComponent(n.id)}">${bi(n.titleJa, n.titleEn)}</a><p class="meta">${time(n.sentAt)}${n.readAt ? '' : ` <strong>${bi('未読', 'Unread')}</strong>`}</p></li>`,
        )
        .join('')}</ul>
<p><a href="${NOTICES_BASE}">${bi('お知らせをすべて見る', 'All notices')}</a></p>`
}
</section>`;
    res.type('html').send(
      residentPage(shell, req, {
        title: 'ホーム',
        titleEn: 'Home',
        current: base,
        body: `<section class="card" aria-labelledby="balances">
<h2 id="balances">${bi('ポイント残高', 'Point balances')}</h2>
${balanceCards || `<p>${bi('まだポイントはありません。', 'You have no points yet.')}</p>`}
</section>
${noticeCard}
<section class="card" aria-labelledby="shortcuts">
<h2 id="shortcuts">${bi('よく使う機能', 'Shortcuts')}</h2>
<div class="actions">
<a class="button" href="${base}/qr">${bi('QRコードを表示', 'Show my QR code')}</a>
<a class="button secondary" href="${base}/consent">${bi('同意の管理', 'My consents')}</a>
<a class="button secondary" href="${base}/consent/links">${bi('連携サービス', 'Linked services')}</a>
</div>
</section>`,
      }),
    );
  });
  return router;
}
