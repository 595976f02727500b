/**
 * Our login and consent pages for the OpenID provider (its `interactions.url`):
 *
 *   GET  /idp/interaction/:uid           the page for the pending prompt (login or consent)
 *   POST /idp/interaction/:uid/login     everyday login: the card's user-authentication certificate
 *                                        and its signature over the page's one-time nonce
 *   POST /idp/interaction/:uid/enroll    first registration (身元確認): signing certificate (+ the
 *                                        user-authentication certificate) over the same nonce
 *   POST /idp/interaction/:uid/consent   the claims the resident agrees to share
 *   POST /idp/interaction/:uid/abort     the resident cancels: access_denied back to the client
 *
 * The card signs through a card-reader or phone app outside this repository; it pastes (or posts)
 * the certificate and signature, base64-encoded, into the form.
 */
import { createHash } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import type { ModuleContext } from '../../core/index.ts';
import type { Federation } from '../federation/upstream_federation.ts';
import type { IdentityProofing, ProofingFailure } from '../jpki/identity_proofing.ts';
import { ACR, meetsAcr, STAFF_PREFIX } from '../provider/create_provider.ts';
import type { ResidentSignIn } from '../signup/login_routes.ts';
import type { StaffAccounts, StaffFailure } from '../staff/staff_accounts.ts';
import type { LoginThrottle } from './login_throttle.ts';
import { bilingual, escapeHtml, page } from './page.ts';

const CLAIM_LABELS: Record<string, [string, string]> = {
  name: ['氏名', 'Name'],
  birthdate: ['生年月日', 'Date of birth'],
  gender: ['性別', 'Gender'],
  address: ['住所', 'Address'],
  verified_claims: [
    'マイナンバーカードで確認済みであることの証明',
    'Proof of verification with the My Number card',
  ],
};
const PROFILE_CLAIMS = ['name', 'birthdate', 'gender', 'address'];

type LoginFailure =
  ProofingFailure | 'UPSTREAM_ERROR' | 'STATE' | 'THROTTLED' | 'ACR_TOO_LOW' | 'PASSWORD' | 'PASSKEY';

const FAILURE_TEXT: Record<LoginFailure, [string, string]> = {
  PASSWORD: [
    'メールアドレスまたはパスワードが正しくありません。',
    'The e-mail address or password is not correct.',
  ],
  PASSKEY: ['パスキーを確認できませんでした。', 'The passkey could not be verified.'],
  ACR_TOO_LOW: [
    'このサービスでは、より確実な本人確認が必要です。署名用電子証明書で本人確認してください。',
    'This service needs a stronger identity check. Verify with your digital-signature certificate.',
  ],
  THROTTLED: [
    'ログインの失敗が続いたため、しばらく受け付けを停止しています。15分ほどしてからお試しください。',
    'Too many failed sign-in attempts. Please try again in about 15 minutes.',
  ],
  UPSTREAM_ERROR: [
    '連携先でのログインを完了できませんでした。もう一度お試しください。',
    'Signing in with the other provider did not complete. Please try again.',
  ],
  STATE: [
    '連携先からの応答が無効か期限切れです。もう一度お試しください。',
    'The answer from the other provider is invalid or expired. Please try again.',
  ],
  NONCE: [
    '確認用の文字列が無効か期限切れです。新しい文字列で署名してください。',
    'The challenge is invalid or expired. Sign the new one.',
  ],
  NOT_ENROLLED: [
    'このカードは登録されていません。先に「はじめての方」から登録してください。',
    'This card is not registered yet. Register first.',
  ],
  REVIEW: [
    '同じ方の登録がすでにある可能性があります。窓口で確認しますのでお問い合わせください。',
    'A registration for the same person may already exist. Staff will review it; please contact the office.',
  ],
  MISMATCH: [
    '2枚の証明書が別の方のものとして登録されています。窓口にお問い合わせください。',
    'The two certificates belong to different registrations. Please contact the office.',
  ],
  UNSUPPORTED: ['証明書を読み取れませんでした。', 'The certificate could not be read.'],
  PROFILE: ['証明書の種類が正しくありません。', 'This is not the expected kind of certificate.'],
  EXPIRED: ['証明書の有効期限が切れています。', 'The certificate has expired or is not yet valid.'],
  CHAIN: [
    '信頼できる発行元の証明書ではありません。',
    'The certificate was not issued by a trusted authority.',
  ],
  KEY_USAGE: ['この証明書は署名に使えません。', 'This certificate cannot be used for signing.'],
  SIGNATURE: ['署名を確認できませんでした。', 'The signature could not be verified.'],
  REVOKED: ['証明書は失効しています。', 'The certificate has been revoked.'],
  REVOCATION_UNKNOWN: [
    '証明書の失効状況を確認できませんでした。時間をおいてお試しください。',
    'The revocation status could not be checked. Try again later.',
  ],
};

