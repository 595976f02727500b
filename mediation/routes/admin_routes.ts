/**
 * Staff routes (admin address range + scope):
 *
 *   GET/POST  /api/admin/mediation/services                 mediation:admin  list / register a service
 *   GET/PATCH /api/admin/mediation/services/:service        mediation:admin  one / change it
 *   POST      /api/admin/mediation/services/:service/{disable,enable}
 *   GET       /api/admin/mediation/log                      mediation:log    filtered entries, JSON or CSV (audited)
 *   GET       /api/admin/mediation/log/verify               mediation:log    chain, checkpoints, segments
 *   POST      /api/admin/mediation/log/retention            mediation:admin  archive and purge due segments
 *   GET       /api/admin/mediation/keys                     mediation:admin  data keys and rows per key
 *   POST      /api/admin/mediation/keys/:municipality/rotate mediation:admin new data key; rows move in the background
 */
import { type ModuleContext, ProblemError } from '../../core/index.ts';
import { staffQuery, toCsv } from '../access_history.ts';
import type { MediationServices } from '../mediation_services.ts';

const purposeSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['code', 'label'],
  properties: {
    code: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
    label: { type: 'string', minLength: 1, maxLength: 200 },
    suppressDays: { type: 'integer', minimum: 0, maximum: 3650 },
  },
};
const flowSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['to', 'items', 'purposes'],
  properties: {
    to: { type: 'string', minLength: 1 },
    items: { type: 'array', items: { type: 'string' } },
    purposes: { type: 'array', items: { type: 'string' } },
  },
};
const serviceFields = {
  name: { type: 'string', minLength: 1, maxLength: 200 },
  items: { type: 'array', items: { type: 'string' }, maxItems: 50 },
  purposes: { type: 'array', items: purposeSchema, maxItems: 50 },
  flows: { type: 'array', items: flowSchema, maxItems: 50 },
};
const serviceParams = { type: 'object', properties: { service: { type: 'string', minLength: 1 } } };

