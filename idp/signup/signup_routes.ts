/**
 * Sign-up pages for residents without the card (under /idp):
 *
 *   GET  /signup?interaction=UID               e-mail form (from the login page's link)
 *   POST /signup                               sends the verification link (throttled per address)
 *   GET  /signup/verify/:token                 profile, category, password or passkey
 *   POST /signup/verify/:token                 completes with a password → done page
 *   POST /signup/verify/:token/passkey/options WebAuthn creation options for this link
 *   POST /signup/verify/:token/passkey         completes with the verified passkey → { redirect }
 *   GET  /signup/done?interaction=UID          done page (continue to the sign-in it came from)
 *   GET  /passkeys/client.js                   the passkey buttons' script
 */
import { createHash } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import type { LoginThrottle } from '../interactions/login_throttle.ts';
import { PASSKEY_CLIENT_JS } from '../passkeys/client_script.ts';
import type { Passkeys } from '../passkeys/passkeys.ts';
import type { EmailAccounts } from './email_accounts.ts';
import { donePage, linkInvalidPage, registerPage, sentPage, signupPage, SIGNUP_TEXT } from './pages.ts';

const UID = /^[A-Za-z0-9_-]{1,64}$/;

export function signupRoutes(options: {
  emailAccounts: EmailAccounts;
  passkeys: Passkeys;
  throttle: LoginThrottle;
}): express.Router {
  const { emailAccounts, passkeys } = options;
  const router = express.Router();
  router.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  const binding = (token: string) => `link:${createHash('sha256').update(token).digest('base64url')}`;
  const interactionOf = (value: unknown) =>
    typeof value === 'string' && UID.test(value) ? value : undefined;

  router.get('/passkeys/client.js', (_req, res) => {
    res.type('application/javascript').setHeader('Cache-Control', 'public, max-age=300');
    res.send(PASSKEY_CLIENT_JS);
  });

  router.get('/signup', (req, res) => {
    res.type('html').send(signupPage(interactionOf(req.query['interaction'])));
  });

  router.post('/signup', async (req, res) => {
    const interaction = interactionOf(req.body?.interaction);
    const keys = [`signup-ip:${req.ip ?? 'unknown'}`];
    if (await options.throttle.blocked(keys)) {
      return res.status(429).type('html').send(signupPage(interaction, 'THROTTLED'));
    }
    // Every request counts: the limit caps the mails one address can make us send.
    await options.throttle.fail(keys);
    await emailAccounts.requestSignup({ email: String(req.body?.email ?? ''), interaction });
    res.type('html').send(sentPage());
  });

  const showForm = async (
    req: Request,
    res: Response,
    status: number,
    extra: { error?: Parameters<typeof registerPage>[0]['error']; invalid?: string[] } = {},
  ) => {
    const token = String(req.params['token']);
    const link = await emailAccounts.link(token);
    if (!link) return res.status(400).type('html').send(linkInvalidPage());
    const values =
      status === 200
        ? (link.login?.profile ?? {})
        : Object.fromEntries(emailAccounts.fields.map((f) => [f.name, String(req.body?.[f.name] ?? '')]));
    res
      .status(status)
      .type('html')
      .send(
        registerPage({
          token,
          email: link.email,
          fields: emailAccounts.fields,
          values,
          ...(link.login ? { category: link.login.category } : {}),
          ...(typeof req.body?.category === 'string' ? { category: req.body.category } : {}),
          invited: link.purpose === 'invite',
          ...extra,
        }),
      );
  };

  router.get('/signup/verify/:token', (req, res) => showForm(req, res, 200));

  router.post('/signup/verify/:token', async (req, res) => {
    const token = String(req.params['token']);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const result = await emailAccounts.complete(token, {
      profile: body,
      category: body['category'],
      credential: { password: String(body['password'] ?? '') },
    });
    if (result.ok) return res.type('html').send(donePage(result.interaction));
    if (result.code === 'LINK') return res.status(400).type('html').send(linkInvalidPage());
    await showForm(req, res, 400, {
      error: result.code,
      ...(result.invalid ? { invalid: result.invalid } : {}),
    });
  });

  router.post('/signup/verify/:token/passkey/options', async (req, res) => {
    const token = String(req.params['token']);
    const link = await emailAccounts.link(token);
    if (!link) return res.status(400).json({ message: SIGNUP_TEXT.LINK.join(' / ') });
    res.json(
      await passkeys.registrationOptions(binding(token), { name: link.email, displayName: link.email }),
    );
  });

  router.post('/signup/verify/:token/passkey', async (req, res) => {
    const token = String(req.params['token']);
    const fields = (req.body?.fields ?? {}) as Record<string, unknown>;
    const passkey = await passkeys.verifyRegistration(binding(token), req.body?.credential);
    if (!passkey) return res.status(400).json({ code: 'PASSKEY', message: SIGNUP_TEXT.PASSKEY.join(' / ') });
    const label = String(req.headers['user-agent'] ?? 'passkey').slice(0, 80);
    const result = await emailAccounts.complete(token, {
      profile: fields,
      category: fields['category'],
      credential: { passkey, label },
    });
    if (!result.ok)
      return res.status(400).json({
        code: result.code,
        message: SIGNUP_TEXT[result.code].join(' / '),
        ...(result.invalid ? { invalid: result.invalid } : {}),
      });
    const next = result.interaction ? `?interaction=${encodeURIComponent(result.interaction)}` : '';
    res.json({ redirect: `/idp/signup/done${next}` });
  });

  router.get('/signup/done', (req, res) => {
    res.type('html').send(donePage(interactionOf(req.query['interaction']) ?? null));
  });

  return router;
}
