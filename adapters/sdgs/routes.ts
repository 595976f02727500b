/**
 * SDGs site API (partner bearer token, client credentials) and its staff API:
 *
 *   POST /api/adapters/sdgs/v1/activities          sdgs:activities   one activity event (idempotent by eventId)
 *   GET  /api/admin/adapters/sdgs/rules             adapters:admin    point rules per activity
 *   PUT  /api/admin/adapters/sdgs/rules/:activity   adapters:admin    create or replace a rule (audited)
 *   GET  /api/admin/adapters/sdgs/meter/:municipality  adapters:admin the city's meter per goal
 */
import type { ModuleContext } from '../../core/index.ts';
import { ProblemError } from '../../core/index.ts';
import { STAFF_SCOPE } from '../kit/index.ts';
import type { ActivityEvent, createSdgsService, SdgsRule } from './sdgs_service.ts';

export const SDGS_PREFIX = '/api/adapters/sdgs/v1';
export const SDGS_STAFF_PREFIX = '/api/admin/adapters/sdgs';
export const SDGS_SCOPE = 'sdgs:activities';

const activityCode = { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' };
const goal = { type: 'integer', minimum: 1, maximum: 17 };

const activitySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['eventId', 'subject', 'activity', 'goals', 'amount', 'occurredAt'],
  properties: {
    eventId: { type: 'string', pattern: '^[\\x21-\\x7e]{1,128}$' },
    subject: { type: 'string', minLength: 1, maxLength: 255 },
    activity: activityCode,
    goals: { type: 'array', minItems: 1, maxItems: 17, items: goal },
    amount: { type: 'number', minimum: 0, maximum: 1_000_000, multipleOf: 0.01 },
    occurredAt: { type: 'string', format: 'date-time' },
  },
};

const ruleSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'municipality', 'goals', 'currency', 'pool', 'pointType', 'pointsPerUnit'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    municipality: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' },
    goals: { type: 'array', minItems: 1, maxItems: 17, uniqueItems: true, items: goal },
    currency: { type: 'string', minLength: 1, maxLength: 64 },
    pool: { type: 'string', minLength: 1, maxLength: 64 },
    pointType: { type: 'string', minLength: 1, maxLength: 64 },
    pointsPerUnit: { type: 'integer', minimum: 0, maximum: 1_000_000 },
    maxPointsPerEvent: { type: ['integer', 'null'], minimum: 1, default: null },
    dailyCap: { type: ['integer', 'null'], minimum: 1, default: null },
    active: { type: 'boolean', default: true },
  },
};

type Sdgs = ReturnType<typeof createSdgsService>;

export function sdgsRouters(ctx: ModuleContext, sdgs: Sdgs) {
  const partner = ctx.http.createRouter(SDGS_PREFIX);
  partner.route(
    {
      method: 'post',
      path: '/activities',
      summary: 'An SDGs activity of a resident: points by the activity rule, SDGs meter updated',
      tags: ['adapters-sdgs'],
      security: { bearer: [SDGS_SCOPE] },
      body: activitySchema,
    },
    ctx.http.requireToken([SDGS_SCOPE]),
    async (req, res) => {
      const event = req.body as ActivityEvent;
      const key = req.get('idempotency-key');
      if (key !== undefined && key !== event.eventId)
        throw new ProblemError('validation-failed', { detail: 'Idempotency-Key must equal eventId.' });
      const { outcome, replayed } = await sdgs.receive(req.auth!.clientId, event);
      const { request: _hash, goals, ...rest } = outcome;
      if (replayed) res.set('Idempotent-Replayed', 'true');
      res.status(replayed ? 200 : 201).json({ ...rest, goals: String(goals).split(',').map(Number) });
    },
  );

  const staff = ctx.http.createRouter(SDGS_STAFF_PREFIX);
  const guard = [ctx.http.adminOnly, ctx.http.requireToken([STAFF_SCOPE])];
  const tags = ['adapters-admin'];
  const security = { bearer: [STAFF_SCOPE] };
  staff.route(
    { method: 'get', path: '/rules', summary: 'SDGs point rules', tags, security },
    ...guard,
    async (_req, res) => {
      res.json({ items: await sdgs.rules() });
    },
  );
  staff.route(
    {
      method: 'put',
      path: '/rules/:activity',
      summary: 'Create or replace the point rule of an SDGs activity',
      tags,
      security,
      params: { type: 'object', required: ['activity'], properties: { activity: activityCode } },
      body: ruleSchema,
    },
    ...guard,
    async (req, res) => {
      const activity = (req.params as { activity: string }).activity;
      const rule = await sdgs.putRule(
        { ...(req.body as Omit<SdgsRule, 'activity'>), activity },
        `staff:${req.auth!.subject}`,
      );
      res.json(rule);
    },
  );
  staff.route(
    {
      method: 'get',
      path: '/meter/:municipality',
      summary: "The city's SDGs meter per goal",
      tags,
      security,
      params: {
        type: 'object',
        required: ['municipality'],
        properties: { municipality: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' } },
      },
    },
    ...guard,
    async (req, res) => {
      res.json(await sdgs.cityMeter((req.params as { municipality: string }).municipality));
    },
  );
  return [
    { prefix: SDGS_PREFIX, router: partner.router },
    { prefix: SDGS_STAFF_PREFIX, router: staff.router },
  ];
}
