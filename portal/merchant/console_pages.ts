/**
 * The merchant console at `/merchant` (server-rendered, no scripts):
 *
 *   GET  /            sign-in form, or the shop's directory entry: as published, the change
 *                     waiting for staff (or the last decision with its reason), and the edit form
 *   POST /login       login id + password → session cookie (locked after 5 failures for 15 min)
 *   POST /entry       submit a change of the entry (CSRF); staff approve it before it is public
 *   GET  /password    change the password (required after an issued or reset password)
 *   POST /password
 *   POST /logout
 */
import express, { type Request, type Response } from 'express';
import { ProblemError } from '../../core/index.ts';
import { CATEGORIES } from '../public/categories.ts';
import type { DirectoryStore, ShopChange, ShopProfile } from '../public/directory_store.ts';
import { bi, escapeHtml, publicPage, time } from '../public/layout.ts';
import type { PublicSiteSettings } from '../public/settings.ts';
import { type MerchantAccount, type MerchantAccounts, MIN_PASSWORD } from './merchant_accounts.ts';
import type { MerchantSession } from './merchant_session.ts';

export const MERCHANT_BASE = '/merchant';

interface Deps {
  accounts: MerchantAccounts;
  session: MerchantSession;
  store: DirectoryStore;
  settings: PublicSiteSettings;
  publicUrl: string;
}

interface FieldError {
  pointer: string;
  message: string;
}

const FIELDS: ReadonlyArray<{
  key: keyof ShopProfile;
  ja: string;
  en: string;
  kind?: 'textarea' | 'category';
  hint?: string;
  autocomplete?: string;
}> = [
  { key: 'name', ja: '店名', en: 'Shop name', autocomplete: 'organization' },
  { key: 'nameKana', ja: '店名（ふりがな）', en: 'Name in kana' },
  { key: 'nameEn', ja: '店名（英語）', en: 'Name in English' },
  { key: 'category', ja: '業種', en: 'Category', kind: 'category' },
  { key: 'area', ja: '地区（例: 駅前）', en: 'District (e.g. station area)' },
  { key: 'postalCode', ja: '郵便番号', en: 'Postal code', hint: '123-4567', autocomplete: 'postal-code' },
  { key: 'address', ja: '住所', en: 'Address', autocomplete: 'street-address' },
  { key: 'hours', ja: '営業時間', en: 'Opening hours', kind: 'textarea' },
  { key: 'phone', ja: '電話番号', en: 'Phone', autocomplete: 'tel' },
  { key: 'url', ja: 'ウェブサイト', en: 'Website', autocomplete: 'url' },
  { key: 'description', ja: 'お店の紹介', en: 'About the shop', kind: 'textarea' },
  { key: 'lat', ja: '緯度（地図の位置）', en: 'Latitude (map position)', hint: '33.9196' },
  { key: 'lon', ja: '経度（地図の位置）', en: 'Longitude (map position)', hint: '133.1812' },
];

const FORM_STYLE = `<style>
  form.entry input, form.entry select, form.entry textarea, form.signin input { width: 100%; font: inherit; padding: .5rem;
    min-height: 44px; border: 2px solid #6b7280; border-radius: .375rem; background: #fff; color: #1a1a1a; }
  form.entry textarea { min-height: 6rem; }
  form.entry [aria-invalid=true] { border-color: #a4161a; }
  .field { margin-bottom: .75rem; }
  .field-error { color: #a4161a; font-weight: 600; margin: .125rem 0; }
  .status { border-left: 4px solid #0f5132; background: #e8f5ee; padding: .75rem; margin-bottom: 1rem; }
  .error { border-left: 4px solid #a4161a; background: #fef3f2; padding: .75rem; margin-bottom: 1rem; }
  .pending { border-left: 4px solid #6b4a00; background: #fff7e0; padding: .75rem; margin-bottom: 1rem; }
</style>`;

function shell(d: Deps, title: string, titleEn: string, body: string): string {
  return publicPage({
    site: d.settings.siteName,
    title,
    titleEn,
    canonical: `${d.publicUrl}${MERCHANT_BASE}`,
    description: '加盟店の方のページ / For merchants',
    current: null,
    body: `${FORM_STYLE}${body}`,
  });
}

