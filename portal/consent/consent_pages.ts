/**
 * The resident's consent pages (同意の管理), server-rendered, no scripts:
 *
 *   GET  {base}                     my consents per service and purpose, a state and buttons per item
 *   POST {base}/:id/{pause,resume,withdraw}   change one (CSRF token), then back to the list
 *   GET  {base}/history             every change, newest first, in JST
 *   GET  {base}/notice/:id/:version a notice as the resident was shown it
 *   GET  {base}/receipt/:id         the signed consent receipt (JSON download)
 *   GET  {base}/request?…           a partner's request to opt in, item by item (request_page.ts)
 *   GET  {base}/links               linked service accounts: link with a code, unlink (links_page.ts)
 *   GET  {base}/login, /callback    sign-in through our OpenID provider
 *   POST {base}/logout
 *
 * @example
 *   router.use('/portal/consent', consentPages({ consent, session, serviceName, base: '/portal/consent' }));
 */
import express, { type Request, type Response, type Router } from 'express';
import type { ConsentRecord, ConsentServices, HistoryEntry } from '../../consent/index.ts';
import { ProblemError } from '../../core/index.ts';
import { bi, escapeHtml, type NavEntry, type PageOptions, residentPage, time } from '../shared/html.ts';
import type { RedirectLinkDeps } from './link_redirect.ts';
import { linksRoutes } from './links_page.ts';
import { requestRoutes } from './request_page.ts';
import type { ResidentSession } from '../shared/resident_session.ts';
import { portalShell } from '../shell.ts';

export interface ConsentPagesOptions {
  consent: ConsentServices;
  session: ResidentSession;
  /** A partner service's display name (falls back to its id). */
  serviceName(serviceId: string): Promise<string>;
  /** Where the router is mounted, e.g. `/portal/consent`. */
  base: string;
  /** The resident menu (the portal's `residentNav`); default: these pages' own entries. */
  nav?: readonly NavEntry[];
  /** Where the sign-out form posts (default `/portal/logout`, the portal's shared sign-out). */
  logoutAction?: string;
  /** Where a resident who is not signed in goes (default `{base}/login?return=…`; the portal's `/portal/login`). */
  loginUrl?(returnTo: string): string;
  /** Partners residents link by signing in at the partner (OAuth/OIDC redirect); see link_redirect.ts. */
  redirectLinks?: RedirectLinkDeps;
}

/** The consent pages' own menu entries (the portal lists them in the resident menu too). */
export function consentNav(base: string): NavEntry[] {
  return [
    { href: base, ja: '同意の管理', en: 'My consents', order: 50 },
    { href: `${base}/links`, ja: '連携サービス', en: 'Linked services', order: 55 },
  ];
}

const STATE_TEXT = {
  given: ['提供中', 'Sharing'],
  paused: ['一時停止中', 'Paused'],
  withdrawn: ['撤回済み', 'Withdrawn'],
  expired: ['期限切れ', 'Expired'],
} as const;

const EVENT_TEXT = {
  given: ['同意しました', 'Consent given'],
  renewed: ['改めて同意しました', 'Consent renewed'],
  paused: ['一時停止しました', 'Paused'],
  resumed: ['再開しました', 'Resumed'],
  withdrawn: ['撤回しました', 'Withdrawn'],
  expired: ['有効期限が切れました', 'Expired'],
} as const;

const DONE_TEXT = {
  pause: ['提供を一時停止しました。', 'Sharing is paused.'],
  resume: ['提供を再開しました。', 'Sharing is resumed.'],
  withdraw: ['同意を撤回しました。この同意は元に戻せません。', 'Consent withdrawn. This cannot be undone.'],
  again: ['同意しました。', 'Consent given.'],
} as const;

const ACTIONS = ['pause', 'resume', 'withdraw', 'again'] as const;
type Action = (typeof ACTIONS)[number];

function actor(a: string): [string, string] {
  if (a === 'resident') return ['ご本人', 'You'];
  if (a === 'system') return ['システム', 'System'];
  return ['職員', 'Staff'];
}

