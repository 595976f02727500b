/**
 * Pages for residents without the card: the sign-in section added to the card login page, the
 * sign-up form, "check your mail", the link's registration form and the result. Japanese first with
 * English, labelled fields, phone-sized; only the passkey buttons need the same-origin script.
 */
import { bilingual, escapeHtml, page } from '../interactions/page.ts';
import type { CompleteFailure } from './email_accounts.ts';
import { CATEGORIES, CATEGORY_LABELS, type Profile, type ProfileField } from './profile_fields.ts';

export const SCRIPT = '<script src="/idp/passkeys/client.js" defer></script>';

export const SIGNUP_TEXT: Record<CompleteFailure | 'INVALID' | 'THROTTLED' | 'PASSKEY', [string, string]> = {
  LINK: [
    'リンクが無効か期限切れです。もう一度登録をやり直してください。',
    'The link is invalid or expired. Please start registering again.',
  ],
  PROFILE: ['入力内容を確認してください。', 'Please check what you entered.'],
  CATEGORY: ['区分を選んでください。', 'Choose a category.'],
  EMAIL_TAKEN: ['このメールアドレスはすでに登録されています。', 'This address is already registered.'],
  TOO_SHORT: ['パスワードは10文字以上にしてください。', 'Use at least 10 characters.'],
  TOO_SIMPLE: [
    'パスワードが単純すぎます。異なる文字を組み合わせてください。',
    'The password is too simple. Mix different characters.',
  ],
  CONTAINS_EMAIL: [
    'パスワードにメールアドレスを含めないでください。',
    'Do not use your e-mail address in the password.',
  ],
  BREACHED: [
    'このパスワードは過去に漏えいしたことがあり、使えません。別のパスワードにしてください。',
    'This password has appeared in a data breach. Choose another one.',
  ],
  UNCHECKED: [
    'パスワードの安全性を確認できませんでした。しばらくしてからお試しいただくか、パスキーで登録してください。',
    'The password could not be checked just now. Try again later, or register with a passkey.',
  ],
  INVALID: [
    'メールアドレスまたはパスワードが正しくありません。',
    'The e-mail address or password is not correct.',
  ],
  THROTTLED: [
    'ログインの失敗が続いたため、しばらく受け付けを停止しています。15分ほどしてからお試しください。',
    'Too many failed sign-in attempts. Please try again in about 15 minutes.',
  ],
  PASSKEY: ['パスキーを確認できませんでした。', 'The passkey could not be verified.'],
};

const alert = (code: keyof typeof SIGNUP_TEXT | undefined) =>
  code
    ? `<div class="error" role="alert" id="error" data-code="${code}"><p>${bilingual(...SIGNUP_TEXT[code])}</p></div>`
    : '';

/** Added to the card login page: e-mail + password, passkey, and the way to sign up. */
export function residentLoginSection(base: string, uid: string, error?: 'INVALID' | 'PASSKEY'): string {
  return `<section aria-labelledby="email-h">
<h2 id="email-h">${bilingual('メールアドレスで登録済みの方', 'Registered with an e-mail address')}</h2>
${alert(error)}
<form method="post" action="${base}/password">
<label for="email">${bilingual('メールアドレス', 'E-mail address')}</label>
<input type="email" id="email" name="email" required autocomplete="username webauthn">
<label for="password">${bilingual('パスワード', 'Password')}</label>
<input type="password" id="password" name="password" required autocomplete="current-password">
<button type="submit" id="password-login">${bilingual('パスワードでログイン', 'Sign in with password')}</button>
</form>
<button type="button" class="secondary" id="passkey-login" data-passkey-login data-options="${base}/passkey/options" data-verify="${base}/passkey">${bilingual('パスキーでログイン', 'Sign in with a passkey')}</button>
<p id="passkey-status" role="status" aria-live="polite"></p>
<p><a href="/idp/signup?interaction=${encodeURIComponent(uid)}" id="signup-link">${bilingual('マイナンバーカードがない方の新規登録（メールアドレス）', 'Sign up without the My Number card (e-mail)')}</a></p>
</section>
${SCRIPT}`;
}

