/**
 * The partner API (client-credentials tokens from idp; the idp verifier enforces each client's IP
 * allow-list) and the resident's own history:
 *
 *   POST /api/mediation/v1/requests        mediation:read   read consented items for a declared purpose
 *   POST /api/mediation/v1/flows           mediation:flow   send items to another service (data-flow consent)
 *   POST /api/mediation/v1/flows/receive   mediation:flow   fetch the deliveries sent to this service
 *   POST /api/mediation/v1/flows/ack       mediation:flow   acknowledge them (payloads deleted)
 *   GET  /api/mediation/me/accesses        mediation:self   the resident's access history (JSON or CSV)
 *
 * A refused token from a known client (address outside its allow-list, missing scope) is logged as
 * an attempt like any other refusal.
 */
import type { RequestHandler } from 'express';
import { type ModuleContext, ProblemError } from '../../core/index.ts';
import { residentHistory, toCsv } from '../access_history.ts';
import type { AccessKind, AccessLog } from '../access_log.ts';
import { ackFlows, type FlowDeps, receiveFlows, sendFlow } from '../data_flows.ts';
import { runIdempotent } from '../idempotency.ts';
import { provideItems } from '../provide_items.ts';

const subject = { type: 'string', minLength: 1, maxLength: 256 } as const;
const purpose = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' } as const;
const itemCode = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' } as const;

const readBody = {
  type: 'object',
  additionalProperties: false,
  required: ['subject', 'items', 'purpose'],
  properties: { subject, purpose, items: { type: 'array', minItems: 1, maxItems: 20, items: itemCode } },
};
const flowBody = {
  type: 'object',
  additionalProperties: false,
  required: ['to', 'subject', 'items', 'purpose'],
  properties: {
    to: { type: 'string', minLength: 1, maxLength: 128 },
    subject,
    purpose,
    items: {
      type: 'object',
      minProperties: 1,
      maxProperties: 20,
      propertyNames: itemCode,
      additionalProperties: { type: 'string', maxLength: 65536 },
    },
  },
};

const consentsSchema = {
  type: 'array',
  items: {
    type: 'object',
    properties: { item: { type: 'string' }, consentId: { type: 'string' }, version: { type: 'integer' } },
  },
};

