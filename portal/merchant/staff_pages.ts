/**
 * The admin console's page for the merchant directory (`/admin/directory`, role `directory`):
 * merchants' pending entry changes side by side with what is public now, approve or reject with a
 * reason, and issue a merchant console account (its password is shown once, on that answer only).
 *
 *   GET  /admin/directory                 pending changes + the account form
 *   POST /admin/directory/changes/:id/approve
 *   POST /admin/directory/changes/:id/reject    {reason}
 *   POST /admin/directory/accounts              {merchant, loginId}
 */
import express, { type Request, type Response } from 'express';
import { ProblemError } from '../../core/index.ts';
import { csrfField, errorLine, sendAdminPage, staffMember, statusLine } from '../admin/layout.ts';
import { category } from '../public/categories.ts';
import type { DirectoryStore, Shop, ShopChange, ShopProfile } from '../public/directory_store.ts';
import { bi, escapeHtml, time } from '../shared/html.ts';
import type { PortalContext } from '../shared/section.ts';
import type { MerchantAccounts } from './merchant_accounts.ts';

export const DIRECTORY_STAFF_BASE = '/admin/directory';
export const DIRECTORY_ROLE = 'directory';

const LABELS: ReadonlyArray<[keyof ShopProfile, string, string]> = [
  ['name', '店名', 'Name'],
  ['nameKana', 'ふりがな', 'Kana'],
  ['nameEn', '英語名', 'English name'],
  ['category', '業種', 'Category'],
  ['area', '地区', 'District'],
  ['postalCode', '郵便番号', 'Postal code'],
  ['address', '住所', 'Address'],
  ['hours', '営業時間', 'Hours'],
  ['phone', '電話', 'Phone'],
  ['url', 'ウェブサイト', 'Website'],
  ['description', '紹介', 'About'],
  ['lat', '緯度', 'Latitude'],
  ['lon', '経度', 'Longitude'],
];

const DONE: Record<string, [string, string]> = {
  approved: ['承認して公開しました。', 'Approved and published.'],
  rejected: ['差し戻しました。', 'Rejected.'],
};

function shown(key: keyof ShopProfile, value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  if (key === 'category') return category(String(value)).ja;
  return String(value);
}

function changeCard(change: ShopChange, shop: Shop | undefined, res: Response): string {
  const rows = LABELS.map(([key, ja, en]) => {
    const now = shop ? shop[key] : null;
    const next = change.profile[key];
    const differs = (now ?? null) !== (next ?? null);
    return `<tr${differs ? ' class="changed"' : ''}><th scope="row">${bi(ja, en)}${differs ? ' <strong>（変更 <span lang="en">changed</span>）</strong>' : ''}</th>
<td>${escapeHtml(shown(key, now))}</td><td>${escapeHtml(shown(key, next))}</td></tr>`;
  }).join('\n');
  const id = escapeHtml(change.id);
  return `<section class="card" aria-labelledby="change-${id}">
<h2 id="change-${id}">${escapeHtml(shop?.ledgerName ?? change.merchantId)} <span class="en" lang="en">merchant ${escapeHtml(change.merchantId)} · change ${id}</span></h2>
<p class="hint">${bi('申請', 'Submitted')}: ${time(change.submittedAt)}</p>
<div class="table-wrap" role="region" aria-labelledby="change-${id}" tabindex="0"><table>
<caption>${bi('掲載情報の変更', 'Entry change')}</caption>
<thead><tr><th scope="col">${bi('項目', 'Field')}</th><th scope="col">${bi('公開中', 'Public now')}</th><th scope="col">${bi('申請内容', 'Proposed')}</th></tr></thead>
<tbody>${rows}</tbody></table></div>
<div class="actions">
<form method="post" action="${DIRECTORY_STAFF_BASE}/changes/${id}/approve">${csrfField(res)}<button type="submit">${bi('承認して公開', 'Approve and publish')}</button></form>
</div>
<form method="post" action="${DIRECTORY_STAFF_BASE}/changes/${id}/reject">${csrfField(res)}
<label for="reason-${id}">${bi('差し戻しの理由（加盟店に表示されます）', 'Reason for rejecting (the merchant sees it)')}</label>
<textarea id="reason-${id}" name="reason" required maxlength="1000"></textarea>
<div class="actions"><button type="submit" class="secondary">${bi('差し戻す', 'Reject')}</button></div>
</form>
</section>`;
}

