/** Pages oidc-provider itself renders: errors and RP-initiated logout. */
import { bilingual, escapeHtml, page } from './page.ts';

export function renderErrorPage(error: string, description: string | undefined): string {
  return page({
    title: 'エラーが発生しました',
    titleEn: 'Something went wrong',
    body: `<div class="error" role="alert"><p>${bilingual(
      'ログイン要求を処理できませんでした。最初からやり直してください。',
      'The sign-in request could not be processed. Please start again.',
    )}</p>
<p><code>${escapeHtml(error)}</code>${description ? ` — <span lang="en">${escapeHtml(description)}</span>` : ''}</p></div>`,
  });
}

/** `form` is oidc-provider's hidden form (with its xsrf token); we add the buttons to it. */
export function renderLogoutPrompt(form: string): string {
  return page({
    title: 'ログアウトしますか？',
    titleEn: 'Do you want to sign out?',
    body: `${form}
<p>${bilingual('つなぐからログアウトします。', 'You will be signed out of Tsunagu.')}</p>
<button type="submit" form="op.logoutForm" name="logout" value="yes">${bilingual('ログアウトする', 'Sign out')}</button>
<button type="submit" form="op.logoutForm" class="secondary">${bilingual('ログアウトしない', 'Stay signed in')}</button>`,
  });
}

export function renderLogoutSuccess(): string {
  return page({
    title: 'ログアウトしました',
    titleEn: 'You have signed out',
    body: `<p>${bilingual('ブラウザを閉じても構いません。', 'You may close this window.')}</p>`,
  });
}