/** requireToken, plus a log entry when a known client is refused. */
function authenticate(
  ctx: ModuleContext,
  deps: FlowDeps & { log: AccessLog },
  scope: string,
  kind: AccessKind,
): RequestHandler {
  const check = ctx.http.requireToken([scope]);
  return (req, res, next) => {
    // The verifier may throw (ip-not-allowed) instead of calling next: both end up in `after`.
    const after = async (error?: unknown) => {
      if (!(error instanceof ProblemError) || !['ip-not-allowed', 'insufficient-scope'].includes(error.code))
        return next(error as Error | undefined);
      try {
        const token = /^Bearer +(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
        const client = req.auth?.clientId ?? (token ? await deps.directory.clientOfToken(token) : undefined);
        if (client) {
          const body = (req.body ?? {}) as Record<string, unknown>;
          const str = (v: unknown) => (typeof v === 'string' ? v.slice(0, 256) : '');
          const items = Array.isArray(body['items'])
            ? (body['items'] as unknown[]).filter((i): i is string => typeof i === 'string').slice(0, 20)
            : body['items'] && typeof body['items'] === 'object'
              ? Object.keys(body['items']).slice(0, 20)
              : [];
          const sender = kind === 'flow-send';
          const sub = str(body['subject']);
          await deps.log.record({
            kind,
            service: sender ? str(body['to']) || '-' : client,
            source: sender ? client : null,
            resident: sub ? ((await deps.directory.residentFor(client, sub)) ?? null) : null,
            items,
            purpose: str(body['purpose']),
            decision: 'deny',
            code: error.code,
            consents: [],
          });
        }
      } catch (logError) {
        ctx.logger.error({ err: logError }, 'mediation: could not log a refused token');
      }
      next(error);
    };
    Promise.resolve(check(req, res, after)).catch(after);
  };
}

export function partnerRoutes(ctx: ModuleContext, deps: FlowDeps) {
  const { router, route } = ctx.http.createRouter('/api/mediation');
  router.use('/v1/requests', authenticate(ctx, deps, 'mediation:read', 'read'));
  router.use('/v1/flows/receive', authenticate(ctx, deps, 'mediation:flow', 'flow-receive'));
  router.use('/v1/flows/ack', authenticate(ctx, deps, 'mediation:flow', 'flow-receive'));
  router.use(/^\/v1\/flows\/?$/, authenticate(ctx, deps, 'mediation:flow', 'flow-send'));

  route(
    {
      method: 'post',
      path: '/v1/requests',
      summary: 'Read consented items of a resident (pairwise subject) for a declared purpose',
      tags: ['mediation'],
      security: { bearer: ['mediation:read'] },
      body: readBody,
      responses: {
        '200': {
          description: 'The consented items, with the consent id and version each rests on',
          schema: {
            type: 'object',
            properties: {
              subject: { type: 'string' },
              purpose: { type: 'string' },
              items: { type: 'object', additionalProperties: { type: 'string' } },
              consents: consentsSchema,
              withheld: { type: 'array', items: { type: 'string' } },
              unavailable: { type: 'array', items: { type: 'string' } },
            },
          },
        },
        '403': {
          description: '`not-permitted` (never tells whether the resident exists), or a registry code',
        },
        '503': { description: '`access-log-unavailable`: nothing provided' },
      },
    },
    async (req, res) => {
      const body = req.body as { subject: string; items: string[]; purpose: string };
      res.set('cache-control', 'no-store');
      res.json(await provideItems(deps, { service: req.auth!.clientId, ...body }));
    },
  );

  route(
    {
      method: 'post',
      path: '/v1/flows',
      summary: 'Send items about a resident to another service under a data-flow consent',
      tags: ['mediation'],
      security: { bearer: ['mediation:flow'] },
      body: flowBody,
      responses: {
        '202': {
          description: 'Delivered items wait for the recipient; `Idempotency-Key` makes a retry safe',
        },
      },
    },
    async (req, res) => {
      const body = req.body as {
        to: string;
        subject: string;
        items: Record<string, string>;
        purpose: string;
      };
      const source = req.auth!.clientId;
      const { body: answer, replayed } = await runIdempotent(
        deps.db,
        { service: source, key: req.get('idempotency-key'), request: body, now: deps.now() },
        (tx) => sendFlow(deps, { source, ...body }, tx),
      );
      if (replayed) res.set('Idempotent-Replayed', 'true');
      res.status(202).json(answer);
    },
  );

  route(
    {
      method: 'post',
      path: '/v1/flows/receive',
      summary:
        'Fetch the items other services sent to this service (consent checked again now; kept until acknowledged)',
      tags: ['mediation'],
      security: { bearer: ['mediation:flow'] },
      query: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 200 } } },
      responses: { '200': { description: 'Deliveries, each with the pairwise subject this service knows' } },
    },
    async (req, res) => {
      const limit = (req.query as { limit?: number }).limit;
      res.set('cache-control', 'no-store');
      res.json({ deliveries: await receiveFlows(deps, req.auth!.clientId, limit) });
    },
  );

  route(
    {
      method: 'post',
      path: '/v1/flows/ack',
      summary: 'Acknowledge received deliveries: their sealed payloads are deleted (idempotent)',
      tags: ['mediation'],
      security: { bearer: ['mediation:flow'] },
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['flowIds'],
        properties: {
          flowIds: { type: 'array', minItems: 1, maxItems: 200, items: { type: 'string', maxLength: 64 } },
        },
      },
    },
    async (req, res) => {
      const { flowIds } = req.body as { flowIds: string[] };
      res.json({ acknowledged: await ackFlows(deps, req.auth!.clientId, flowIds) });
    },
  );

  route(
    {
      method: 'get',
      path: '/me/accesses',
      summary: 'Who accessed my data, when and why (JSON or CSV)',
      tags: ['mediation'],
      security: { bearer: ['mediation:self'] },
      query: {
        type: 'object',
        additionalProperties: false,
        properties: {
          format: { enum: ['json', 'csv'] },
          limit: { type: 'integer', minimum: 1, maximum: 5000 },
        },
      },
    },
    ctx.http.requireToken(['mediation:self']),
    async (req, res) => {
      const auth = req.auth!;
      if (auth.subject === auth.clientId)
        throw new ProblemError('forbidden', { detail: 'A resident token is required.' });
      const q = req.query as { format?: 'json' | 'csv'; limit?: number };
      const entries = await residentHistory(ctx.db, auth.subject, ctx.now(), { limit: q.limit ?? 500 });
      res.set('cache-control', 'no-store');
      if (q.format === 'csv') {
        res.type('text/csv; charset=utf-8').attachment('access-history.csv').send(toCsv(entries, false));
        return;
      }
      res.json({ entries });
    },
  );
  return router;
}
