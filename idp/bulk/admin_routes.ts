/**
 * Staff API for residents registered without the card, lost cards and devices, and assurance
 * minimums (admin address range + scope `idp:residents`):
 *
 *   POST   /api/admin/idp/residents/bulk?apply=true&invite=true   CSV body (text/csv, UTF-8 or
 *          Shift_JIS); without apply=true only the validation report (nothing written);
 *          `legacySource=NAME` for a migration (legacy_id column required and recorded)
 *   DELETE /api/admin/idp/residents/:commonId                     logical deletion
 *   POST   /api/admin/idp/residents/:commonId/passkeys/:id/revoke  a lost device's passkey
 *   POST   /api/admin/idp/residents/:commonId/card/revoke          a lost My Number card
 *   POST   /api/admin/idp/devices                                  register an IC card or a terminal
 *   POST   /api/admin/idp/devices/:id/revoke                       revoke it
 *   PUT    /api/admin/idp/assurance/point-types/:currency/:pointType   minimum acr (null: none)
 */
import express from 'express';
import { defineProblem, type ModuleContext, type ModuleRouter, ProblemError } from '../../core/index.ts';
import type { Devices } from '../passkeys/devices.ts';
import type { Passkeys } from '../passkeys/passkeys.ts';
import type { Assurance } from '../signup/assurance.ts';
import type { EmailAccounts } from '../signup/email_accounts.ts';
import type { BulkRegistration } from './bulk_registration.ts';

export const RESIDENTS_SCOPE = 'idp:residents';

defineProblem('resident-csv-invalid', {
  status: 422,
  title: 'The CSV has invalid rows; nothing was written',
});

const commonIdParam = {
  type: 'object',
  required: ['commonId'],
  properties: { commonId: { type: 'string', pattern: '^[a-z2-7]{26}$' } },
};
const reasonBody = {
  type: 'object',
  additionalProperties: false,
  required: ['reason'],
  properties: { reason: { type: 'string', minLength: 1, maxLength: 500 } },
};

export function residentAdminRoutes(
  ctx: ModuleContext,
  services: {
    bulk: BulkRegistration;
    emailAccounts: EmailAccounts;
    passkeys: Passkeys;
    devices: Devices;
    assurance: Assurance;
  },
): ModuleRouter {
  const admin = ctx.http.createRouter('/api/admin/idp');
  const guard = [ctx.http.adminOnly, ctx.http.requireToken([RESIDENTS_SCOPE])];
  const security = { bearer: [RESIDENTS_SCOPE] };
  const tags = ['idp'];
  const actor = (req: { auth?: { subject: string } }) => `staff:${req.auth?.subject ?? 'unknown'}`;

  admin.route(
    {
      method: 'post',
      path: '/residents/bulk',
      summary: 'Register residents from a CSV (report only unless apply=true)',
      tags,
      security,
      query: {
        type: 'object',
        properties: {
          apply: { type: 'boolean', default: false },
          invite: { type: 'boolean', default: true },
          legacySource: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' },
        },
      },
    },
    ...guard,
    express.raw({ type: ['text/csv', 'text/plain', 'application/octet-stream'], limit: '20mb' }),
    async (req, res) => {
      if (!Buffer.isBuffer(req.body))
        throw new ProblemError('unsupported-media-type', { detail: 'Send the CSV as text/csv.' });
      const bytes = new Uint8Array(req.body);
      const apply = String(req.query['apply']) === 'true';
      const invite = String(req.query['invite']) !== 'false';
      const legacySource =
        typeof req.query['legacySource'] === 'string' ? req.query['legacySource'] : undefined;
      const legacy = legacySource ? { legacySource } : {};
      const report = apply
        ? await services.bulk.apply(bytes, { actor: actor(req), invite, ...legacy })
        : await services.bulk.preview(bytes, legacy);
      if (apply && !report.applied)
        throw new ProblemError('resident-csv-invalid', {
          detail: 'Fix the listed rows and send the file again.',
          report,
        });
      res.status(apply ? 201 : 200).json(report);
    },
  );

  admin.route(
    {
      method: 'delete',
      path: '/residents/:commonId',
      summary: 'Delete a resident registered by e-mail (logical: disabled, kept)',
      tags,
      security,
      params: commonIdParam,
    },
    ...guard,
    async (req, res) => {
      const done = await services.emailAccounts.remove(String(req.params['commonId']), actor(req));
      if (!done) throw new ProblemError('not-found', { detail: 'No such resident, or already deleted.' });
      res.status(204).end();
    },
  );

  admin.route(
    {
      method: 'post',
      path: '/residents/:commonId/passkeys/:id/revoke',
      summary: "Revoke a resident's passkey (lost device)",
      tags,
      security,
      params: commonIdParam,
    },
    ...guard,
    async (req, res) => {
      const done = await services.passkeys.revoke(
        String(req.params['commonId']),
        String(req.params['id']),
        actor(req),
      );
      if (!done) throw new ProblemError('not-found', { detail: 'No such active passkey.' });
      res.json({ revoked: true });
    },
  );

  admin.route(
    {
      method: 'post',
      path: '/residents/:commonId/card/revoke',
      summary: "Unlink a lost My Number card's certificates",
      tags,
      security,
      params: commonIdParam,
      body: reasonBody,
    },
    ...guard,
    async (req, res) => {
      const count = await services.devices.revokeMyNumberCard(String(req.params['commonId']), {
        actor: actor(req),
        reason: String(req.body.reason),
      });
      if (count === 0) throw new ProblemError('not-found', { detail: 'No card is linked to this resident.' });
      res.json({ certificates: count });
    },
  );

  admin.route(
    {
      method: 'post',
      path: '/devices',
      summary: 'Register an IC card or a card-reader terminal',
      tags,
      security,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['kind', 'identifier', 'label'],
        properties: {
          kind: { enum: ['ic-card', 'terminal'] },
          identifier: { type: 'string', minLength: 1, maxLength: 128 },
          commonId: { type: 'string', pattern: '^[a-z2-7]{26}$' },
          label: { type: 'string', minLength: 1, maxLength: 200 },
        },
      },
    },
    ...guard,
    async (req, res) => {
      res.status(201).json(await services.devices.register(req.body, actor(req)));
    },
  );

  admin.route(
    {
      method: 'post',
      path: '/devices/:id/revoke',
      summary: 'Revoke an IC card or a terminal (refused from now on)',
      tags,
      security,
      body: reasonBody,
    },
    ...guard,
    async (req, res) => {
      const done = await services.devices.revoke(String(req.params['id']), {
        actor: actor(req),
        reason: String(req.body.reason),
      });
      if (!done) throw new ProblemError('not-found', { detail: 'No such active device.' });
      res.json({ revoked: true });
    },
  );

  admin.route(
    {
      method: 'put',
      path: '/assurance/point-types/:currency/:pointType',
      summary: 'Minimum assurance level for receiving a point type',
      tags,
      security,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['minimum'],
        properties: {
          minimum: {
            enum: [
              null,
              'urn:tsunagu:acr:self-asserted',
              'urn:tsunagu:acr:federated',
              'urn:tsunagu:acr:jpki-auth',
              'urn:tsunagu:acr:jpki-sign',
            ],
          },
        },
      },
    },
    ...guard,
    async (req, res) => {
      const currency = String(req.params['currency']);
      const pointType = String(req.params['pointType']);
      await services.assurance.setPointTypeMinimum(currency, pointType, req.body.minimum, actor(req));
      res.json({ currency, pointType, minimum: req.body.minimum });
    },
  );

  return admin;
}
