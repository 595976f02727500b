/**
 * The resident's points (ポイント), server-rendered, no scripts:
 *
 *   GET {base}?currency=&before=   balances per point type, then the postings of one currency,
 *                                  newest first in JST, 20 per page (`before` is the ledger's cursor)
 */
import express, { type Router } from 'express';
import type { PointsService } from '../../points/index.ts';
import { bi, biInline, escapeHtml, residentPage, time } from '../shared/html.ts';
import type { PortalContext } from '../shared/section.ts';
import { amountText, POSTING_TEXT, residentBalances, signed } from './points_view.ts';

export const PAGE_SIZE = 20;
const CURSOR = /^[0-9]{1,19}$/;

export function pointsPages(portal: PortalContext, base: string): Router {
  const router = express.Router();
  const shell = { nav: portal.residentNav, session: portal.resident };

  router.get('/', async (req, res) => {
    const resident = portal.resident.residentOf(req);
    if (!resident) return res.redirect(303, portal.residentLoginUrl(req.originalUrl));
    const points = portal.ctx.services['points'] as PointsService | undefined;
    const send = (body: string) =>
      res
        .type('html')
        .send(residentPage(shell, req, { title: 'ポイント', titleEn: 'Points', current: base, body }));
    if (!points)
      return send(`<p>${bi('ポイントはこの地域では使われていません。', 'Points are not in use here.')}</p>`);

    const balances = await residentBalances(points, resident);
    if (balances.length === 0)
      return send(`<p>${bi('まだポイントはありません。', 'You have no points yet.')}</p>`);
    const wanted = typeof req.query['currency'] === 'string' ? req.query['currency'] : balances[0]!.currency;
    const chosen = balances.find((b) => b.currency === wanted) ?? balances[0]!;
    const before =
      typeof req.query['before'] === 'string' && CURSOR.test(req.query['before'])
        ? req.query['before']
        : undefined;
    const history = await points.history({
      currency: chosen.currency,
      holder: resident,
      limit: PAGE_SIZE,
      ...(before ? { before } : {}),
    });

    const tabs =
      balances.length > 1
        ? `<nav class="sub" aria-label="ポイントの種類 / Currencies"><ul>${balances
            .map(
              (b) =>
                `<li><a href="${base}?currency=${encodeURIComponent(b.currency)}"${b.currency === chosen.currency ? ' aria-current="page"' : ''}>${escapeHtml(b.name)}</a></li>`,
            )
            .join('')}</ul></nav>`
        : '';
    const types = chosen.types
      .map(
        (t) =>
          `<div><dt>${escapeHtml(t.name)}${
            t.nextExpiry
              ? `<span class="meta">${biInline('次の有効期限', 'Next expiry')}: ${time(t.nextExpiry.at)}（${amountText(t.nextExpiry.amount)}）</span>`
              : ''
          }</dt><dd class="amount">${amountText(t.amount)}</dd></div>`,
      )
      .join('');
    const rows = history.items
      .map((p) => {
        const [ja, en] = POSTING_TEXT[p.kind] ?? [p.kind, p.kind];
        return `<tr>
<td data-label="日時 / When">${time(p.at)}</td>
<td data-label="内容 / What">${bi(ja, en)}${p.merchant ? `<span class="meta">${escapeHtml(p.merchant)}</span>` : ''}</td>
<td data-label="増減 / Amount" class="amount">${signed(p.amount)}</td>
<td data-label="残高 / Balance" class="amount">${amountText(p.balanceAfter)}</td>
</tr>`;
      })
      .join('\n');
    const here = `${base}?currency=${encodeURIComponent(chosen.currency)}`;
    const pager = `<div class="pager">${
      before
        ? `<a class="button secondary" href="${here}">${bi('最新の履歴', 'Newest')}</a>`
        : '<span></span>'
    }${
      history.next
        ? `<a class="button secondary" href="${here}&amp;before=${history.next}" rel="next">${bi('さらに前の履歴', 'Older')}</a>`
        : ''
    }</div>`;
    send(`${tabs}<section class="card" aria-labelledby="balance">
<h2 id="balance">${escapeHtml(chosen.name)}</h2>
<p class="big amount">${amountText(chosen.spendable)}</p>
${types ? `<dl class="balances">${types}</dl>` : ''}
</section>
<section aria-labelledby="history">
<h2 id="history">${bi('ポイントの履歴', 'History')}</h2>
${
  rows
    ? `<table class="history">
<caption>${bi('新しい順（日本時間）', 'Newest first (Japan time)')}</caption>
<thead><tr><th scope="col">日時 <span lang="en">When</span></th><th scope="col">内容 <span lang="en">What</span></th><th scope="col">増減 <span lang="en">Amount</span></th><th scope="col">残高 <span lang="en">Balance</span></th></tr></thead>
<tbody>${rows}</tbody>
</table>${pager}`
    : `<p>${bi('履歴はまだありません。', 'No history yet.')}</p>`
}
</section>`);
  });
  return router;
}
