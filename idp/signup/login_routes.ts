/**
 * Sign-in without the card, on the login interaction (added to the card login page's router):
 *
 *   POST /interaction/:uid/password          e-mail + password (throttled per address and per e-mail)
 *   POST /interaction/:uid/passkey/options   WebAuthn request options bound to this interaction
 *   POST /interaction/:uid/passkey           the passkey's answer → { redirect } to finish the login
 *
 * Both give the lowest assurance level (`urn:tsunagu:acr:self-asserted`); a client or a session
 * that needs more sends the resident back to the card sections of the same page. When a resident
 * signed in this way enrolls the card there, `raiser` turns the enrollment into raising the level
 * of the same common ID (raise_assurance.ts).
 */
import type { Request, Response, Router } from 'express';
import type Provider from 'oidc-provider';
import type { AuditLog } from '../../core/index.ts';
import type { ProofingResult } from '../jpki/identity_proofing.ts';
import type { LoginThrottle } from '../interactions/login_throttle.ts';
import type { Passkeys } from '../passkeys/passkeys.ts';
import { ACR, meetsAcr } from '../provider/create_provider.ts';
import type { EmailAccounts } from './email_accounts.ts';
import { residentLoginSection, SIGNUP_TEXT } from './pages.ts';
import type { RaiseAssurance } from './raise_assurance.ts';

export interface InteractionTools {
  details(
    req: Request,
    res: Response,
  ): Promise<
    | {
        provider: Provider;
        d: { uid: string; prompt: { name: string }; params: Record<string, unknown> };
        clientName: string;
      }
    | undefined
  >;
  failPage(res: Response, status: number): void;
  loginPage(
    uid: string,
    clientName: string,
    error?: 'PASSWORD' | 'PASSKEY' | 'THROTTLED' | 'ACR_TOO_LOW',
  ): Promise<string>;
}

/** What the card login page gets from the sign-up part of the identity provider. */
export interface ResidentSignIn {
  section(base: string, uid: string): string;
  /** A raise for a signed-in e-mail account, or undefined (the ordinary enrollment runs). */
  raiser(commonId: string): Promise<RaiseAssurance['raise'] | undefined>;
  mount(router: Router, tools: InteractionTools): void;
}

export function residentSignIn(options: {
  emailAccounts: EmailAccounts;
  passkeys: Passkeys;
  raise: RaiseAssurance;
  throttle: LoginThrottle;
  audit: AuditLog;
  minimumAcrOf: (clientId: string) => Promise<string | undefined>;
}): ResidentSignIn {
  const { emailAccounts, passkeys, throttle } = options;
  return {
    section: (base, uid) => residentLoginSection(base, uid),

    async raiser(commonId) {
      const login = await emailAccounts.find(commonId);
      return login && login.status === 'active' ? (input) => options.raise.raise(input) : undefined;
    },

    mount(router, tools) {
      const acrAllowed = async (clientId: unknown) =>
        meetsAcr(ACR.selfAsserted, await options.minimumAcrOf(String(clientId)));

      router.post('/interaction/:uid/password', async (req, res) => {
        const found = await tools.details(req, res);
        if (found?.d.prompt.name !== 'login') return tools.failPage(res, 400);
        const email = String(req.body?.email ?? '');
        const keys = [
          `ip:${req.ip ?? 'unknown'}`,
          `email:${emailAccounts.emailKey(email.trim().toLowerCase())}`,
        ];
        const send = async (status: number, code: Parameters<InteractionTools['loginPage']>[2]) =>
          res
            .status(status)
            .type('html')
            .send(await tools.loginPage(found.d.uid, found.clientName, code));
        if (await throttle.blocked(keys)) {
          await options.audit.record({
            actor: 'anonymous',
            action: 'idp.login.throttled',
            target: `interaction:${found.d.uid}`,
            details: { method: 'password' },
          });
          return send(429, 'THROTTLED');
        }
        const result = await emailAccounts.login(email, String(req.body?.password ?? ''));
        if (!result.ok) {
          await throttle.fail(keys);
          return send(400, 'PASSWORD');
        }
        if (!(await acrAllowed(found.d.params['client_id']))) return send(403, 'ACR_TOO_LOW');
        await found.provider.interactionFinished(
          req,
          res,
          { login: { accountId: result.commonId, acr: ACR.selfAsserted, amr: ['pwd'], remember: true } },
          { mergeWithLastSubmission: false },
        );
      });

      router.post('/interaction/:uid/passkey/options', async (req, res) => {
        const found = await tools.details(req, res);
        if (found?.d.prompt.name !== 'login') return res.status(400).json({ code: 'INTERACTION' });
        res.json(await passkeys.authenticationOptions(`interaction:${found.d.uid}`));
      });

      router.post('/interaction/:uid/passkey', async (req, res) => {
        const found = await tools.details(req, res);
        if (found?.d.prompt.name !== 'login') return res.status(400).json({ code: 'INTERACTION' });
        const keys = [`ip:${req.ip ?? 'unknown'}`];
        if (await throttle.blocked(keys))
          return res.status(429).json({ code: 'THROTTLED', message: SIGNUP_TEXT.THROTTLED.join(' / ') });
        const result = await passkeys.authenticate(`interaction:${found.d.uid}`, req.body ?? {});
        if (!result.ok) {
          await throttle.fail(keys);
          return res.status(400).json({ code: 'PASSKEY', message: SIGNUP_TEXT.PASSKEY.join(' / ') });
        }
        if (!(await acrAllowed(found.d.params['client_id'])))
          return res.status(403).json({ code: 'ACR_TOO_LOW', redirect: `/idp/interaction/${found.d.uid}` });
        const redirect = await found.provider.interactionResult(
          req,
          res,
          {
            login: {
              accountId: result.commonId,
              acr: ACR.selfAsserted,
              amr: ['hwk', 'user'],
              remember: true,
            },
          },
          { mergeWithLastSubmission: false },
        );
        res.json({ redirect });
      });
    },
  };
}

export type { ProofingResult };
