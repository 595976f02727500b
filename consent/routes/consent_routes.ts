/**
 * The consent HTTP API (see README.md for the table):
 *
 *   resident   GET  /api/consent/me/consents                      scope consent:self
 *              POST /api/consent/me/consents                      give (Idempotency-Key)
 *              GET  /api/consent/me/consents/:id                  one record
 *              GET  /api/consent/me/consents/:id/events           its history
 *              GET  /api/consent/me/consents/:id/receipt          signed receipt (download)
 *              POST /api/consent/me/consents/:id/{pause,resume,withdraw}   (Idempotency-Key)
 *              GET  /api/consent/me/history                       every event, newest first
 *              GET  /api/consent/me/links, POST (code; Idempotency-Key), DELETE /me/links/:service
 *   partner    POST /api/consent/decisions                        scope consent:decide
 *              POST /api/consent/link-codes                       scope consent:link
 *              PUT  /api/consent/webhook                          scope consent:webhook
 *   public     GET  /api/consent/receipt-keys, /notices/:noticeId, /data-items
 *   staff      POST /api/admin/consent/notices                    admin range + consent:admin
 */
import type { Request, Response } from 'express';
import type { ModuleContext, ModuleRouter } from '../../core/index.ts';
import { ProblemError } from '../../core/index.ts';
import type { ConsentServices } from '../consent_service.ts';
import type { Decision } from '../decide.ts';
import { runIdempotent } from '../idempotency.ts';
import type { ResidentDirectory } from '../ports.ts';
import {
  changeResponse,
  code,
  decisionBody,
  decisionResponse,
  giveBody,
  idParams,
  noticeBody,
  recordSchema,
  serviceId,
} from './schemas.ts';

export const SCOPES = {
  self: 'consent:self',
  decide: 'consent:decide',
  webhook: 'consent:webhook',
  link: 'consent:link',
  admin: 'consent:admin',
} as const;

function resident(req: Request): string {
  return req.auth!.subject;
}

function answer(res: Response, a: { status: number; body: unknown; replayed: boolean }) {
  if (a.replayed) res.set('Idempotent-Replayed', 'true');
  res.status(a.status).json(a.body);
}