function send(res: Response, status: number, body: string): void {
  res.status(status).setHeader('Cache-Control', 'no-store');
  res.type('html').send(body);
}

function signInPage(d: Deps, error?: string): string {
  return shell(
    d,
    '加盟店ログイン',
    'Merchant sign-in',
    `${error ? `<p class="error" role="alert">${error}</p>` : ''}
<p>${bi('市から発行されたログインIDとパスワードを入力してください。', 'Enter the login ID and password the city issued to you.')}</p>
<form class="signin" method="post" action="${MERCHANT_BASE}/login">
<div class="field"><label for="loginId">${bi('ログインID', 'Login ID')}</label>
<input id="loginId" name="loginId" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required></div>
<div class="field"><label for="password">${bi('パスワード', 'Password')}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required></div>
<button type="submit">ログイン <span lang="en">Sign in</span></button>
</form>
<p class="meta">${bi('ログインIDをお持ちでない加盟店の方は、市の担当窓口にお問い合わせください。', 'Merchants without a login ID: please contact the city office.')}</p>`,
  );
}

function fieldValue(profile: Partial<ShopProfile> | Record<string, unknown>, key: string): string {
  const v = (profile as Record<string, unknown>)[key];
  return v === null || v === undefined ? '' : String(v);
}

function entryForm(csrf: string, values: Record<string, unknown>, errors: FieldError[]): string {
  const errorFor = (key: string) => errors.find((e) => e.pointer === `/${key}`);
  const fields = FIELDS.map((f) => {
    const err = errorFor(f.key);
    const describedBy = [f.hint ? `${f.key}-hint` : '', err ? `${f.key}-error` : '']
      .filter(Boolean)
      .join(' ');
    const attrs = `id="${f.key}" name="${f.key}"${describedBy ? ` aria-describedby="${describedBy}"` : ''}${err ? ' aria-invalid="true"' : ''}`;
    const value = fieldValue(values, f.key);
    const control =
      f.kind === 'textarea'
        ? `<textarea ${attrs}>${escapeHtml(value)}</textarea>`
        : f.kind === 'category'
          ? `<select ${attrs}><option value="">選択してください (Choose)</option>${CATEGORIES.map((c) => `<option value="${c.code}"${value === c.code ? ' selected' : ''}>${escapeHtml(c.ja)} (${escapeHtml(c.en)})</option>`).join('')}</select>`
          : `<input ${attrs} type="text" value="${escapeHtml(value)}"${f.autocomplete ? ` autocomplete="${f.autocomplete}"` : ''}${f.key === 'lat' || f.key === 'lon' ? ' inputmode="decimal"' : ''}>`;
    return `<div class="field"><label for="${f.key}">${bi(f.ja, f.en)}</label>
${f.hint ? `<p class="meta" id="${f.key}-hint">${bi('例', 'e.g.')}: ${escapeHtml(f.hint)}</p>` : ''}
${err ? `<p class="field-error" id="${f.key}-error">${escapeHtml(err.message)}</p>` : ''}
${control}</div>`;
  }).join('\n');
  return `<form class="entry" method="post" action="${MERCHANT_BASE}/entry" novalidate>
<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
${fields}
<button type="submit">${bi('変更を申請する', 'Submit the change for approval')}</button>
</form>`;
}

function changeStatus(change: ShopChange | undefined): string {
  if (!change) return '';
  if (change.status === 'pending')
    return `<p class="pending" role="status">${bi('変更を申請中です。市の担当者が確認すると公開されます。', 'Your change is waiting for approval by city staff.')} (${time(change.submittedAt)})</p>`;
  if (change.status === 'approved')
    return `<p class="status" role="status">${bi('前回の変更は承認され、公開されています。', 'Your last change was approved and is public.')} (${time(change.decidedAt!)})</p>`;
  if (change.status === 'rejected')
    return `<div class="error" role="status"><p>${bi('前回の変更は承認されませんでした。', 'Your last change was not approved.')} (${time(change.decidedAt!)})</p>
<p>${bi('理由', 'Reason')}: ${escapeHtml(change.reason ?? '')}</p></div>`;
  return '';
}

