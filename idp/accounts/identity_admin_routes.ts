/**
 * Staff routes for identity corrections (admin address range + `idp:identity` scope), and the
 * partner-facing feed of link events:
 *
 *   GET  /api/admin/idp/reviews                     open duplicate candidates
 *   GET  /api/admin/idp/link-changes                proposed, applied and failed corrections
 *   POST /api/admin/idp/link-changes                propose unlink / split / merge / review decision
 *   POST /api/admin/idp/link-changes/:id/approve    a second staff member applies it
 *   GET  /api/idp/events?after=N                    a partner service's events (its own token)
 */
import type { ModuleContext, ModuleRouter } from '../../core/index.ts';
import type { IdentityProofing } from '../jpki/identity_proofing.ts';
import type { LinkChangeRequest, LinkChanges } from './link_changes.ts';

export const IDENTITY_SCOPE = 'idp:identity';

const id = { type: 'string', pattern: '^[0-9]{1,18}$' };
const commonId = { type: 'string', pattern: '^[a-z2-7]{26}$' };
const reason = { type: 'string', minLength: 1, maxLength: 1000 };
const proposal = {
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['operation', 'evidenceId', 'reason'],
      properties: { operation: { const: 'unlink' }, evidenceId: id, reason },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['operation', 'commonId', 'evidenceIds', 'reason'],
      properties: {
        operation: { const: 'split' },
        commonId,
        evidenceIds: { type: 'array', minItems: 1, maxItems: 20, items: id },
        reason,
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['operation', 'from', 'into', 'reason'],
      properties: { operation: { const: 'merge' }, from: commonId, into: commonId, reason },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['operation', 'reviewId', 'decision', 'reason'],
      properties: {
        operation: { const: 'review' },
        reviewId: id,
        decision: { enum: ['link', 'reject'] },
        reason,
      },
    },
  ],
};

export function identityAdminRoutes(
  ctx: ModuleContext,
  links: LinkChanges,
  proofing: IdentityProofing,
): { admin: ModuleRouter; partner: ModuleRouter } {
  const admin = ctx.http.createRouter('/api/admin/idp');
  const guard = [ctx.http.adminOnly, ctx.http.requireToken([IDENTITY_SCOPE])];
  const security = { bearer: [IDENTITY_SCOPE] };
  const tags = ['idp'];
  const actor = (req: { auth?: { subject: string } }) => `client:${req.auth?.subject ?? 'unknown'}`;

  admin.route(
    { method: 'get', path: '/reviews', summary: 'Open duplicate candidates', tags, security },
    ...guard,
    async (_req, res) => {
      res.json({ reviews: await proofing.reviewQueue() });
    },
  );
  admin.route(
    { method: 'get', path: '/link-changes', summary: 'Link corrections', tags, security },
    ...guard,
    async (_req, res) => {
      res.json({ changes: await links.list() });
    },
  );
  admin.route(
    {
      method: 'post',
      path: '/link-changes',
      summary: 'Propose a link correction',
      tags,
      security,
      body: proposal,
    },
    ...guard,
    async (req, res) => {
      res.status(201).json(await links.propose(req.body as LinkChangeRequest, actor(req)));
    },
  );
  admin.route(
    {
      method: 'post',
      path: '/link-changes/:id/approve',
      summary: 'Approve and apply a link correction (a second staff member)',
      tags,
      security,
      params: { type: 'object', required: ['id'], properties: { id } },
    },
    ...guard,
    async (req, res) => {
      res.json(await links.approve(String(req.params['id']), actor(req)));
    },
  );

  const partner = ctx.http.createRouter('/api/idp');
  partner.route(
    {
      method: 'get',
      path: '/events',
      summary: 'Link events for the calling partner service (identifier changes, revoked sessions)',
      tags,
      security: { bearer: [] },
      query: {
        type: 'object',
        additionalProperties: false,
        properties: { after: { type: 'integer', minimum: 0, default: 0 } },
      },
    },
    ctx.http.requireToken([]),
    async (req, res) => {
      const after = String((req.query as { after?: number }).after ?? 0);
      res.json({ events: await links.events(req.auth!.clientId, after) });
    },
  );
  return { admin, partner };
}