export function consentRoutes(
  ctx: ModuleContext,
  consent: ConsentServices,
  directory: ResidentDirectory,
): ModuleRouter[] {
  const api = ctx.http.createRouter('/api/consent');
  const tags = ['consent'];
  const self = ctx.http.requireToken([SCOPES.self]);
  const selfSecurity = { bearer: [SCOPES.self] };

  api.route(
    {
      method: 'get',
      path: '/me/consents',
      summary: 'My consents',
      tags,
      security: selfSecurity,
      responses: { '200': { description: 'Consents', schema: changeResponse } },
    },
    self,
    async (req, res) => {
      res.json({ consents: await consent.list(resident(req)) });
    },
  );

  api.route(
    {
      method: 'post',
      path: '/me/consents',
      summary: 'Give consent for data items (or a data flow with `source`)',
      tags,
      security: selfSecurity,
      body: giveBody,
      responses: {
        '201': { description: 'Created or renewed', schema: changeResponse },
        '200': { description: 'Already so', schema: changeResponse },
      },
    },
    self,
    async (req, res) => {
      const who = resident(req);
      const body = req.body as {
        service: string;
        items: string[];
        purpose: string;
        notice: { id: string; version: number };
        source?: string;
        validUntil?: string;
        language?: string;
      };
      answer(
        res,
        await runIdempotent(
          ctx.db,
          { actor: who, key: req.get('idempotency-key'), request: { op: 'give', body }, now: ctx.now() },
          async (tx) => {
            const result = await consent.give(
              {
                resident: who,
                service: body.service,
                items: body.items,
                purpose: body.purpose,
                notice: body.notice,
                source: body.source ?? null,
                validUntil: body.validUntil ? new Date(body.validUntil) : null,
                language: body.language ?? 'ja',
                collectionMethod: 'api',
              },
              'resident',
              tx,
            );
            return {
              status: result.changed > 0 ? 201 : 200,
              body: { consents: result.records, changed: result.changed },
            };
          },
        ),
      );
    },
  );

  const mine = async (req: Request) => {
    const record = await consent.get(String(req.params['id']));
    if (!record || record.resident !== resident(req))
      throw new ProblemError('consent-not-found', { detail: `No consent ${req.params['id']}.` });
    return record;
  };

  api.route(
    {
      method: 'get',
      path: '/me/consents/:id',
      summary: 'One of my consents',
      tags,
      security: selfSecurity,
      params: idParams,
      responses: { '200': { description: 'The record', schema: recordSchema } },
    },
    self,
    async (req, res) => {
      res.json(await mine(req));
    },
  );

  api.route(
    {
      method: 'get',
      path: '/me/consents/:id/events',
      summary: 'History of one of my consents',
      tags,
      security: selfSecurity,
      params: idParams,
    },
    self,
    async (req, res) => {
      const record = await mine(req);
      res.json({ events: await consent.events(record.id) });
    },
  );

  api.route(
    {
      method: 'get',
      path: '/me/consents/:id/receipt',
      summary: 'Signed consent receipt (JSON download)',
      tags,
      security: selfSecurity,
      params: idParams,
    },
    self,
    async (req, res) => {
      const receipt = await consent.receipt(String(req.params['id']), resident(req));
      res.set('Content-Disposition', `attachment; filename="consent-receipt-${req.params['id']}.json"`);
      res.set('Cache-Control', 'no-store');
      res.json(receipt);
    },
  );

  for (const action of ['pause', 'resume', 'withdraw'] as const) {
    api.route(
      {
        method: 'post',
        path: `/me/consents/:id/${action}`,
        summary: `${action[0]!.toUpperCase()}${action.slice(1)} one of my consents (a data flow's pair moves together)`,
        tags,
        security: selfSecurity,
        params: idParams,
        responses: { '200': { description: 'The records after the change', schema: changeResponse } },
      },
      self,
      async (req, res) => {
        const who = resident(req);
        const id = String(req.params['id']);
        answer(
          res,
          await runIdempotent(
            ctx.db,
            { actor: who, key: req.get('idempotency-key'), request: { op: action, id }, now: ctx.now() },
            async (tx) => {
              const result = await consent.change({ id, resident: who, action }, 'resident', tx);
              return { status: 200, body: { consents: result.records, changed: result.changed } };
            },
          ),
        );
      },
    );
  }

  api.route(
    {
      method: 'get',
      path: '/me/history',
      summary: 'Every change to my consents, newest first',
      tags,
      security: selfSecurity,
    },
    self,
    async (req, res) => {
      res.json({ events: await consent.history(resident(req)) });
    },
  );

  api.route(
    { method: 'get', path: '/me/links', summary: 'My linked service accounts', tags, security: selfSecurity },
    self,
    async (req, res) => {
      res.json({ links: await consent.links(resident(req)) });
    },
  );

  api.route(
    {
      method: 'post',
      path: '/me/links',
      summary: 'Link a partner service account with the one-time code the service showed',
      tags,
      security: selfSecurity,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['code'],
        properties: { code: { type: 'string', minLength: 8, maxLength: 20 } },
      },
    },
    self,
    async (req, res) => {
      const who = resident(req);
      const code = (req.body as { code: string }).code;
      answer(
        res,
        await runIdempotent(
          ctx.db,
          // The code itself is a secret: only its hash is kept with the answer.
          { actor: who, key: req.get('idempotency-key'), request: { op: 'link', code }, now: ctx.now() },
          async (tx) => ({ status: 201, body: await consent.link(who, code, 'resident', tx) }),
        ),
      );
    },
  );

  api.route(
    {
      method: 'delete',
      path: '/me/links/:service',
      summary: 'Unlink my account at a partner service',
      tags,
      security: selfSecurity,
      params: { type: 'object', required: ['service'], properties: { service: serviceId } },
    },
    self,
    async (req, res) => {
      res.json(await consent.unlink(resident(req), String(req.params['service'])));
    },
  );

  api.route(
    {
      method: 'post',
      path: '/link-codes',
      summary:
        'A one-time code (10 minutes) for the signed-in user of the calling service to link their account',
      tags,
      security: { bearer: [SCOPES.link] },
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['accountRef'],
        properties: { accountRef: { type: 'string', minLength: 1, maxLength: 200 } },
      },
    },
    ctx.http.requireToken([SCOPES.link]),
    async (req, res) => {
      res.set('Cache-Control', 'no-store');
      res
        .status(201)
        .json(
          await consent.issueLinkCode(req.auth!.clientId, (req.body as { accountRef: string }).accountRef),
        );
    },
  );

  api.route(
    {
      method: 'post',
      path: '/decisions',
      summary:
        'May the calling service receive (or, with `recipient`, pass on) an item about a resident now?',
      tags,
      security: { bearer: [SCOPES.decide] },
      body: decisionBody,
      responses: { '200': { description: 'allow or deny', schema: decisionResponse } },
    },
    ctx.http.requireToken([SCOPES.decide]),
    async (req, res) => {
      const caller = req.auth!.clientId;
      const body = req.body as {
        subject: string;
        item: string;
        purpose: string;
        source?: string;
        recipient?: string;
      };
      if (body.source && body.recipient)
        throw new ProblemError('validation-failed', { detail: 'Give either source or recipient, not both.' });
      const commonId = await directory.commonIdForSubject(caller, body.subject);
      const decision: Decision = commonId
        ? await consent.decide({
            resident: commonId,
            service: body.recipient ?? caller,
            source: body.recipient ? caller : (body.source ?? null),
            item: body.item,
            purpose: body.purpose,
          })
        : { decision: 'deny', reason: 'no-consent' };
      res.set('Cache-Control', 'no-store');
      res.json(decision);
    },
  );

  api.route(
    {
      method: 'put',
      path: '/webhook',
      summary: 'Register where consent status records for the calling service are delivered',
      tags,
      security: { bearer: [SCOPES.webhook] },
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['url'],
        properties: { url: { type: 'string', format: 'uri', maxLength: 2000 } },
      },
    },
    ctx.http.requireToken([SCOPES.webhook]),
    async (req, res) => {
      const caller = req.auth!.clientId;
      res.json(await consent.registerWebhook(caller, (req.body as { url: string }).url, `service:${caller}`));
    },
  );

  api.route(
    { method: 'get', path: '/receipt-keys', summary: 'Public keys that sign consent receipts (JWKS)', tags },
    async (_req, res) => {
      res.json(await consent.receiptKeys());
    },
  );

  api.route(
    { method: 'get', path: '/data-items', summary: 'The data items a consent can be about', tags },
    (_req, res) => {
      res.json({ items: Object.entries(consent.dataItems).map(([item, label]) => ({ item, ...label })) });
    },
  );

  api.route(
    {
      method: 'get',
      path: '/notices/:noticeId',
      summary: 'A privacy notice (latest version, or ?version=n)',
      tags,
      params: { type: 'object', required: ['noticeId'], properties: { noticeId: code } },
      query: {
        type: 'object',
        additionalProperties: false,
        properties: { version: { type: 'integer', minimum: 1 } },
      },
    },
    async (req, res) => {
      const version = (req.query as { version?: number }).version;
      const notice = await consent.notice(String(req.params['noticeId']), version);
      if (!notice)
        throw new ProblemError('notice-not-found', { detail: `No notice ${req.params['noticeId']}.` });
      res.json(notice);
    },
  );

  const admin = ctx.http.createRouter('/api/admin/consent');
  admin.route(
    {
      method: 'post',
      path: '/notices',
      summary: 'Publish a new version of a privacy notice (material: residents must consent again)',
      tags,
      security: { bearer: [SCOPES.admin] },
      body: noticeBody,
    },
    ctx.http.adminOnly,
    ctx.http.requireToken([SCOPES.admin]),
    async (req, res) => {
      res.status(201).json(await consent.publishNotice(req.body, `staff:${req.auth!.subject}`));
    },
  );
  return [api, admin];
}