export function directoryStaffPages(p: PortalContext, store: DirectoryStore, accounts: MerchantAccounts) {
  const router = express.Router();
  router.use(p.requireStaff(DIRECTORY_ROLE));

  async function overview(req: Request, res: Response, extra = '', status = 200): Promise<void> {
    const pending = await store.changes({ status: 'pending', limit: 100 });
    const cards = await Promise.all(
      pending.map(async (c) => changeCard(c, await store.shop(c.merchantId, { includeInactive: true }), res)),
    );
    const done = DONE[String(req.query['done'] ?? '')];
    sendAdminPage(req, res, {
      title: '加盟店掲載の承認',
      titleEn: 'Shop directory approvals',
      status,
      body: `${done ? statusLine(...done) : ''}${extra}
<p>${bi('加盟店が申請した掲載情報の変更です。承認すると公開サイトの店舗ページに反映されます。', 'Changes merchants submitted to their directory entry. Approving publishes them on the public site.')}</p>
<h2>${bi(`承認待ち（${pending.length}件）`, `Waiting (${pending.length})`)}</h2>
${cards.length ? cards.join('\n') : `<p>${bi('承認待ちの変更はありません。', 'Nothing is waiting.')}</p>`}
<h2>${bi('加盟店ログインの発行', 'Issue a merchant sign-in')}</h2>
<form method="post" action="${DIRECTORY_STAFF_BASE}/accounts">${csrfField(res)}
<label for="merchant">${bi('加盟店ID', 'Merchant ID')}</label><input id="merchant" name="merchant" type="text" required>
<label for="loginId">${bi('ログインID（半角英小文字・数字・.-_ 3〜64文字）', 'Login ID (a–z, 0–9, . - _; 3–64)')}</label>
<input id="loginId" name="loginId" type="text" required pattern="[a-z0-9][a-z0-9._\\-]{2,63}" autocapitalize="none">
<div class="actions"><button type="submit">${bi('発行する', 'Issue')}</button></div>
</form>`,
    });
  }

  router.get('/', (req, res) => overview(req, res));

  for (const decision of ['approve', 'reject'] as const) {
    router.post(`/changes/:id/${decision}`, async (req, res) => {
      const actor = `staff:${staffMember(res).staffId}`;
      const reason = String((req.body as { reason?: unknown }).reason ?? '').trim();
      try {
        if (decision === 'reject' && (reason === '' || reason.length > 1000))
          throw new ProblemError('validation-failed', { detail: 'reason is required' });
        await store.decide(
          req.params['id'] as string,
          decision,
          actor,
          decision === 'reject' ? reason : undefined,
        );
      } catch (error) {
        if (!(error instanceof ProblemError) || error.status >= 500) throw error;
        return overview(
          req,
          res,
          errorLine(
            error.code === 'validation-failed'
              ? '差し戻しの理由を入力してください。'
              : 'この変更はすでに処理されたか、古くなっています。',
            error.code === 'validation-failed'
              ? 'Enter a reason.'
              : 'This change was already decided or is out of date.',
          ),
          error.status,
        );
      }
      res.redirect(303, `${DIRECTORY_STAFF_BASE}?done=${decision === 'approve' ? 'approved' : 'rejected'}`);
    });
  }

  router.post('/accounts', async (req, res) => {
    const body = req.body as { merchant?: unknown; loginId?: unknown };
    const merchant = String(body.merchant ?? '').trim();
    const loginId = String(body.loginId ?? '').trim();
    if (!/^[a-z0-9][a-z0-9._-]{2,63}$/.test(loginId) || merchant === '' || merchant.length > 100)
      return overview(
        req,
        res,
        errorLine('加盟店IDとログインIDを確認してください。', 'Check the merchant ID and login ID.'),
        400,
      );
    try {
      const issued = await accounts.issue(
        { merchantId: merchant, loginId },
        `staff:${staffMember(res).staffId}`,
      );
      return overview(
        req,
        res,
        `<div class="status" role="status"><p>${bi('発行しました。このパスワードは今だけ表示されます。加盟店に安全な方法で伝えてください。', 'Issued. The password is shown only now; pass it on to the merchant safely.')}</p>
<p>${bi('ログインID', 'Login ID')}: <code>${escapeHtml(issued.account.loginId)}</code><br>${bi('パスワード', 'Password')}: <code id="issued-password">${escapeHtml(issued.password)}</code></p></div>`,
        201,
      );
    } catch (error) {
      if (!(error instanceof ProblemError) || error.status >= 500) throw error;
      return overview(
        req,
        res,
        errorLine(
          error.code === 'conflict'
            ? 'このログインIDは使われています。'
            : 'この加盟店IDは登録されていません。',
          error.code === 'conflict' ? 'That login ID is taken.' : 'No such merchant.',
        ),
        error.status,
      );
    }
  });

  return router;
}
