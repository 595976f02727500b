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
      const { rows: inbox } = await ctx.db.query<{ adapter: string; day: string; last: Date | null }>(
        `SELECT adapter, count(*) FILTER (WHERE received_at > $1)::text AS day, max(received_at) AS last
           FROM adapters.inbox GROUP BY adapter`,
        [new Date(ctx.now().getTime() - 86_400_000)],
      );
      const { rows: outbox } = await ctx.db.query<{
        adapter: string;
        pending: string;
        dead: string;
        done: string;
        oldest: Date | null;
      }>(
        `SELECT adapter, count(*) FILTER (WHERE status = 'pending')::text AS pending,
                count(*) FILTER (WHERE status = 'dead')::text AS dead,
                count(*) FILTER (WHERE status = 'done')::text AS done,
                min(created_at) FILTER (WHERE status = 'pending') AS oldest
           FROM adapters.outbox GROUP BY adapter`,
      );
      const items = await Promise.all(
        adapters().map(async (a) => {
          const i = inbox.find((r) => r.adapter === a.name);
          const o = outbox.find((r) => r.adapter === a.name);
          return {
            name: a.name,
            inbox: { last24h: Number(i?.day ?? 0), lastReceivedAt: i?.last?.toISOString() ?? null },
            outbox: {
              pending: Number(o?.pending ?? 0),
              dead: Number(o?.dead ?? 0),
              done: Number(o?.done ?? 0),
              oldestPendingAt: o?.oldest?.toISOString() ?? null,
            },
            details: (await a.status?.()) ?? {},
          };
        }),
      );
      res.json({ adapters: items });
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
