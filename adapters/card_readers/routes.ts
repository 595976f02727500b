/**
 * Card-reader HTTP surface.
 *
 * Terminals (per-terminal HMAC signature, see verify_terminal.ts):
 *   POST /api/adapters/card-readers/v1/touches        one card touch
 *   POST /api/adapters/card-readers/v1/city-ids       a registration desk: a city ID for the card's free area
 *     raw body          the signature covers the exact bytes (this router parses nothing)
 *     verify terminal   401 terminal-unauthorized / terminal-revoked (audited): nothing read or written
 *     parse touch       400 payload-malformed
 *     record touch      403 facility mismatch, 422 card-unknown / touch-invalid; replay → 200
 *
 * Staff (admin allow-list + `adapters:admin`), under /api/admin/adapters/card-readers:
 *   GET/PUT /facilities[/:code]   POST /terminals   GET /terminals   POST /terminals/:id/revoke
 *   POST /city-ids   PUT /guardians   DELETE /guardians   PUT /bus-eligibility   PUT /rules/:kind/:action
 *   GET /shelters   GET /shelters/:code/roster   GET /facilities/:code/days/:day   GET /aggregates?from&to&facility
 */
import express from 'express';
import type { AuditLog, Database, ModuleContext } from '../../core/index.ts';
import { STAFF_SCOPE, type Sealer } from '../kit/index.ts';
import type { CardService } from './card_service.ts';
import { parseCityIdRequest, parseTouch } from './parse_touch.ts';
import { ACTIONS_BY_KIND } from './record_touch.ts';
import { verifyTerminal } from './verify_terminal.ts';

export const TERMINAL_PREFIX = '/api/adapters/card-readers/v1';
export const CARD_STAFF_PREFIX = '/api/admin/adapters/card-readers';