function decode(value: unknown): Uint8Array | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  if (!text || !/^[A-Za-z0-9+/=_-]+$/.test(text)) return undefined;
  return Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
}

function textarea(id: string, ja: string, en: string, required: boolean): string {
  return `<label for="${id}">${bilingual(ja, en)}${required ? '' : ` <span class="en">(${escapeHtml('任意 / optional')})</span>`}</label>
<textarea id="${id}" name="${id}" ${required ? 'required aria-required="true"' : ''} spellcheck="false" autocomplete="off"></textarea>`;
}

export function interactionRoutes(options: {
  ctx: ModuleContext;
  provider: () => Provider;
  proofing: IdentityProofing;
  federation: Federation;
  throttle: LoginThrottle;
  staff: StaffAccounts;
  isStaffConsole: (clientId: string) => Promise<boolean>;
  minimumAcrOf: (clientId: string) => Promise<string | undefined>;
  /** Sign-in without the card (e-mail + password, passkeys) and raising to card level. */
  resident?: ResidentSignIn;
}): { router: express.Router } {
  const { proofing, federation } = options;
  const router = express.Router();
  router.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  const loginPage = async (uid: string, clientName: string, error?: LoginFailure) => {
    const { nonce } = await proofing.issueNonce(uid);
    const base = `/idp/interaction/${escapeHtml(uid)}`;
    const alert = error
      ? `<div class="error" role="alert" id="error" data-code="${error}"><p>${bilingual(...FAILURE_TEXT[error])}</p></div>`
      : '';
    return page({
      title: 'マイナンバーカードでログイン',
      titleEn: 'Sign in with your My Number card',
      body: `${alert}
<p>${bilingual(`「${clientName}」を利用するためにログインします。`, `Sign in to use “${clientName}”.`)}</p>
<p>${bilingual('カード読み取りアプリで、次の確認用文字列に署名してください（5分間有効）。', 'Use your card-reader app to sign this one-time challenge (valid for 5 minutes).')}</p>
<code class="nonce" id="nonce">${escapeHtml(nonce)}</code>
<section aria-labelledby="login-h">
<h2 id="login-h">${bilingual('登録済みの方', 'Registered residents')}</h2>
<form method="post" action="${base}/login">
<input type="hidden" name="nonce" value="${escapeHtml(nonce)}">
${textarea('authCertificate', '利用者証明用電子証明書', 'User-authentication certificate', true)}
${textarea('authSignature', '署名値', 'Signature', true)}
<button type="submit" id="login">${bilingual('ログイン', 'Sign in')}</button>
</form>
</section>
<section aria-labelledby="enroll-h">
<h2 id="enroll-h">${bilingual('はじめての方（本人確認）', 'First time (identity verification)')}</h2>
<form method="post" action="${base}/enroll">
<input type="hidden" name="nonce" value="${escapeHtml(nonce)}">
${textarea('signCertificate', '署名用電子証明書', 'Digital-signature certificate', true)}
${textarea('signSignature', '署名用電子証明書による署名値', 'Signature with the digital-signature certificate', true)}
${textarea('enrollAuthCertificate', '利用者証明用電子証明書', 'User-authentication certificate', false)}
${textarea('enrollAuthSignature', '利用者証明用電子証明書による署名値', 'Signature with the user-authentication certificate', false)}
<button type="submit" id="enroll">${bilingual('本人確認して登録', 'Verify and register')}</button>
</form>
</section>
${upstreamSection(base)}
${options.resident?.section(base, uid) ?? ''}
<form method="post" action="${base}/abort">
<button type="submit" class="secondary" id="cancel">${bilingual('キャンセル', 'Cancel')}</button>
</form>`,
    });
  };

  const upstreamSection = (base: string) => {
    const upstreams = federation.upstreams();
    if (upstreams.length === 0) return '';
    const buttons = upstreams
      .map(
        (u) => `<form method="post" action="${base}/federate">
<input type="hidden" name="upstream" value="${escapeHtml(u.id)}">
<button type="submit" class="secondary" id="upstream-${escapeHtml(u.id)}">${bilingual(`${u.label.ja}でログイン`, `Sign in with ${u.label.en}`)}</button>
</form>`,
      )
      .join('\n');
    return `<section aria-labelledby="upstream-h">
<h2 id="upstream-h">${bilingual('ほかの本人確認済みIDでログイン', 'Sign in with another verified ID')}</h2>
${buttons}
</section>`;
  };

  const STAFF_TEXT: Record<StaffFailure, [string, string]> = {
    INVALID: [
      'ユーザー名、パスワード、または確認コードが正しくありません。',
      'The username, password or code is not correct.',
    ],
    LOCKED: [
      '失敗が続いたため、このアカウントは一時的にロックされています。',
      'This account is temporarily locked after repeated failures.',
    ],
    IP_NOT_ALLOWED: [
      'この場所からは職員ログインできません。',
      'Staff sign-in is not allowed from this network.',
    ],
    PASSWORD_EXPIRED: [
      'パスワードの有効期限（180日）が切れています。新しいパスワードを設定してください。',
      'Your password has expired (180 days). Set a new one.',
    ],
  };

  const staffLoginPage = (uid: string, clientName: string, error?: StaffFailure | 'THROTTLED') => {
    const base = `/idp/interaction/${escapeHtml(uid)}`;
    const text = error === 'THROTTLED' ? FAILURE_TEXT.THROTTLED : error ? STAFF_TEXT[error] : undefined;
    const field = (id: string, ja: string, en: string, type: string, extra = '') =>
      `<label for="${id}">${bilingual(ja, en)}</label><input type="${type}" id="${id}" name="${id}" ${extra}>`;
    return page({
      title: '職員ログイン',
      titleEn: 'Staff sign-in',
      body: `${text ? `<div class="error" role="alert" id="error" data-code="${error}"><p>${bilingual(...text)}</p></div>` : ''}
<p>${bilingual(`「${clientName}」にログインします。`, `Signing in to “${clientName}”.`)}</p>
<form method="post" action="${base}/staff-login">
${field('username', 'ユーザー名', 'Username', 'text', 'required autocomplete="username"')}
${field('password', 'パスワード', 'Password', 'password', 'required autocomplete="current-password"')}
${field('code', '確認コード（認証アプリの6桁）', 'Code (6 digits from your authenticator app)', 'text', 'required inputmode="numeric" pattern="[0-9]{6}" autocomplete="one-time-code"')}
${field('newPassword', '新しいパスワード（変更する場合・12文字以上）', 'New password (to change it; 12 characters or more)', 'password', `autocomplete="new-password"${error === 'PASSWORD_EXPIRED' ? ' required' : ''}`)}
<button type="submit" id="staff-login">${bilingual('ログイン', 'Sign in')}</button>
</form>`,
    });
  };

  const lastLoginPage = (returnTo: string, previous: { at: string; ip: string } | null) => {
    const when = previous
      ? new Intl.DateTimeFormat('ja-JP', {
          timeZone: 'Asia/Tokyo',
          dateStyle: 'long',
          timeStyle: 'medium',
        }).format(new Date(previous.at))
      : undefined;
    return page({
      title: 'ログインしました',
      titleEn: 'Signed in',
      body: `<p id="last-login">${
        previous
          ? bilingual(
              `前回のログイン：${when}（日本時間）${previous.ip} から`,
              `Previous sign-in: ${previous.at} from ${previous.ip}`,
            )
          : bilingual('今回が初めてのログインです。', 'This is your first sign-in.')
      }</p>
<p>${bilingual('覚えのないログインがあれば、管理者に連絡してください。', 'If you do not recognise a sign-in, tell an administrator.')}</p>
<form method="get" action="${escapeHtml(returnTo)}">
<button type="submit" id="continue">${bilingual('続ける', 'Continue')}</button>
</form>`,
    });
  };

  const consentPage = (uid: string, clientName: string, claims: string[], scopes: string[]) => {
    const base = `/idp/interaction/${escapeHtml(uid)}`;
    const items = claims
      .map((c) => {
        const [ja, en] = CLAIM_LABELS[c] ?? [c, c];
        return `<li><input type="checkbox" id="claim-${c}" name="claims" value="${c}" checked> <label for="claim-${c}" style="display:inline">${bilingual(ja, en)}</label></li>`;
      })
      .join('\n');
    const extra = [
      scopes.includes('offline_access')
        ? `<li>${bilingual('ログアウト後も継続して利用すること', 'Continued access after you sign out')}</li>`
        : '',
      ...scopes
        .filter((s) => !['openid', 'offline_access', 'profile', 'verified_claims'].includes(s))
        .map(
          (s) => `<li>${bilingual('API の利用権限', 'API permission')} <code>${escapeHtml(s)}</code></li>`,
        ),
    ].join('');
    return page({
      title: '情報提供への同意',
      titleEn: 'Share your information?',
      body: `<p>${bilingual(`「${clientName}」が次の情報の提供を求めています。提供する項目を選んでください。`, `“${clientName}” asks for the following. Choose what to share.`)}</p>
<form method="post" action="${base}/consent">
<fieldset><legend>${bilingual('提供する情報', 'Information to share')}</legend>
<ul class="claims">${items || `<li>${bilingual('利用者を識別する番号（サービスごとに異なります）', 'An identifier unique to this service')}</li>`}</ul>
</fieldset>
${extra ? `<ul>${extra}</ul>` : ''}
<button type="submit" id="consent">${bilingual('同意する', 'Agree')}</button>
</form>
<form method="post" action="${base}/abort">
<button type="submit" class="secondary" id="deny">${bilingual('同意しない', 'Do not agree')}</button>
</form>`,
    });
  };

  const failPage = (res: Response, status: number) => {
    res
      .status(status)
      .type('html')
      .send(
        page({
          title: 'ログイン手続きが見つかりません',
          titleEn: 'Sign-in request not found',
          body: `<div class="error" role="alert"><p>${bilingual(
            '時間が経ち過ぎたか、すでに完了しています。利用中のサービスからやり直してください。',
            'It expired or was already completed. Please start again from the service you were using.',
          )}</p></div>`,
        }),
      );
  };

  const details = async (req: Request, res: Response) => {
    try {
      const provider = options.provider();
      const d = await provider.interactionDetails(req, res);
      if (d.uid !== req.params['uid']) return undefined;
      const client = await provider.Client.find(String(d.params['client_id']));
      return { provider, d, clientName: client?.clientName ?? String(d.params['client_id']) };
    } catch {
      return undefined;
    }
  };

  router.get('/interaction/:uid', async (req, res) => {
    const found = await details(req, res);
    if (!found) return failPage(res, 400);
    const { d, clientName } = found;
    if (d.prompt.name === 'login' && (await options.isStaffConsole(String(d.params['client_id'])))) {
      return res.type('html').send(staffLoginPage(d.uid, clientName));
    }
    if (d.prompt.name === 'login') return res.type('html').send(await loginPage(d.uid, clientName));
    // The admin console is first-party: staff are not asked to consent to their own console.
    const accountId = d.session?.accountId;
    if (
      accountId?.startsWith(STAFF_PREFIX) &&
      (await options.isStaffConsole(String(d.params['client_id'])))
    ) {
      return grantConsent(req, res, found, accountId, new Set(PROFILE_CLAIMS));
    }
    const info = d.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    const scopes = [
      ...(info.missingOIDCScope ?? []),
      ...Object.values(info.missingResourceScopes ?? {}).flat(),
    ];
    const claims = [
      ...(scopes.includes('profile') ? PROFILE_CLAIMS : []),
      ...(scopes.includes('verified_claims') ? ['verified_claims'] : []),
    ];
    res.type('html').send(consentPage(d.uid, clientName, claims, scopes));
  });

  const finishLogin = async (
    req: Request,
    res: Response,
    result: Awaited<ReturnType<IdentityProofing['login']>>,
    clientName: string,
    uid: string,
    clientId: string,
  ) => {
    if (!result.ok)
      return res
        .status(400)
        .type('html')
        .send(await loginPage(uid, clientName, result.code));
    if (!meetsAcr(result.acr, await options.minimumAcrOf(clientId))) {
      return res
        .status(403)
        .type('html')
        .send(await loginPage(uid, clientName, 'ACR_TOO_LOW'));
    }
    const login: InteractionResults = {
      login: { accountId: result.commonId, acr: result.acr, amr: result.amr, remember: true },
    };
    await options.provider().interactionFinished(req, res, login, { mergeWithLastSubmission: false });
  };

  /** Throttling keys: the client address and each presented certificate. */
  const throttleKeys = (req: Request, certificates: Array<Uint8Array | undefined>) => [
    `ip:${req.ip ?? 'unknown'}`,
    ...certificates.flatMap((c) => (c ? [`cert:${createHash('sha256').update(c).digest('base64url')}`] : [])),
  ];

  /** Runs a card verification unless throttled; counts its failure. */
  const attempt = async (
    req: Request,
    res: Response,
    found: { d: { uid: string; params: Record<string, unknown> }; clientName: string },
    certificates: Array<Uint8Array | undefined>,
    run: () => Promise<Awaited<ReturnType<IdentityProofing['login']>>>,
  ) => {
    const keys = throttleKeys(req, certificates);
    if (await options.throttle.blocked(keys)) {
      await options.ctx.audit.record({
        actor: 'anonymous',
        action: 'idp.login.throttled',
        target: `interaction:${found.d.uid}`,
        details: {},
      });
      return res
        .status(429)
        .type('html')
        .send(await loginPage(found.d.uid, found.clientName, 'THROTTLED'));
    }
    const result = await run();
    if (!result.ok && result.code !== 'REVIEW') await options.throttle.fail(keys);
    await finishLogin(req, res, result, found.clientName, found.d.uid, String(found.d.params['client_id']));
  };

  router.post('/interaction/:uid/login', async (req, res) => {
    const found = await details(req, res);
    if (found?.d.prompt.name !== 'login') return failPage(res, 400);
    const certificate = decode(req.body?.authCertificate);
    const signature = decode(req.body?.authSignature);
    const nonce = String(req.body?.nonce ?? '');
    await attempt(req, res, found, [certificate], async () =>
      certificate && signature
        ? proofing.login({ binding: found.d.uid, nonce, card: { certificate, signature } })
        : { ok: false, code: 'UNSUPPORTED' },
    );
  });

  router.post('/interaction/:uid/enroll', async (req, res) => {
    const found = await details(req, res);
    if (found?.d.prompt.name !== 'login') return failPage(res, 400);
    const b = req.body ?? {};
    const sign = { certificate: decode(b.signCertificate), signature: decode(b.signSignature) };
    const auth = { certificate: decode(b.enrollAuthCertificate), signature: decode(b.enrollAuthSignature) };
    const nonce = String(b.nonce ?? '');
    // A resident signed in without the card raises the same common ID instead of enrolling anew.
    const session = found.d.session?.accountId;
    const raise = session && options.resident ? await options.resident.raiser(session) : undefined;
    await attempt(req, res, found, [sign.certificate, auth.certificate], async () =>
      sign.certificate && sign.signature && raise && session
        ? raise({
            commonId: session,
            binding: found.d.uid,
            nonce,
            sign: { certificate: sign.certificate, signature: sign.signature },
            ...(auth.certificate && auth.signature
              ? { auth: { certificate: auth.certificate, signature: auth.signature } }
              : {}),
          })
        : sign.certificate && sign.signature
          ? proofing.enroll({
              binding: found.d.uid,
              nonce,
              sign: { certificate: sign.certificate, signature: sign.signature },
              ...(auth.certificate && auth.signature
                ? { auth: { certificate: auth.certificate, signature: auth.signature } }
                : {}),
            })
          : { ok: false, code: 'UNSUPPORTED' },
    );
  });

  router.post('/interaction/:uid/staff-login', async (req, res) => {
    const found = await details(req, res);
    if (
      found?.d.prompt.name !== 'login' ||
      !(await options.isStaffConsole(String(found.d.params['client_id'])))
    ) {
      return failPage(res, 400);
    }
    const b = req.body ?? {};
    const username = String(b.username ?? '');
    const keys = [`ip:${req.ip ?? 'unknown'}`, `staff:${username}`];
    if (await options.throttle.blocked(keys)) {
      return res
        .status(429)
        .type('html')
        .send(staffLoginPage(found.d.uid, found.clientName, 'THROTTLED'));
    }
    const input = { username, password: String(b.password ?? ''), code: String(b.code ?? ''), ip: req.ip };
    const newPassword = String(b.newPassword ?? '');
    let result: Awaited<ReturnType<StaffAccounts['authenticate']>>;
    try {
      result = newPassword
        ? await options.staff.changePassword({ ...input, newPassword })
        : await options.staff.authenticate(input);
    } catch {
      result = { ok: false, code: 'INVALID' };
    }
    if (!result.ok) {
      await options.throttle.fail(keys);
      return res
        .status(400)
        .type('html')
        .send(staffLoginPage(found.d.uid, found.clientName, result.code));
    }
    const returnTo = await found.provider.interactionResult(
      req,
      res,
      { login: { accountId: result.staffId, acr: ACR.staff, amr: ['pwd', 'otp'], remember: false } },
      { mergeWithLastSubmission: false },
    );
    res.type('html').send(lastLoginPage(returnTo, result.previousLogin));
  });

  router.post('/interaction/:uid/federate', async (req, res) => {
    const found = await details(req, res);
    if (found?.d.prompt.name !== 'login') return failPage(res, 400);
    const id = String(req.body?.upstream ?? '');
    if (!federation.upstreams().some((u) => u.id === id)) return failPage(res, 400);
    try {
      const url = await federation.start(found.d.uid, id);
      res.redirect(303, url.href);
    } catch {
      res
        .status(502)
        .type('html')
        .send(await loginPage(found.d.uid, found.clientName, 'UPSTREAM_ERROR'));
    }
  });

  // The upstream's redirect URI. It has no interaction cookie (another path), so it records the
  // outcome and sends the browser on to the interaction, which finishes the login.
  router.get('/federation/callback', async (req, res) => {
    const current = new URL(req.originalUrl, options.ctx.config.publicUrl);
    const resumed = await federation.callback(current);
    if (!resumed) return failPage(res, 400);
    res.redirect(
      303,
      `/idp/interaction/${encodeURIComponent(resumed.uid)}/federated?state=${encodeURIComponent(resumed.state)}`,
    );
  });

  router.get('/interaction/:uid/federated', async (req, res) => {
    const found = await details(req, res);
    if (found?.d.prompt.name !== 'login') return failPage(res, 400);
    const outcome = await federation.result(found.d.uid, String(req.query['state'] ?? ''));
    if (
      outcome.ok &&
      !meetsAcr(outcome.acr, await options.minimumAcrOf(String(found.d.params['client_id'])))
    ) {
      return res
        .status(403)
        .type('html')
        .send(await loginPage(found.d.uid, found.clientName, 'ACR_TOO_LOW'));
    }
    if (!outcome.ok)
      return res
        .status(400)
        .type('html')
        .send(await loginPage(found.d.uid, found.clientName, outcome.code));
    await options
      .provider()
      .interactionFinished(
        req,
        res,
        { login: { accountId: outcome.commonId, acr: outcome.acr, amr: ['fed'], remember: true } },
        { mergeWithLastSubmission: false },
      );
  });

  type Found = NonNullable<Awaited<ReturnType<typeof details>>>;

  /** Saves the grant for the pending consent prompt, minus the claims the resident declined. */
  const grantConsent = async (
    req: Request,
    res: Response,
    found: Found,
    accountId: string,
    chosen: Set<string>,
  ) => {
    const { provider, d } = found;
    const info = d.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    const grant = d.grantId
      ? await provider.Grant.find(d.grantId)
      : new provider.Grant({ accountId, clientId: String(d.params['client_id']) });
    if (!grant) return failPage(res, 400);
    if (info.missingOIDCScope) grant.addOIDCScope(info.missingOIDCScope.join(' '));
    if (info.missingOIDCClaims) grant.addOIDCClaims(info.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(info.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const offered = [
      ...(info.missingOIDCScope?.includes('profile') ? PROFILE_CLAIMS : []),
      ...(info.missingOIDCScope?.includes('verified_claims') ? ['verified_claims'] : []),
    ];
    const declined = offered.filter((c) => !chosen.has(c));
    if (declined.length > 0) grant.rejectOIDCClaims(declined);
    const grantId = await grant.save();
    await options.ctx.audit.record({
      actor: `account:${accountId}`,
      action: 'idp.consent.grant',
      target: `client:${String(d.params['client_id'])}`,
      details: { scopes: info.missingOIDCScope ?? [], declined },
    });
    await provider.interactionFinished(
      req,
      res,
      { consent: d.grantId ? {} : { grantId } },
      { mergeWithLastSubmission: true },
    );
  };

  router.post('/interaction/:uid/consent', async (req, res) => {
    const found = await details(req, res);
    const accountId = found?.d.session?.accountId;
    if (found?.d.prompt.name !== 'consent' || !accountId) return failPage(res, 400);
    await grantConsent(req, res, found, accountId, new Set([req.body?.claims ?? []].flat().map(String)));
  });

  router.post('/interaction/:uid/abort', async (req, res) => {
    const found = await details(req, res);
    if (!found) return failPage(res, 400);
    await found.provider.interactionFinished(
      req,
      res,
      { error: 'access_denied', error_description: 'End-User aborted interaction' },
      { mergeWithLastSubmission: false },
    );
  });

  options.resident?.mount(router, { details, failPage, loginPage });
  return { router };
}
