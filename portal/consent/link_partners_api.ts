/**
 * Staff API for the partners residents link by signing in there, under
 * `/api/admin/portal/link-partners`: admin IP allow-list + bearer token with `portal:link-partners`.
 * The client secret goes in, sealed; it never comes out.
 *
 *   GET    /            every partner: service, issuer, client id, scope; and our redirect URI
 *   PUT    /:service    {issuer, clientId, clientSecret, scope?} → the partner (audited)
 *   DELETE /:service    → 204; 404 when there was none (audited)
 */
import type { Request } from 'express';
import type { ModuleContext } from '../../core/index.ts';
import { ProblemError } from '../../core/index.ts';
import type { LinkPartners } from './link_partners.ts';

export const LINK_PARTNERS_ADMIN_PREFIX = '/api/admin/portal/link-partners';
export const LINK_PARTNERS_SCOPE = 'portal:link-partners';

const serviceParams = {
  type: 'object',
  required: ['service'],
  properties: { service: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$' } },
};

export function linkPartnersAdminApi(ctx: ModuleContext, partners: LinkPartners) {
  const { router, route } = ctx.http.createRouter(LINK_PARTNERS_ADMIN_PREFIX);
  const guard = [ctx.http.adminOnly, ctx.http.requireToken([LINK_PARTNERS_SCOPE])];
  const security = { bearer: [LINK_PARTNERS_SCOPE] };
  const tags = ['portal-link-partners'];
  const staff = (req: Request) => `staff:${req.auth!.subject}`;

  route(
    { method: 'get', path: '/', summary: 'Partners residents link by signing in there', tags, security },
    ...guard,
    async (_req, res) => {
      res.json({ redirectUri: partners.redirectUri, partners: await partners.list() });
    },
  );

  route(
    {
      method: 'put',
      path: '/:service',
      summary: 'Add or replace a partner: its OpenID provider and the platform’s client there',
      tags,
      security,
      params: serviceParams,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['issuer', 'clientId', 'clientSecret'],
        properties: {
          issuer: { type: 'string', minLength: 8, maxLength: 500 },
          clientId: { type: 'string', minLength: 1, maxLength: 255 },
          clientSecret: { type: 'string', minLength: 1, maxLength: 1000 },
          scope: { type: 'string', maxLength: 500 },
        },
      },
    },
    ...guard,
    async (req, res) => {
      const body = req.body as { issuer: string; clientId: string; clientSecret: string; scope?: string };
      const partner = await partners.register(
        { service: String(req.params['service']), ...body, scope: body.scope ?? 'openid' },
        staff(req),
      );
      res.json({ partner, redirectUri: partners.redirectUri });
    },
  );

  route(
    {
      method: 'delete',
      path: '/:service',
      summary: 'Stop offering linking by sign-in',
      tags,
      security,
      params: serviceParams,
    },
    ...guard,
    async (req, res) => {
      if (!(await partners.remove(String(req.params['service']), staff(req))))
        throw new ProblemError('not-found', { detail: 'No such link partner.' });
      res.status(204).end();
    },
  );
  return router;
}