export function consentPages(o: ConsentPagesOptions): Router {
  const router = express.Router();
  const { consent, session, base } = o;
  const shell = { nav: o.nav ?? consentNav(base), session };
  const logoutAction = o.logoutAction ?? '/portal/logout';
  /** The resident shell for this request; `current` is a menu entry's href. */
  const render = (req: Request, options: Omit<PageOptions, 'nav' | 'lang' | 'path'>) =>
    residentPage(shell, req, { ...options, logoutAction });
  /** The consent list and its history, side by side under the menu's 同意の管理. */
  const subNav = (here: 'list' | 'history') =>
    `<nav class="sub" aria-label="同意 / Consents"><ul>
<li><a href="${base}"${here === 'list' ? ' aria-current="page"' : ''}>${bi('同意の一覧', 'My consents')}</a></li>
<li><a href="${base}/history"${here === 'history' ? ' aria-current="page"' : ''}>${bi('変更の履歴', 'History')}</a></li>
</ul></nav>`;
  const names = async (ids: Iterable<string>) => {
    const out = new Map<string, string>();
    for (const id of new Set(ids)) out.set(id, await o.serviceName(id).catch(() => id));
    return out;
  };
  const itemLabel = (item: string): [string, string] => {
    const label = (consent.dataItems as Record<string, { ja: string; en: string }>)[item];
    return label ? [label.ja, label.en] : [item, item];
  };

  // Items in the catalog's order: the basic 4 as 氏名・住所・生年月日・性別, then the others.
  const catalog = Object.keys(consent.dataItems);
  const order = (item: string) => (catalog.includes(item) ? catalog.indexOf(item) : catalog.length);

  /** The signed-in resident, or a redirect to sign in. */
  const signedIn = (req: Request, res: Response): string | undefined => {
    const resident = session.residentOf(req);
    if (!resident)
      res.redirect(
        303,
        o.loginUrl?.(req.originalUrl) ?? `${base}/login?return=${encodeURIComponent(req.originalUrl)}`,
      );
    return resident;
  };

  router.get('/login', async (req, res) => {
    const wanted = typeof req.query['return'] === 'string' ? req.query['return'] : base;
    const returnTo = wanted.startsWith(`${base}`) && !wanted.startsWith('//') ? wanted : base;
    await session.login(req, res, returnTo);
  });

  // Callback and sign-out are the portal shell's, under this base (used when the pages run on their own).
  router.use(portalShell(session, base));

  router.get('/', async (req, res) => {
    const resident = signedIn(req, res);
    if (!resident) return;
    const records = await consent.list(resident);
    // One line per item and side: the live record, else the most recent one. A flow shows its sink side.
    const current = new Map<string, ConsentRecord>();
    for (const r of records) {
      if (r.side === 'source') continue;
      const key = [r.recipientService, r.sourceService ?? '', r.purpose, r.dataItem].join('\u0000');
      const seen = current.get(key);
      const live = (x: ConsentRecord) => x.state === 'given' || x.state === 'paused';
      if (!seen || live(r) || (!live(seen) && r.updatedAt >= seen.updatedAt)) current.set(key, r);
    }
    const groups = new Map<string, ConsentRecord[]>();
    for (const r of current.values()) {
      const key = [r.recipientService, r.sourceService ?? '', r.purpose].join('\u0000');
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    const serviceNames = await names(
      records.flatMap((r) => [r.recipientService, ...(r.sourceService ? [r.sourceService] : [])]),
    );
    const csrf = session.csrfFor(req);
    const done = ACTIONS.find((a) => a === req.query['done']);
    const failed = req.query['error'] === 'final';
    const noticeGone = req.query['error'] === 'notice';

    const notices = new Map<string, Awaited<ReturnType<ConsentServices['currentNotice']>>>();
    for (const r of current.values())
      if (!notices.has(r.notice.id)) notices.set(r.notice.id, await consent.currentNotice(r.notice.id));
    const sections: string[] = [];
    let n = 0;
    for (const list of groups.values()) {
      n += 1;
      const first = list[0]!;
      const to = serviceNames.get(first.recipientService)!;
      const from = first.sourceService ? serviceNames.get(first.sourceService)! : null;
      const notice = await consent.notice(first.notice.id, first.notice.version);
      const heading = from ? `${escapeHtml(from)} → ${escapeHtml(to)}` : escapeHtml(to);
      const items = list
        .sort((a, b) => order(a.dataItem) - order(b.dataItem))
        .map((r) => {
          const [ja, en] = itemLabel(r.dataItem);
          const [sja, sen] = STATE_TEXT[r.state];
          const hidden = `<span class="visually-hidden">：${escapeHtml(ja)}</span>`;
          const button = (action: Action, cls: string, bja: string, ben: string) =>
            `<form method="post" action="${base}/${r.id}/${action}"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}"><button type="submit" class="${cls}">${escapeHtml(bja)}${hidden} <span lang="en">${escapeHtml(ben)}</span></button></form>`;
          const live = r.state === 'given' || r.state === 'paused';
          const reconsent = live && (notices.get(r.notice.id)?.materialVersion ?? 0) > r.notice.version;
          const actions =
            (reconsent ? button('again', '', '新しい内容で同意', 'Agree to the new terms') : '') +
            (r.state === 'given'
              ? button('pause', 'secondary', '一時停止', 'Pause') +
                button('withdraw', 'danger', '撤回', 'Withdraw')
              : r.state === 'paused'
                ? button('resume', '', '再開', 'Resume') + button('withdraw', 'danger', '撤回', 'Withdraw')
                : button('again', 'secondary', 'もう一度同意する', 'Consent again'));
          const badge = reconsent
            ? `<span class="state state-paused">${bi('再同意が必要', 'Re-consent needed')}</span>`
            : `<span class="state state-${r.state}">${escapeHtml(sja)} <span lang="en">${escapeHtml(sen)}</span></span>`;
          return `<li id="c-${r.id}">
<div class="item-head"><strong>${bi(ja, en)}</strong>${badge}</div>
${reconsent ? `<p class="meta">${bi('利用目的の説明が変わりました。新しい内容を確認し、同意するまで提供は止まっています。', 'The notice has changed. Sharing is stopped until you agree to the new terms.')}</p>` : ''}
<p class="meta">${escapeHtml('有効期限')} / <span lang="en">Valid until</span>: ${r.validUntil ? time(r.validUntil) : bi('撤回するまで', 'until you withdraw')}</p>
<div class="actions">${actions}<a class="button secondary" href="${base}/receipt/${r.id}" download>${escapeHtml('同意書')}${hidden} <span lang="en">Receipt (JSON)</span></a></div>
</li>`;
        })
        .join('\n');
      sections.push(`<section class="card" aria-labelledby="g-${n}">
<h2 id="g-${n}">${heading}</h2>
<p class="meta">${bi(`利用目的：${notice?.titleJa ?? first.purpose}（${first.purpose}）`, `Purpose: ${notice?.titleEn ?? first.purpose}`)}</p>
<p class="meta"><a href="${base}/notice/${encodeURIComponent(first.notice.id)}/${first.notice.version}">${escapeHtml(`同意したときの説明を読む（第${first.notice.version}版）`)} <span lang="en">Read the notice you agreed to (version ${first.notice.version})</span></a></p>
${first.sourceService ? `<p class="meta">${bi('あるサービスから別のサービスへ情報を渡すことへの同意です。', 'Consent for one service to pass your data to another.')}</p>` : ''}
<ul class="items">${items}</ul>
</section>`);
    }

    const status = done
      ? `<p class="status" role="status">${bi(DONE_TEXT[done][0], DONE_TEXT[done][1])}</p>`
      : failed
        ? `<p class="error" role="alert">${bi('この同意はすでに撤回されたか期限が切れています。', 'This consent was already withdrawn or has expired.')}</p>`
        : noticeGone
          ? `<p class="error" role="alert">${bi('この利用目的は現在の説明に含まれていないため、同意できません。', 'The current notice no longer covers this purpose.')}</p>`
          : '';
    res.type('html').send(
      render(req, {
        title: '同意の一覧',
        titleEn: 'My consents',
        current: base,
        csrf,
        body: `${subNav('list')}${status}<p>${bi(
          'どのサービスに、どの情報を、何のために提供するかを項目ごとに決められます。一時停止はいつでも再開できます。撤回は元に戻せません。',
          'Decide per item which service may receive which data and why. A pause can be undone at any time; a withdrawal cannot.',
        )}</p>
${sections.length > 0 ? sections.join('\n') : `<p>${bi('まだ同意はありません。', 'You have not given any consent yet.')}</p>`}`,
      }),
    );
  });

  router.post('/:id/:action', async (req, res) => {
    const resident = signedIn(req, res);
    if (!resident) return;
    const action = ACTIONS.find((a) => a === req.params['action']);
    if (!action) throw new ProblemError('not-found');
    if (!session.checkCsrf(req, (req.body as { csrf?: unknown } | undefined)?.csrf))
      throw new ProblemError('forbidden', { detail: 'The form is out of date. Reload the page.' });
    const id = String(req.params['id']);
    try {
      if (action === 'again') await consent.consentAgain(id, resident, 'resident');
      else await consent.change({ id, resident, action }, 'resident');
    } catch (error) {
      if (
        error instanceof ProblemError &&
        ['consent-final', 'consent-state', 'notice-mismatch'].includes(error.code)
      )
        return res.redirect(
          303,
          `${base}?error=${error.code === 'notice-mismatch' ? 'notice' : 'final'}#c-${id}`,
        );
      throw error;
    }
    res.redirect(303, `${base}?done=${action}#c-${id}`);
  });

  requestRoutes(router, { consent, session, serviceName: o.serviceName, base, signedIn, render });
  linksRoutes(router, {
    consent,
    session,
    serviceName: o.serviceName,
    base,
    signedIn,
    render,
    ...(o.redirectLinks ? { redirect: o.redirectLinks } : {}),
  });

  router.get('/notice/:noticeId/:version', async (req, res) => {
    const resident = signedIn(req, res);
    if (!resident) return;
    const version = Number(req.params['version']);
    const notice = Number.isInteger(version)
      ? await consent.notice(String(req.params['noticeId']), version)
      : undefined;
    if (!notice) throw new ProblemError('notice-not-found');
    const current = await consent.currentNotice(notice.noticeId);
    const newer = current && current.latest.version > notice.version;
    res.type('html').send(
      render(req, {
        title: notice.titleJa,
        titleEn: notice.titleEn,
        current: base,
        body: `<section class="card">
<p class="meta">${bi(`第${notice.version}版`, `Version ${notice.version}`)}・${time(notice.publishedAt)}</p>
<p>${escapeHtml(notice.bodyJa)}</p>
<p lang="en">${escapeHtml(notice.bodyEn)}</p>
${notice.url ? `<p><a href="${escapeHtml(notice.url)}">${bi('全文を読む', 'Read the full text')}</a></p>` : ''}
</section>
${newer ? `<p class="meta">${bi(`最新は第${current.latest.version}版です。`, `The latest is version ${current.latest.version}.`)} <a href="${base}/notice/${encodeURIComponent(notice.noticeId)}/${current.latest.version}">${bi('最新版を読む', 'Read the latest version')}</a></p>` : ''}
<p><a href="${base}">${bi('同意の一覧に戻る', 'Back to my consents')}</a></p>`,
      }),
    );
  });

  router.get('/history', async (req, res) => {
    const resident = signedIn(req, res);
    if (!resident) return;
    const events: HistoryEntry[] = (await consent.history(resident)).filter((e) => e.side !== 'source');
    const serviceNames = await names(
      events.flatMap((e) => [e.recipientService, ...(e.sourceService ? [e.sourceService] : [])]),
    );
    const rows = events
      .map((e) => {
        const [ija, ien] = itemLabel(e.dataItem);
        const [eja, een] = EVENT_TEXT[e.type];
        const [aja, aen] = actor(e.actor);
        const to = serviceNames.get(e.recipientService)!;
        const service = e.sourceService ? `${serviceNames.get(e.sourceService)} → ${to}` : to;
        return `<tr>
<td data-label="日時 / When">${time(e.at)}</td>
<td data-label="内容 / What">${bi(eja, een)}</td>
<td data-label="項目 / Item">${bi(ija, ien)}</td>
<td data-label="提供先 / Service">${escapeHtml(service)}</td>
<td data-label="目的 / Purpose">${escapeHtml(e.purpose)}</td>
<td data-label="操作 / By">${bi(aja, aen)}</td>
</tr>`;
      })
      .join('\n');
    res.type('html').send(
      render(req, {
        title: '変更の履歴',
        titleEn: 'History of changes',
        current: base,
        body:
          subNav('history') +
          (events.length === 0
            ? `<p>${bi('履歴はまだありません。', 'No history yet.')}</p>`
            : `<table class="history">
<caption>${bi('新しい順（日本時間）', 'Newest first (Japan time)')}</caption>
<thead><tr><th scope="col">日時 <span lang="en">When</span></th><th scope="col">内容 <span lang="en">What</span></th><th scope="col">項目 <span lang="en">Item</span></th><th scope="col">提供先 <span lang="en">Service</span></th><th scope="col">目的 <span lang="en">Purpose</span></th><th scope="col">操作 <span lang="en">By</span></th></tr></thead>
<tbody>${rows}</tbody>
</table>`),
      }),
    );
  });

  router.get('/receipt/:id', async (req, res) => {
    const resident = signedIn(req, res);
    if (!resident) return;
    const receipt = await consent.receipt(String(req.params['id']), resident);
    res.set('Content-Disposition', `attachment; filename="consent-receipt-${req.params['id']}.json"`);
    res.set('Cache-Control', 'no-store');
    res.json(receipt);
  });

  return router;
}