export function signupPage(interaction: string | undefined, error?: 'THROTTLED'): string {
  return page({
    title: 'メールアドレスで新規登録',
    titleEn: 'Sign up with your e-mail address',
    body: `${alert(error)}
<p>${bilingual('入力したメールアドレスに確認用のリンクを送ります。', 'We will send a confirmation link to this address.')}</p>
<form method="post" action="/idp/signup">
${interaction ? `<input type="hidden" name="interaction" value="${escapeHtml(interaction)}">` : ''}
<label for="email">${bilingual('メールアドレス', 'E-mail address')}</label>
<input type="email" id="email" name="email" required autocomplete="email">
<button type="submit" id="send">${bilingual('確認メールを送る', 'Send the confirmation e-mail')}</button>
</form>`,
  });
}

export function sentPage(): string {
  return page({
    title: '確認メールを送りました',
    titleEn: 'Check your e-mail',
    body: `<p id="sent">${bilingual(
      'メールに記載のリンクを24時間以内に開いて、登録を続けてください。',
      'Open the link in the e-mail within 24 hours to continue.',
    )}</p>`,
  });
}

export function registerPage(options: {
  token: string;
  email: string;
  fields: ProfileField[];
  values: Profile;
  category?: string;
  error?: CompleteFailure;
  invalid?: string[];
  invited: boolean;
}): string {
  const base = `/idp/signup/verify/${escapeHtml(options.token)}`;
  const invalid = new Set(options.invalid ?? []);
  const inputs = options.fields
    .map((f) => {
      const [ja, en] = f.spec.label;
      const bad = invalid.has(f.name);
      return `<label for="f-${f.name}">${bilingual(ja, en)}${f.required ? '' : ` <span class="en">(任意 / optional)</span>`}</label>
<input type="${f.spec.type}" id="f-${f.name}" name="${f.name}" autocomplete="${f.spec.autocomplete}" value="${escapeHtml(options.values[f.name] ?? '')}"${f.required ? ' required' : ''}${bad ? ' aria-invalid="true"' : ''}>`;
    })
    .join('\n');
  const categories = CATEGORIES.map(
    (c) =>
      `<div><input type="radio" id="cat-${c}" name="category" value="${c}" required${options.category === c ? ' checked' : ''}> <label for="cat-${c}" style="display:inline">${bilingual(...CATEGORY_LABELS[c])}</label></div>`,
  ).join('\n');
  return page({
    title: options.invited ? '利用登録の手続き' : '登録情報の入力',
    titleEn: options.invited ? 'Complete your registration' : 'Your details',
    body: `${alert(options.error)}
<p>${bilingual(`メールアドレス：${options.email}`, `E-mail address: ${options.email}`)}</p>
<form method="post" action="${base}" id="signup-form">
${inputs}
<fieldset><legend>${bilingual('区分', 'Category')}</legend>
${categories}
</fieldset>
<h2>${bilingual('ログイン方法', 'How you will sign in')}</h2>
<label for="password">${bilingual('パスワード（10文字以上）', 'Password (10 characters or more)')}</label>
<input type="password" id="password" name="password" autocomplete="new-password" minlength="10">
<button type="submit" id="register-password">${bilingual('パスワードで登録', 'Register with a password')}</button>
</form>
<button type="button" class="secondary" id="register-passkey" form="signup-form" data-passkey-register data-options="${base}/passkey/options" data-verify="${base}/passkey">${bilingual('パスキーで登録（パスワード不要）', 'Register with a passkey (no password)')}</button>
<p id="passkey-status" role="status" aria-live="polite"></p>
${SCRIPT}`,
  });
}

export function donePage(interaction: string | null): string {
  return page({
    title: '登録が完了しました',
    titleEn: 'You are registered',
    body: `<p id="done">${bilingual('登録したメールアドレスとパスワード、またはパスキーでログインできます。', 'You can now sign in with your e-mail address and password, or your passkey.')}</p>
${
  interaction
    ? `<p><a href="/idp/interaction/${encodeURIComponent(interaction)}" id="continue">${bilingual('ログインに進む', 'Continue to sign in')}</a></p>`
    : ''
}`,
  });
}

export function linkInvalidPage(): string {
  return page({
    title: 'リンクが無効です',
    titleEn: 'This link is not valid',
    body: alert('LINK'),
  });
}
