/**
 * The resident's linked services (サービス連携):
 *
 *   GET  {base}/links                   current links, with an unlink button each; a sign-in button
 *                                       per partner offering it; the code form
 *   POST {base}/links                   link the account behind a one-time code the service showed
 *   POST {base}/links/:service/connect  link by signing in at the partner (link_redirect.ts)
 *   GET  {base}/links/callback          …the partner's answer
 *   POST {base}/links/:service/unlink   end a link
 */
import type { Request, Response, Router } from 'express';
import type { ConsentServices } from '../../consent/index.ts';
import { ProblemError } from '../../core/index.ts';
import { bi, escapeHtml, type PageOptions, time } from '../shared/html.ts';
import type { ResidentSession } from '../shared/resident_session.ts';
import { type RedirectLinkDeps, redirectLinkRoutes } from './link_redirect.ts';

export interface LinksPageDeps {
  consent: ConsentServices;
  session: ResidentSession;
  serviceName(serviceId: string): Promise<string>;
  base: string;
  signedIn(req: Request, res: Response): string | undefined;
  render(req: Request, options: Omit<PageOptions, 'nav' | 'lang' | 'path'>): string;
  /** Partners offering linking by sign-in; absent: only codes. */
  redirect?: RedirectLinkDeps;
}

const MESSAGES = {
  linked: ['サービスと連携しました。', 'The service is linked.', 'status'],
  unlinked: ['連携を解除しました。', 'The link is removed.', 'status'],
  invalid: [
    'コードが違うか、使用済みか、有効期限（10分）が切れています。サービスで新しいコードを表示してください。',
    'The code is wrong, used or expired (10 minutes). Show a new code in the service.',
    'alert',
  ],
  already: [
    'このサービスとはすでに連携しています。先に今の連携を解除してください。',
    'You are already linked with this service. Remove the current link first.',
    'alert',
  ],
  cancelled: ['連携を取りやめました。', 'Linking was cancelled.', 'status'],
  'redirect-failed': [
    '連携できませんでした。もう一度「ログインして連携」からお試しください。',
    'Linking did not complete. Please start again with “Sign in to link”.',
    'alert',
  ],
  'partner-unavailable': [
    'サービスに接続できませんでした。時間をおいてお試しください。',
    'The service could not be reached. Please try again later.',
    'alert',
  ],
} as const;