export function adminRoutes(ctx: ModuleContext, services: MediationServices) {
  const { router, route } = ctx.http.createRouter('/api/admin/mediation');
  const admin = [ctx.http.adminOnly, ctx.http.requireToken(['mediation:admin'])];
  const logReader = [ctx.http.adminOnly, ctx.http.requireToken(['mediation:log'])];
  const actor = (req: { auth?: { subject: string } }) => `staff:${req.auth!.subject}`;
  const sec = (scope: string) => ({ bearer: [scope] });

  route(
    {
      method: 'get',
      path: '/services',
      summary: 'Registered services',
      tags: ['mediation-admin'],
      security: sec('mediation:admin'),
    },
    ...admin,
    async (_req, res) => {
      res.json({ services: await services.registry.list() });
    },
  );
  route(
    {
      method: 'post',
      path: '/services',
      summary: 'Register a partner service: items, purposes, flows',
      tags: ['mediation-admin'],
      security: sec('mediation:admin'),
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['service', 'name', 'items', 'purposes'],
        properties: { service: { type: 'string', minLength: 1, maxLength: 128 }, ...serviceFields },
      },
    },
    ...admin,
    async (req, res) => {
      res.status(201).json(await services.registry.add(req.body, actor(req)));
    },
  );
  route(
    {
      method: 'get',
      path: '/services/:service',
      summary: 'One registered service',
      tags: ['mediation-admin'],
      params: serviceParams,
      security: sec('mediation:admin'),
    },
    ...admin,
    async (req, res) => {
      const found = await services.registry.get(String(req.params['service']));
      if (!found) throw new ProblemError('mediation-service-not-found', { detail: 'Not registered.' });
      res.json(found);
    },
  );
  route(
    {
      method: 'patch',
      path: '/services/:service',
      summary: 'Change a registered service',
      tags: ['mediation-admin'],
      params: serviceParams,
      security: sec('mediation:admin'),
      body: { type: 'object', additionalProperties: false, minProperties: 1, properties: serviceFields },
    },
    ...admin,
    async (req, res) => {
      res.json(await services.registry.update(String(req.params['service']), req.body, actor(req)));
    },
  );
  for (const action of ['disable', 'enable'] as const) {
    route(
      {
        method: 'post',
        path: `/services/:service/${action}`,
        summary: `${action} a service`,
        tags: ['mediation-admin'],
        params: serviceParams,
        security: sec('mediation:admin'),
      },
      ...admin,
      async (req, res) => {
        res.json(
          await services.registry.setState(
            String(req.params['service']),
            action === 'enable' ? 'active' : 'disabled',
            actor(req),
          ),
        );
      },
    );
  }

  route(
    {
      method: 'get',
      path: '/log',
      summary: 'Access log entries with filters (JSON or CSV); the read is audited',
      tags: ['mediation-admin'],
      security: sec('mediation:log'),
      query: {
        type: 'object',
        additionalProperties: false,
        properties: {
          service: { type: 'string' },
          resident: { type: 'string' },
          purpose: { type: 'string' },
          decision: { enum: ['allow', 'partial', 'deny'] },
          kind: { enum: ['read', 'flow-send', 'flow-receive'] },
          from: { type: 'string', format: 'date-time' },
          to: { type: 'string', format: 'date-time' },
          after: { type: 'integer', minimum: 0 },
          limit: { type: 'integer', minimum: 1, maximum: 10000 },
          format: { enum: ['json', 'csv'] },
        },
      },
    },
    ...logReader,
    async (req, res) => {
      const { format, from, to, ...rest } = req.query as Record<string, string | number | undefined>;
      const filter = {
        ...rest,
        ...(from ? { from: new Date(String(from)) } : {}),
        ...(to ? { to: new Date(String(to)) } : {}),
      };
      const entries = await staffQuery(ctx.db, filter as Parameters<typeof staffQuery>[1]);
      await ctx.audit.record({
        actor: actor(req),
        action: 'mediation.log.read',
        target: 'mediation:access-log',
        details: { filter: req.query, entries: entries.length },
      });
      res.set('cache-control', 'no-store');
      if (format === 'csv') {
        res.type('text/csv; charset=utf-8').attachment('access-log.csv').send(toCsv(entries, true));
        return;
      }
      res.json({ entries });
    },
  );
  route(
    {
      method: 'get',
      path: '/log/verify',
      summary: 'Verify the access log chain',
      tags: ['mediation-admin'],
      security: sec('mediation:log'),
    },
    ...logReader,
    async (_req, res) => {
      const report = await services.verifyLog();
      res.status(report.ok ? 200 : 409).json(report);
    },
  );
  route(
    {
      method: 'post',
      path: '/log/retention',
      summary: 'Archive and purge the segments past retention',
      tags: ['mediation-admin'],
      security: sec('mediation:admin'),
    },
    ...admin,
    async (req, res) => {
      res.json({ purged: await services.runRetention(actor(req)) });
    },
  );
  route(
    {
      method: 'get',
      path: '/keys',
      summary: 'Data keys per municipality',
      tags: ['mediation-admin'],
      security: sec('mediation:admin'),
    },
    ...admin,
    async (_req, res) => {
      res.json({ keys: await services.keyStatus() });
    },
  );
  route(
    {
      method: 'post',
      path: '/keys/:municipality/rotate',
      summary: 'New data key for a municipality; existing rows are re-encrypted in the background',
      tags: ['mediation-admin'],
      params: {
        type: 'object',
        properties: { municipality: { type: 'string', pattern: '^[0-9A-Za-z-]{1,32}$' } },
      },
      security: sec('mediation:admin'),
    },
    ...admin,
    async (req, res) => {
      res.json(await services.rotateDataKey(String(req.params['municipality']), actor(req)));
    },
  );
  return router;
}
