/**
 * Staff API for the public site under /api/admin/portal/directory: admin IP allow-list + bearer
 * token with `portal:directory`. Every change is audited in its transaction.
 *
 *   GET  /changes?status=pending          merchants' submitted directory changes (newest first)
 *   GET  /changes/:id                     one change, with the shop as published now
 *   POST /changes/:id/approve             publish the change (409 when already decided or stale)
 *   POST /changes/:id/reject {reason}     refuse it; the merchant sees the reason
 *   GET  /earn-activities/:id             an activity that grants points
 *   POST /earn-activities                 add one (where to earn)
 *   PUT  /earn-activities/:id             replace one (published: false hides it)
 */
import type { Request } from 'express';
import type { ModuleContext } from '../../core/index.ts';
import type { DirectoryStore } from './directory_store.ts';
import { EARN_ACTIVITY_SCHEMA, type EarnActivityInput, type EarnStore } from './earn_store.ts';

export const DIRECTORY_ADMIN_PREFIX = '/api/admin/portal/directory';
export const DIRECTORY_SCOPE = 'portal:directory';

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[0-9]{1,18}$' } },
};

export function directoryAdminApi(ctx: ModuleContext, store: DirectoryStore, earn: EarnStore) {
  const { router, route } = ctx.http.createRouter(DIRECTORY_ADMIN_PREFIX);
  const guard = [ctx.http.adminOnly, ctx.http.requireToken([DIRECTORY_SCOPE])];
  const security = { bearer: [DIRECTORY_SCOPE] };
  const tags = ['portal-directory'];
  const staff = (req: Request) => `staff:${req.auth!.subject}`;

  route(
    {
      method: 'get',
      path: '/changes',
      summary: 'Directory changes submitted by merchants',
      tags,
      security,
      query: {
        type: 'object',
        additionalProperties: false,
        properties: {
          status: { enum: ['pending', 'approved', 'rejected', 'superseded'] },
          merchant: { type: 'string', maxLength: 100 },
          limit: { type: 'integer', minimum: 1, maximum: 500 },
        },
      },
    },
    ...guard,
    async (req, res) => {
      const q = req.query as { status?: 'pending'; merchant?: string; limit?: number };
      res.json(
        await store.changes({
          ...(q.status ? { status: q.status } : {}),
          ...(q.merchant ? { merchantId: q.merchant } : {}),
          ...(q.limit ? { limit: q.limit } : {}),
        }),
      );
    },
  );

  route(
    {
      method: 'get',
      path: '/changes/:id',
      summary: 'One directory change',
      tags,
      security,
      params: idParams,
    },
    ...guard,
    async (req, res) => {
      const change = await store.change(req.params['id'] as string);
      const published = await store.shop(change.merchantId, { includeInactive: true });
      res.json({ ...change, published: published ?? null });
    },
  );

  route(
    {
      method: 'post',
      path: '/changes/:id/approve',
      summary: 'Publish a directory change',
      tags,
      security,
      params: idParams,
    },
    ...guard,
    async (req, res) => {
      res.json(await store.decide(req.params['id'] as string, 'approve', staff(req)));
    },
  );

  route(
    {
      method: 'post',
      path: '/changes/:id/reject',
      summary: 'Refuse a directory change, with a reason the merchant sees',
      tags,
      security,
      params: idParams,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['reason'],
        properties: { reason: { type: 'string', minLength: 1, maxLength: 1000 } },
      },
    },
    ...guard,
    async (req, res) => {
      const { reason } = req.body as { reason: string };
      res.json(await store.decide(req.params['id'] as string, 'reject', staff(req), reason));
    },
  );

  route(
    {
      method: 'get',
      path: '/earn-activities/:id',
      summary: 'An activity that grants points',
      tags,
      security,
      params: idParams,
    },
    ...guard,
    async (req, res) => {
      res.json(await earn.get(req.params['id'] as string));
    },
  );

  route(
    {
      method: 'post',
      path: '/earn-activities',
      summary: 'Add an activity that grants points (where to earn)',
      tags,
      security,
      body: EARN_ACTIVITY_SCHEMA,
    },
    ...guard,
    async (req, res) => {
      res.status(201).json(await earn.create(req.body as EarnActivityInput, staff(req)));
    },
  );

  route(
    {
      method: 'put',
      path: '/earn-activities/:id',
      summary: 'Replace an activity that grants points',
      tags,
      security,
      params: idParams,
      body: EARN_ACTIVITY_SCHEMA,
    },
    ...guard,
    async (req, res) => {
      res.json(await earn.update(req.params['id'] as string, req.body as EarnActivityInput, staff(req)));
    },
  );

  return router;
}
