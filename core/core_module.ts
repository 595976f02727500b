/**
 * Core's own routes: health and readiness, the OpenAPI document, and the staff view of the audit
 * log (admin address, `audit:read` scope; reading the audit log is itself audited).
 */

import { auditMigrations } from './audit/schema.ts';
import { ProblemError } from './http/problem.ts';
import type { ModuleMigrations } from './migrations.ts';
import { pendingMigrations } from './migrations.ts';
import type { ModuleFactory } from './module.ts';

export const coreMigrations: ModuleMigrations = {
  module: 'core',
  schema: 'core',
  migrations: auditMigrations,
};

export interface CoreServices {
  /** Set by the platform once every module's migrations are known. */
  setExpectedMigrations(sets: readonly ModuleMigrations[]): void;
}

const entrySchema = {
  type: 'object',
  properties: {
    seq: { type: 'integer' },
    at: { type: 'string', format: 'date-time' },
    actor: { type: 'string' },
    action: { type: 'string' },
    target: { type: 'string' },
    details: { type: 'object' },
    hash: { type: 'string' },
  },
} as const;

export const createCoreModule: ModuleFactory<CoreServices> = (ctx) => {
  let expected: readonly ModuleMigrations[] = [coreMigrations];
  const health = ctx.http.createRouter('');
  const admin = ctx.http.createRouter('/api/admin/audit');
  const me = ctx.http.createRouter('/api/me');

  health.route(
    { method: 'get', path: '/healthz', summary: 'Process is alive', tags: ['operations'] },
    (_req, res) => {
      res.json({ status: 'ok' });
    },
  );
  health.route(
    {
      method: 'get',
      path: '/readyz',
      summary: 'Database reachable and migrations applied',
      tags: ['operations'],
    },
    async (_req, res, next) => {
      try {
        const pending = await pendingMigrations(ctx.db, expected);
        if (pending.length > 0) {
          return next(new ProblemError('not-ready', { detail: `${pending.length} migration(s) pending` }));
        }
        res.json({ status: 'ready' });
      } catch {
        next(new ProblemError('not-ready', { detail: 'database unreachable' }));
      }
    },
  );

  me.route(
    {
      method: 'get',
      path: '/',
      summary: 'Who the presented access token stands for (audited as an authentication event)',
      tags: ['auth'],
      security: { bearer: [] },
      responses: {
        '200': {
          description: 'The token holder',
          schema: {
            type: 'object',
            properties: {
              subject: { type: 'string' },
              clientId: { type: 'string' },
              scopes: { type: 'array', items: { type: 'string' } },
            },
          },
        },
      },
    },
    ctx.http.requireToken(),
    async (req, res) => {
      const { subject, clientId, scopes } = req.auth!;
      await ctx.audit.record({ actor: `client:${clientId}`, action: 'auth.token.used', target: 'api:me' });
      res.json({ subject, clientId, scopes });
    },
  );

  admin.route(
    {
      method: 'get',
      path: '/head',
      summary: 'Current length and head hash of the audit chain, and the last signed checkpoint',
      tags: ['audit'],
      security: { bearer: ['audit:read'] },
    },
    ctx.http.adminOnly,
    ctx.http.requireToken(['audit:read']),
    async (req, res) => {
      const { rows } = await ctx.db.query<{ seq: string | null; hash: string | null; cp: string | null }>(
        `SELECT (SELECT seq FROM core.audit_log ORDER BY seq DESC LIMIT 1) AS seq,
                (SELECT hash FROM core.audit_log ORDER BY seq DESC LIMIT 1) AS hash,
                (SELECT max(size) FROM core.audit_checkpoints) AS cp`,
      );
      const row = rows[0];
      await ctx.audit.record({
        actor: `client:${req.auth!.clientId}`,
        action: 'audit.head.read',
        target: 'audit',
      });
      res.json({
        size: Number(row?.seq ?? 0),
        head: row?.hash ?? null,
        lastCheckpoint: row?.cp === null || row?.cp === undefined ? null : Number(row.cp),
      });
    },
  );

  admin.route(
    {
      method: 'get',
      path: '/entries',
      summary: 'Audit entries after a sequence number, oldest first',
      tags: ['audit'],
      security: { bearer: ['audit:read'] },
      query: {
        type: 'object',
        additionalProperties: false,
        properties: {
          after: { type: 'integer', minimum: 0, default: 0 },
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          target: { type: 'string', maxLength: 200 },
        },
      },
      responses: {
        '200': {
          description: 'Entries',
          schema: { type: 'object', properties: { entries: { type: 'array', items: entrySchema } } },
        },
      },
    },
    ctx.http.adminOnly,
    ctx.http.requireToken(['audit:read']),
    async (req, res) => {
      const { after, limit, target } = req.query as unknown as {
        after: number;
        limit: number;
        target?: string;
      };
      const { rows } = await ctx.db.query(
        `SELECT seq::int AS seq, at, actor, action, target, details, hash FROM core.audit_log
          WHERE seq > $1 AND ($3::text IS NULL OR target = $3) ORDER BY seq LIMIT $2`,
        [after, limit, target ?? null],
      );
      await ctx.audit.record({
        actor: `client:${req.auth!.clientId}`,
        action: 'audit.entries.read',
        target: 'audit',
        details: { after, count: rows.length },
      });
      res.json({ entries: rows });
    },
  );

  return {
    name: 'core',
    migrations: coreMigrations,
    routers: [
      { prefix: '', router: health.router },
      { prefix: '/api/admin/audit', router: admin.router },
      { prefix: '/api/me', router: me.router },
    ],
    services: {
      setExpectedMigrations(sets) {
        expected = sets;
      },
    },
  };
};