const code = { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' };
const resident = { type: 'string', minLength: 1, maxLength: 64 };
const date = { type: 'string', format: 'date' };
const kinds = Object.keys(ACTIONS_BY_KIND);

export function cardRouters(
  ctx: ModuleContext,
  cards: CardService,
  auth: { db: Database; audit: AuditLog; sealer: Sealer; now: () => Date },
) {
  const terminal = ctx.http.createRouter(TERMINAL_PREFIX);
  terminal.route(
    {
      method: 'post',
      path: '/touches',
      summary:
        'A card touch at a facility terminal (X-Terminal-Id, X-Terminal-Timestamp, X-Terminal-Signature)',
      tags: ['adapters-card-readers'],
      responses: {
        '201': { description: 'Visit recorded' },
        '200': { description: 'Replay of a touch already recorded' },
        '400': { description: 'payload-malformed' },
        '401': { description: 'terminal-unauthorized, terminal-revoked' },
        '422': { description: 'card-unknown, touch-invalid' },
      },
    },
    express.raw({ type: () => true, limit: '16kb' }),
    async (req, res) => {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const who = await verifyTerminal(
        auth,
        {
          id: req.get('x-terminal-id'),
          timestamp: req.get('x-terminal-timestamp'),
          signature: req.get('x-terminal-signature'),
        },
        body,
      );
      const touch = parseTouch(body);
      const { replayed, body: answer } = await cards.touch(who, touch);
      if (replayed) res.set('Idempotent-Replayed', 'true');
      res.status(replayed ? 200 : 201).json(answer);
    },
  );

  terminal.route(
    {
      method: 'post',
      path: '/city-ids',
      summary: "A registration desk's request for a city ID for the card on its reader (signed like touches)",
      tags: ['adapters-card-readers'],
      responses: {
        '201': { description: 'City ID to write into the card free area' },
        '200': { description: 'Replay of a request already answered' },
        '401': { description: 'terminal-unauthorized, terminal-revoked' },
        '403': { description: 'not a registration desk' },
        '422': { description: 'card-unknown' },
      },
    },
    express.raw({ type: () => true, limit: '16kb' }),
    async (req, res) => {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const who = await verifyTerminal(
        auth,
        {
          id: req.get('x-terminal-id'),
          timestamp: req.get('x-terminal-timestamp'),
          signature: req.get('x-terminal-signature'),
        },
        body,
      );
      const { replayed, cityId } = await cards.issueAtDesk(who, parseCityIdRequest(body));
      if (replayed) res.set('Idempotent-Replayed', 'true');
      res.set('Cache-Control', 'no-store');
      res.status(replayed ? 200 : 201).json({ cityId });
    },
  );

  const staff = ctx.http.createRouter(CARD_STAFF_PREFIX);
  const guard = [ctx.http.adminOnly, ctx.http.requireToken([STAFF_SCOPE])];
  const tags = ['adapters-admin'];
  const security = { bearer: [STAFF_SCOPE] };
  const actor = (req: express.Request) => `staff:${req.auth!.subject}`;
  const params = (names: Record<string, unknown>) => ({
    type: 'object',
    required: Object.keys(names),
    properties: names,
  });
  const object = (required: string[], properties: Record<string, unknown>) => ({
    type: 'object',
    additionalProperties: false,
    required,
    properties,
  });

  staff.route(
    { method: 'get', path: '/facilities', summary: 'Card-reader facilities', tags, security },
    ...guard,
    async (_req, res) => {
      res.json({ items: await cards.facilities() });
    },
  );
  staff.route(
    {
      method: 'put',
      path: '/facilities/:code',
      summary: 'Create or change a facility',
      tags,
      security,
      params: params({ code }),
      body: object(['kind', 'name', 'municipality'], {
        kind: { enum: kinds },
        name: { type: 'string', minLength: 1, maxLength: 200 },
        municipality: code,
        capacity: { type: ['integer', 'null'], minimum: 1 },
      }),
    },
    ...guard,
    async (req, res) => {
      const body = req.body as { kind: never; name: string; municipality: string; capacity?: number | null };
      res.json(await cards.putFacility({ ...body, code: (req.params as { code: string }).code }, actor(req)));
    },
  );
  staff.route(
    {
      method: 'post',
      path: '/terminals',
      summary: 'Register a terminal; the answer carries its secret once',
      tags,
      security,
      body: object(['id', 'facility'], { id: code, facility: code }),
    },
    ...guard,
    async (req, res) => {
      res
        .status(201)
        .json(await cards.registerTerminal(req.body as { id: string; facility: string }, actor(req)));
    },
  );
  staff.route(
    { method: 'get', path: '/terminals', summary: 'Terminals and their state', tags, security },
    ...guard,
    async (_req, res) => {
      res.json({ items: await cards.terminals() });
    },
  );
  staff.route(
    {
      method: 'post',
      path: '/terminals/:id/revoke',
      summary: 'Revoke a terminal: its next request is refused',
      tags,
      security,
      params: params({ id: code }),
    },
    ...guard,
    async (req, res) => {
      await cards.revokeTerminal((req.params as { id: string }).id, actor(req));
      res.status(204).end();
    },
  );
  staff.route(
    {
      method: 'post',
      path: '/city-ids',
      summary: "Issue a city ID for the resident's card free area (an earlier one stops working)",
      tags,
      security,
      body: object(['resident'], { resident }),
    },
    ...guard,
    async (req, res) => {
      res.status(201).json(await cards.issueCityId((req.body as { resident: string }).resident, actor(req)));
    },
  );
  staff.route(
    {
      method: 'put',
      path: '/guardians',
      summary: "A child's guardian, who receives nursery notices",
      tags,
      security,
      body: object(['child', 'guardian', 'label'], {
        child: resident,
        guardian: resident,
        label: { type: 'string', minLength: 1, maxLength: 50 },
      }),
    },
    ...guard,
    async (req, res) => {
      await cards.putGuardian(req.body as { child: string; guardian: string; label: string }, actor(req));
      res.status(204).end();
    },
  );
  staff.route(
    {
      method: 'delete',
      path: '/guardians',
      summary: 'Remove a guardian relation',
      tags,
      security,
      body: object(['child', 'guardian'], { child: resident, guardian: resident }),
    },
    ...guard,
    async (req, res) => {
      await cards.removeGuardian(req.body as { child: string; guardian: string }, actor(req));
      res.status(204).end();
    },
  );
  staff.route(
    {
      method: 'put',
      path: '/bus-eligibility',
      summary: 'A community-bus fare-discount category of a resident for a period',
      tags,
      security,
      body: object(['resident', 'category', 'validFrom', 'validUntil'], {
        resident,
        category: code,
        validFrom: date,
        validUntil: date,
      }),
    },
    ...guard,
    async (req, res) => {
      await cards.putBusEligibility(
        req.body as { resident: string; category: string; validFrom: string; validUntil: string },
        actor(req),
      );
      res.status(204).end();
    },
  );
  staff.route(
    {
      method: 'put',
      path: '/rules/:kind/:action',
      summary: 'Points for a visit of a facility kind and action',
      tags,
      security,
      params: params({ kind: { enum: kinds }, action: { type: 'string', maxLength: 20 } }),
      body: object(['points', 'currency', 'pool', 'pointType'], {
        points: { type: 'integer', minimum: 1, maximum: 1_000_000 },
        currency: { type: 'string', minLength: 1, maxLength: 64 },
        pool: { type: 'string', minLength: 1, maxLength: 64 },
        pointType: { type: 'string', minLength: 1, maxLength: 64 },
        oncePerDay: { type: 'boolean', default: true },
        active: { type: 'boolean', default: true },
      }),
    },
    ...guard,
    async (req, res) => {
      const p = req.params as { kind: never; action: string };
      const body = req.body as {
        points: number;
        currency: string;
        pool: string;
        pointType: string;
        oncePerDay: boolean;
        active: boolean;
      };
      res.json(await cards.putRule({ ...body, kind: p.kind, action: p.action }, actor(req)));
    },
  );
  staff.route(
    { method: 'get', path: '/shelters', summary: 'Shelters with how many are in each now', tags, security },
    ...guard,
    async (_req, res) => {
      res.json(await cards.shelters());
    },
  );
  staff.route(
    {
      method: 'get',
      path: '/shelters/:code/roster',
      summary: 'Who is in a shelter now (live roster for disaster staff; audited)',
      tags,
      security,
      params: params({ code }),
    },
    ...guard,
    async (req, res) => {
      res.json(await cards.shelterRoster((req.params as { code: string }).code, actor(req)));
    },
  );
  staff.route(
    {
      method: 'get',
      path: '/facilities/:code/days/:day',
      summary: "A facility's visits of one JST day (audited)",
      tags,
      security,
      params: params({ code, day: date }),
    },
    ...guard,
    async (req, res) => {
      const p = req.params as { code: string; day: string };
      res.json(await cards.facilityDay(p.code, p.day, actor(req)));
    },
  );
  staff.route(
    {
      method: 'get',
      path: '/aggregates',
      summary: 'Touches and residents per facility, JST day and action',
      tags,
      security,
      query: object(['from', 'to'], { from: date, to: date, facility: code }),
    },
    ...guard,
    async (req, res) => {
      res.json(
        await cards.aggregates(req.query as unknown as { from: string; to: string; facility?: string }),
      );
    },
  );

  return [
    { prefix: TERMINAL_PREFIX, router: terminal.router, parseBody: false, rateLimit: false },
    { prefix: CARD_STAFF_PREFIX, router: staff.router },
  ];
}
