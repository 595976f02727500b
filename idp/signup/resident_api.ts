/**
 * The resident's own data, through a resident token (subject = common ID) with scope `idp:self`.
 * There is no id in these paths: a resident can read and change only their own.
 *
 *   GET  /api/idp/me/profile                 e-mail, category, profile, assurance level
 *   PUT  /api/idp/me/profile                 change profile fields and category
 *   GET  /api/idp/me/passkeys                their passkeys
 *   POST /api/idp/me/passkeys/:id/revoke     revoke one (lost phone)
 *   GET  /api/idp/me/devices                 their IC cards
 *   POST /api/idp/me/devices/:id/revoke      revoke one (lost card)
 *   POST /api/idp/me/card/revoke             unlink a lost My Number card
 */
import type { Request } from 'express';
import { type ModuleContext, type ModuleRouter, ProblemError } from '../../core/index.ts';
import type { Devices } from '../passkeys/devices.ts';
import type { Passkeys } from '../passkeys/passkeys.ts';
import { STAFF_PREFIX } from '../provider/create_provider.ts';
import type { Assurance } from './assurance.ts';
import type { EmailAccounts } from './email_accounts.ts';

export const SELF_SCOPE = 'idp:self';

export function residentApiRoutes(
  ctx: ModuleContext,
  services: { emailAccounts: EmailAccounts; passkeys: Passkeys; devices: Devices; assurance: Assurance },
): ModuleRouter {
  const api = ctx.http.createRouter('/api/idp');
  const guard = [ctx.http.requireToken([SELF_SCOPE])];
  const security = { bearer: [SELF_SCOPE] };
  const tags = ['idp'];

  /** The resident behind the token; client-credentials and staff tokens are refused. */
  const me = (req: Request): string => {
    const auth = req.auth;
    if (!auth || auth.subject === auth.clientId || auth.subject.startsWith(STAFF_PREFIX))
      throw new ProblemError('forbidden', { detail: 'A resident token is required.' });
    return auth.subject;
  };
  const reasonBody = {
    type: 'object',
    additionalProperties: false,
    required: ['reason'],
    properties: { reason: { type: 'string', minLength: 1, maxLength: 500 } },
  };

  const profileOf = async (commonId: string) => {
    const login = await services.emailAccounts.find(commonId);
    if (!login || login.status === 'deleted')
      throw new ProblemError('not-found', { detail: 'No e-mail registration.' });
    await ctx.audit.record({
      actor: `account:${commonId}`,
      action: 'idp.profile.read',
      target: `account:${commonId}`,
      details: {},
    });
    return {
      email: login.email,
      category: login.category,
      profile: login.profile,
      acr: await services.assurance.levelOf(commonId),
    };
  };

  api.route(
    { method: 'get', path: '/me/profile', summary: 'My profile', tags, security },
    ...guard,
    async (req, res) => {
      res.json(await profileOf(me(req)));
    },
  );

  api.route(
    {
      method: 'put',
      path: '/me/profile',
      summary: 'Change my profile',
      tags,
      security,
      body: {
        type: 'object',
        additionalProperties: false,
        properties: {
          profile: { type: 'object', additionalProperties: { type: 'string', maxLength: 200 } },
          category: { enum: ['resident', 'worker', 'student', 'visitor'] },
        },
      },
    },
    ...guard,
    async (req, res) => {
      const commonId = me(req);
      const result = await services.emailAccounts.updateProfile(commonId, req.body, `account:${commonId}`);
      if (!result.ok)
        throw new ProblemError('validation-failed', {
          detail: 'Some fields are invalid.',
          invalid: result.invalid ?? [result.code.toLowerCase()],
        });
      res.json(await profileOf(commonId));
    },
  );

  api.route(
    { method: 'get', path: '/me/passkeys', summary: 'My passkeys', tags, security },
    ...guard,
    async (req, res) => {
      res.json({ passkeys: await services.passkeys.list(me(req)) });
    },
  );

  api.route(
    { method: 'post', path: '/me/passkeys/:id/revoke', summary: 'Revoke one of my passkeys', tags, security },
    ...guard,
    async (req, res) => {
      const commonId = me(req);
      if (!(await services.passkeys.revoke(commonId, String(req.params['id']), `account:${commonId}`)))
        throw new ProblemError('not-found', { detail: 'No such active passkey of yours.' });
      res.json({ revoked: true });
    },
  );

  api.route(
    { method: 'get', path: '/me/devices', summary: 'My IC cards', tags, security },
    ...guard,
    async (req, res) => {
      res.json({ devices: await services.devices.list({ commonId: me(req) }) });
    },
  );

  api.route(
    {
      method: 'post',
      path: '/me/devices/:id/revoke',
      summary: 'Revoke one of my IC cards',
      tags,
      security,
      body: reasonBody,
    },
    ...guard,
    async (req, res) => {
      const commonId = me(req);
      const done = await services.devices.revoke(String(req.params['id']), {
        actor: `account:${commonId}`,
        reason: String(req.body.reason),
        owner: commonId,
      });
      if (!done) throw new ProblemError('not-found', { detail: 'No such active card of yours.' });
      res.json({ revoked: true });
    },
  );

  api.route(
    {
      method: 'post',
      path: '/me/card/revoke',
      summary: 'Unlink my lost My Number card',
      tags,
      security,
      body: reasonBody,
    },
    ...guard,
    async (req, res) => {
      const commonId = me(req);
      const count = await services.devices.revokeMyNumberCard(commonId, {
        actor: `account:${commonId}`,
        reason: String(req.body.reason),
      });
      if (count === 0) throw new ProblemError('not-found', { detail: 'No card is linked to you.' });
      res.json({ certificates: count });
    },
  );

  return api;
}