async function consolePage(
  d: Deps,
  req: Request,
  account: MerchantAccount,
  opts: { values?: Record<string, unknown>; errors?: FieldError[]; notice?: string } = {},
): Promise<string> {
  const shop = await d.store.shop(account.merchantId, { includeInactive: true });
  if (!shop) throw new ProblemError('shop-not-found', { detail: `No merchant ${account.merchantId}.` });
  const [last] = await d.store.changes({ merchantId: account.merchantId, limit: 1 });
  const latest = last?.status === 'superseded' ? undefined : last;
  const values =
    opts.values ??
    (latest?.status === 'pending' ? latest.profile : { ...shop, name: shop.name ?? shop.ledgerName });
  const csrf = d.session.csrfFor(req);
  const errors = opts.errors ?? [];
  return shell(
    d,
    '掲載情報の編集',
    'Your directory entry',
    `${opts.notice ?? ''}
${errors.length ? `<div class="error" role="alert"><p>${bi('入力内容を確認してください。', 'Please check these fields.')}</p><ul>${errors.map((e) => `<li><a href="#${escapeHtml(e.pointer.slice(1))}">${escapeHtml(FIELDS.find((f) => `/${f.key}` === e.pointer)?.ja ?? e.pointer)}</a>: ${escapeHtml(e.message)}</li>`).join('')}</ul></div>` : ''}
${changeStatus(latest)}
<p>${bi(`${shop.ledgerName}（加盟店ID ${shop.merchantId}）`, `Merchant ${shop.merchantId}`)}</p>
<p>${shop.active ? `<a href="/shops/${encodeURIComponent(shop.merchantId)}">${bi('公開中の掲載ページを見る', 'See your public page')}</a>` : bi('現在、一覧には掲載されていません。', 'Not listed in the directory at the moment.')}</p>
<section class="card" aria-labelledby="edit-h">
<h2 id="edit-h">${bi('掲載情報', 'Directory entry')}</h2>
${entryForm(csrf, values as Record<string, unknown>, errors)}
</section>
<p><a href="${MERCHANT_BASE}/password">${bi('パスワードを変更する', 'Change the password')}</a></p>
<form method="post" action="${MERCHANT_BASE}/logout"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
<button type="submit">ログアウト <span lang="en">Sign out</span></button></form>`,
  );
}

function passwordPage(d: Deps, req: Request, account: MerchantAccount, error?: string): string {
  return shell(
    d,
    'パスワードの変更',
    'Change the password',
    `${error ? `<p class="error" role="alert">${error}</p>` : ''}
${account.mustChange ? `<p class="pending">${bi('発行されたパスワードを、ご自身のパスワードに変更してください。', 'Please replace the issued password with your own.')}</p>` : ''}
<form class="signin" method="post" action="${MERCHANT_BASE}/password">
<input type="hidden" name="csrf" value="${escapeHtml(d.session.csrfFor(req))}">
<input type="text" name="username" value="${escapeHtml(account.loginId)}" autocomplete="username" hidden>
<div class="field"><label for="current">${bi('現在のパスワード', 'Current password')}</label>
<input id="current" name="current" type="password" autocomplete="current-password" required></div>
<div class="field"><label for="next">${bi(`新しいパスワード（${MIN_PASSWORD}文字以上）`, `New password (at least ${MIN_PASSWORD} characters)`)}</label>
<input id="next" name="next" type="password" autocomplete="new-password" minlength="${MIN_PASSWORD}" required></div>
<button type="submit">変更する <span lang="en">Change</span></button>
</form>`,
  );
}

