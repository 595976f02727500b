/**
 * Staff API for merchant sign-in under /api/admin/portal/merchant-accounts: admin IP allow-list +
 * bearer token with `portal:directory`. The generated password is in the answer only, once.
 *
 *   POST /                 {merchant, loginId} → 201 {account, password}
 *   GET  /?merchant=       accounts (never passwords)
 *   POST /:id/reset        → {account, password}: a fresh password; the old one and its sessions end
 *   POST /:id/disable      the account can no longer sign in; its sessions end
 */
import type { Request } from 'express';
import type { ModuleContext } from '../../core/index.ts';
import { DIRECTORY_SCOPE } from '../public/admin_api.ts';
import type { MerchantAccounts } from './merchant_accounts.ts';

export const MERCHANT_ADMIN_PREFIX = '/api/admin/portal/merchant-accounts';

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[0-9]{1,18}$' } },
};

export function merchantAdminApi(ctx: ModuleContext, accounts: MerchantAccounts) {
  const { router, route } = ctx.http.createRouter(MERCHANT_ADMIN_PREFIX);
  const guard = [ctx.http.adminOnly, ctx.http.requireToken([DIRECTORY_SCOPE])];
  const security = { bearer: [DIRECTORY_SCOPE] };
  const tags = ['portal-merchants'];
  const staff = (req: Request) => `staff:${req.auth!.subject}`;

  route(
    {
      method: 'post',
      path: '/',
      summary: 'Issue a merchant console account (the password is shown once)',
      tags,
      security,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['merchant', 'loginId'],
        properties: {
          merchant: { type: 'string', minLength: 1, maxLength: 100 },
          loginId: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{2,63}$' },
        },
      },
    },
    ...guard,
    async (req, res) => {
      const body = req.body as { merchant: string; loginId: string };
      res
        .status(201)
        .json(await accounts.issue({ merchantId: body.merchant, loginId: body.loginId }, staff(req)));
    },
  );

  route(
    {
      method: 'get',
      path: '/',
      summary: 'Merchant console accounts',
      tags,
      security,
      query: {
        type: 'object',
        additionalProperties: false,
        properties: { merchant: { type: 'string', maxLength: 100 } },
      },
    },
    ...guard,
    async (req, res) => {
      res.json(await accounts.list((req.query as { merchant?: string }).merchant));
    },
  );

  route(
    {
      method: 'post',
      path: '/:id/reset',
      summary: 'A fresh password for a merchant account',
      tags,
      security,
      params: idParams,
    },
    ...guard,
    async (req, res) => {
      res.json(await accounts.reset(req.params['id'] as string, staff(req)));
    },
  );

  route(
    {
      method: 'post',
      path: '/:id/disable',
      summary: 'Disable a merchant account',
      tags,
      security,
      params: idParams,
    },
    ...guard,
    async (req, res) => {
      res.json(await accounts.disable(req.params['id'] as string, staff(req)));
    },
  );

  return router;
}