export function linksRoutes(router: Router, d: LinksPageDeps): void {
  const { consent, session, base } = d;
  const csrfOk = (req: Request) => {
    if (!session.checkCsrf(req, (req.body as { csrf?: unknown } | undefined)?.csrf))
      throw new ProblemError('forbidden', { detail: 'The form is out of date. Reload the page.' });
  };

  router.get('/links', async (req, res) => {
    const resident = d.signedIn(req, res);
    if (!resident) return;
    const csrf = session.csrfFor(req);
    const links = (await consent.links(resident)).filter((l) => l.unlinkedAt === null);
    const linked = new Set(links.map((l) => l.service));
    const partners = d.redirect
      ? (await d.redirect.partners.list()).filter((p) => !linked.has(p.service))
      : [];
    const signInButtons: string[] = [];
    for (const p of partners) {
      const name = await d.serviceName(p.service).catch(() => p.service);
      signInButtons.push(
        `<li><form method="post" action="${base}/links/${encodeURIComponent(p.service)}/connect"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}"><button type="submit" class="secondary">${escapeHtml(name)}にログインして連携 <span class="en" lang="en">Sign in at ${escapeHtml(name)} to link</span></button></form></li>`,
      );
    }
    const items: string[] = [];
    for (const l of links) {
      const name = await d.serviceName(l.service).catch(() => l.service);
      items.push(`<li>
<div class="item-head"><strong>${escapeHtml(name)}</strong><span class="state state-given">${bi('連携中', 'Linked')}</span></div>
<p class="meta">${bi('連携した日時', 'Linked at')}: ${time(l.linkedAt)}・${l.method === 'oauth-redirect' ? bi('サービスへのログインで確認', 'Confirmed by signing in at the service') : bi('連携コードで確認', 'Confirmed with a link code')}</p>
<div class="actions"><form method="post" action="${base}/links/${encodeURIComponent(l.service)}/unlink"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}"><button type="submit" class="danger">連携を解除<span class="visually-hidden">：${escapeHtml(name)}</span> <span lang="en">Unlink</span></button></form></div>
</li>`);
    }
    const key = Object.keys(MESSAGES).find((k) => k === req.query['m']) as keyof typeof MESSAGES | undefined;
    const message = key
      ? `<p class="${MESSAGES[key][2] === 'status' ? 'status' : 'error'}" role="${MESSAGES[key][2]}">${bi(MESSAGES[key][0], MESSAGES[key][1])}</p>`
      : '';
    res.type('html').send(
      d.render(req, {
        title: '連携サービス',
        titleEn: 'Linked services',
        current: `${base}/links`,
        csrf,
        body: `${message}<section class="card" aria-labelledby="linked">
<h2 id="linked">${bi('連携中のサービス', 'Services you are linked with')}</h2>
${items.length > 0 ? `<ul class="items">${items.join('\n')}</ul>` : `<p>${bi('連携しているサービスはありません。', 'You are not linked with any service.')}</p>`}
</section>
${
  signInButtons.length > 0
    ? `<section class="card" aria-labelledby="signin">
<h2 id="signin">${bi('ログインして連携する', 'Sign in to link')}</h2>
<p>${bi('サービスのログイン画面に移ります。ログインすると、そのアカウントがあなたの共通IDと連携されます。サービスにはあなた専用の識別子だけが伝わります。', 'You go to the service’s sign-in page. Once you sign in, that account is linked to your common ID. The service only learns an identifier made for it.')}</p>
<ul class="items">${signInButtons.join('\n')}</ul>
</section>`
    : ''
}
<section class="card" aria-labelledby="add">
<h2 id="add">${bi('コードで連携する', 'Link with a code')}</h2>
<p>${bi('連携したいサービスにログインし、表示された8文字の連携コードを入力してください。', 'Sign in to the service, then enter the 8-character link code it shows.')}</p>
<form method="post" action="${base}/links">
<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
<label for="code">${bi('連携コード', 'Link code')}</label>
<input type="text" id="code" name="code" required autocomplete="one-time-code" inputmode="text" autocapitalize="characters" spellcheck="false" aria-describedby="code-hint" maxlength="20">
<p class="meta" id="code-hint">${bi('例：ABCD-1234（有効期限10分）', 'e.g. ABCD-1234 (valid for 10 minutes)')}</p>
<button type="submit">${bi('連携する', 'Link')}</button>
</form>
</section>`,
      }),
    );
  });

  router.post('/links', async (req, res) => {
    const resident = d.signedIn(req, res);
    if (!resident) return;
    csrfOk(req);
    const code = (req.body as { code?: unknown }).code;
    if (typeof code !== 'string' || code.length < 8 || code.length > 20)
      return res.redirect(303, `${base}/links?m=invalid`);
    try {
      await consent.link(resident, code, 'resident');
    } catch (error) {
      if (error instanceof ProblemError && error.code === 'link-code-invalid')
        return res.redirect(303, `${base}/links?m=invalid`);
      if (error instanceof ProblemError && error.code === 'already-linked')
        return res.redirect(303, `${base}/links?m=already`);
      throw error;
    }
    res.redirect(303, `${base}/links?m=linked`);
  });

  if (d.redirect)
    redirectLinkRoutes(router, {
      ...d.redirect,
      consent,
      base,
      signedIn: d.signedIn,
      checkCsrf: csrfOk,
    });

  router.post('/links/:service/unlink', async (req, res) => {
    const resident = d.signedIn(req, res);
    if (!resident) return;
    csrfOk(req);
    await consent.unlink(resident, String(req.params['service']), 'resident');
    res.redirect(303, `${base}/links?m=unlinked`);
  });
}