export function merchantConsole(d: Deps): express.Router {
  const router = express.Router();

  /** The signed-in account, if the cookie is valid and the account still has that credential. */
  async function signedIn(req: Request): Promise<MerchantAccount | undefined> {
    const s = d.session.read(req);
    if (!s) return undefined;
    const account = await d.accounts.byId(s.a);
    return account && !account.disabled && account.credentialVersion === s.v ? account : undefined;
  }

  function requireCsrf(req: Request): void {
    if (!d.session.checkCsrf(req, (req.body as { csrf?: unknown } | undefined)?.csrf))
      throw new ProblemError('forbidden', { detail: 'The form is out of date. Reload the page.' });
  }

  router.get('/', async (req, res) => {
    const account = await signedIn(req);
    if (!account) return send(res, 200, signInPage(d));
    if (account.mustChange) return res.redirect(303, `${MERCHANT_BASE}/password`);
    const notice =
      req.query['submitted'] === '1'
        ? `<p class="status" role="status">${bi('変更を申請しました。', 'Your change was submitted.')}</p>`
        : undefined;
    send(res, 200, await consolePage(d, req, account, notice ? { notice } : {}));
  });

  router.post('/login', async (req, res) => {
    const body = (req.body ?? {}) as { loginId?: unknown; password?: unknown };
    if (typeof body.loginId !== 'string' || typeof body.password !== 'string' || body.loginId.length > 64)
      return send(
        res,
        400,
        signInPage(d, bi('ログインIDとパスワードを入力してください。', 'Enter your login ID and password.')),
      );
    const result = await d.accounts.authenticate(body.loginId, body.password);
    if (!result.ok)
      return send(
        res,
        401,
        signInPage(
          d,
          result.reason === 'locked'
            ? bi(
                'ログインに続けて失敗したため、しばらくログインできません。15分後にお試しください。',
                'Too many failed attempts. Try again in 15 minutes.',
              )
            : bi('ログインIDまたはパスワードが違います。', 'The login ID or password is wrong.'),
        ),
      );
    d.session.start(res, result.account);
    res.redirect(303, result.account.mustChange ? `${MERCHANT_BASE}/password` : MERCHANT_BASE);
  });

  router.post('/entry', async (req, res) => {
    const account = await signedIn(req);
    if (!account)
      return send(res, 401, signInPage(d, bi('もう一度ログインしてください。', 'Please sign in again.')));
    requireCsrf(req);
    const { csrf: _csrf, ...values } = (req.body ?? {}) as Record<string, unknown>;
    try {
      await d.store.submitChange(account.merchantId, values, `merchant-account:${account.id}`);
    } catch (error) {
      if (error instanceof ProblemError && error.code === 'validation-failed') {
        const errors = (error.extensions['errors'] as FieldError[] | undefined) ?? [];
        return send(res, 422, await consolePage(d, req, account, { values, errors }));
      }
      throw error;
    }
    res.redirect(303, `${MERCHANT_BASE}?submitted=1`);
  });

  router.get('/password', async (req, res) => {
    const account = await signedIn(req);
    if (!account) return res.redirect(303, MERCHANT_BASE);
    send(res, 200, passwordPage(d, req, account));
  });

  router.post('/password', async (req, res) => {
    const account = await signedIn(req);
    if (!account)
      return send(res, 401, signInPage(d, bi('もう一度ログインしてください。', 'Please sign in again.')));
    requireCsrf(req);
    const body = (req.body ?? {}) as { current?: unknown; next?: unknown };
    const result = await d.accounts.changePassword(
      account.id,
      String(body.current ?? ''),
      String(body.next ?? ''),
    );
    if (result === 'wrong-password')
      return send(
        res,
        400,
        passwordPage(d, req, account, bi('現在のパスワードが違います。', 'The current password is wrong.')),
      );
    if (result === 'weak')
      return send(
        res,
        400,
        passwordPage(
          d,
          req,
          account,
          bi(
            `新しいパスワードは${MIN_PASSWORD}文字以上で、今のものと違うものにしてください。`,
            `Use at least ${MIN_PASSWORD} characters, different from the current one.`,
          ),
        ),
      );
    d.session.start(res, result);
    res.redirect(303, MERCHANT_BASE);
  });

  router.post('/logout', async (req, res) => {
    requireCsrf(req);
    d.session.end(res);
    res.redirect(303, MERCHANT_BASE);
  });

  return router;
}
