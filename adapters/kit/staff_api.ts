/**
 * Staff JSON API under /api/admin/adapters: admin IP allow-list + bearer token with `adapters:admin`.
 *
 *   GET  /status                    per adapter: inbox and outbox counts, oldest pending, own figures
 *   GET  /inbox?adapter&before      events acted on, newest first (ids and outcome codes only)
 *   GET  /outbox?adapter&status&before   outgoing messages (never their payloads)
 *   GET  /dead-letters?adapter      messages that gave up
 *   POST /outbox/:id/retry          a dead letter back in the queue (audited)
 */
import type { ModuleContext } from '../../core/index.ts';
import { ProblemError } from '../../core/index.ts';
import type { AdapterDefinition } from './adapter.ts';
import type { Kit } from './kit.ts';
import './problems.ts';
import { adapterStatus } from './status.ts';

export const STAFF_PREFIX = '/api/admin/adapters';
export const STAFF_SCOPE = 'adapters:admin';

const adapterName = { type: 'string', pattern: '^[a-z][a-z0-9_-]{0,31}$' };
const limit = { type: 'integer', minimum: 1, maximum: 500 };

export function staffRouter(ctx: ModuleContext, kit: Kit, adapters: () => readonly AdapterDefinition[]) {
  const { router, route } = ctx.http.createRouter(STAFF_PREFIX);
  const guard = [ctx.http.adminOnly, ctx.http.requireToken([STAFF_SCOPE])];
  const security = { bearer: [STAFF_SCOPE] };
  const tags = ['adapters-admin'];

  route(
    {
      method: 'get',
      path: '/status',
      summary: 'Every adapter: inbox, outbox and its own figures',
      tags,
      security,
    },
    ...guard,
    async (_req, res) => {
      res.json({ adapters: await adapterStatus(ctx, adapters()) });
    },
  );

  route(
    {
      method: 'get',
      path: '/inbox',
      summary: 'Outside events the adapters acted on, newest first',
      tags,
      security,
      query: {
        type: 'object',
        additionalProperties: false,
        properties: { adapter: adapterName, limit, before: { type: 'string', format: 'date-time' } },
      },
    },
    ...guard,
    async (req, res) => {
      const q = req.query as { adapter?: string; limit?: number; before?: string };
      res.json({ items: await kit.inbox.list(q) });
    },
  );

  const outboxQuery = {
    type: 'object',
    additionalProperties: false,
    properties: {
      adapter: adapterName,
      status: { enum: ['pending', 'done', 'dead'] },
      limit,
      before: { type: 'string', pattern: '^[0-9]{1,18}$' },
    },
  };

  route(
    {
      method: 'get',
      path: '/outbox',
      summary: 'Outgoing messages (without payloads)',
      tags,
      security,
      query: outboxQuery,
    },
    ...guard,
    async (req, res) => {
      res.json({ items: await kit.outbox.list(req.query as Parameters<Kit['outbox']['list']>[0]) });
    },
  );

  route(
    {
      method: 'get',
      path: '/dead-letters',
      summary: 'Messages that gave up after their retry budget or a permanent refusal',
      tags,
      security,
      query: outboxQuery,
    },
    ...guard,
    async (req, res) => {
      const q = req.query as Parameters<Kit['outbox']['list']>[0];
      res.json({ items: await kit.outbox.list({ ...q, status: 'dead' }) });
    },
  );

  route(
    {
      method: 'post',
      path: '/outbox/:id/retry',
      summary: 'Queue a dead letter again with a fresh attempt budget',
      tags,
      security,
      params: {
        type: 'object',
        required: ['id'],
        properties: { id: { type: 'string', pattern: '^[0-9]{1,18}$' } },
      },
    },
    ...guard,
    async (req, res) => {
      const id = String(req.params['id']);
      await kit.outbox.retry(id, `staff:${req.auth!.subject}`);
      const entry = await kit.outbox.get(id);
      if (!entry) throw new ProblemError('outbox-message-unknown');
      res.json(entry);
    },
  );

  return { prefix: STAFF_PREFIX, router };
}
