/**
 * Staff API of the migration import (admin IP allow-list + `points:admin`), for the admin console
 * and scripts — the same service as `npm run tsunagu -- import …`:
 *
 *   POST /api/points/admin/migration/:kind?source=NAME[&dryRun=true][&mapping={…}]
 *        kind: balances | history | visits; body: the export (text/csv, application/json up to
 *        BODY_LIMIT, or application/octet-stream; UTF-8 or Shift_JIS). 200 with the report (dry run), 201 when imported, 422
 *        `migration-rows-invalid` with the report when a row is wrong (nothing written).
 *
 * Holders are the identity provider's residents imported under the same source name (legacy ids).
 * The body is read into memory and dropped: the platform keeps only the imported rows.
 */
import express from 'express';
import { defineProblem, type ModuleContext, ProblemError } from '../../core/index.ts';
import type { IdpServices } from '../../idp/index.ts';
import type { MigrationService } from './migration_service.ts';
import type { Mapping } from './read_source.ts';

defineProblem('migration-rows-invalid', {
  status: 422,
  title: 'The export has invalid rows or does not reconcile; nothing was written',
});

const PREFIX = '/api/points/admin/migration';

export function migrationAdminRouter(ctx: ModuleContext, migration: MigrationService) {
  const { router, route } = ctx.http.createRouter(PREFIX);
  const guard = [ctx.http.adminOnly, ctx.http.requireToken(['points:admin'])];
  route(
    {
      method: 'post',
      path: '/:kind',
      summary: "Import a previous system's balances, history or visits (report, then write)",
      tags: ['points-admin'],
      security: { bearer: ['points:admin'] },
      params: {
        type: 'object',
        required: ['kind'],
        properties: { kind: { enum: ['balances', 'history', 'visits'] } },
      },
      query: {
        type: 'object',
        required: ['source'],
        properties: {
          source: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' },
          dryRun: { type: 'boolean', default: false },
          mapping: { type: 'string', maxLength: 4000 },
        },
      },
    },
    ...guard,
    express.raw({
      type: ['text/csv', 'text/plain', 'application/json', 'application/octet-stream'],
      limit: '50mb',
    }),
    async (req, res) => {
      // JSON arrives parsed by the platform (up to BODY_LIMIT); larger exports go as octet-stream.
      const body: unknown = req.body;
      const bytes = Buffer.isBuffer(body)
        ? new Uint8Array(body)
        : req.is('application/json') && typeof body === 'object' && body !== null
          ? new TextEncoder().encode(JSON.stringify(body))
          : undefined;
      if (!bytes)
        throw new ProblemError('unsupported-media-type', {
          detail: 'Send the export as text/csv or application/json.',
        });
      let mapping: Mapping | undefined;
      if (typeof req.query['mapping'] === 'string') {
        try {
          mapping = JSON.parse(req.query['mapping']) as Mapping;
        } catch {
          throw new ProblemError('validation-failed', { detail: 'mapping must be a JSON object' });
        }
      }
      const idp = ctx.services['idp'] as IdpServices | undefined;
      if (!idp) throw new ProblemError('not-ready', { detail: 'The identity provider is not assembled.' });
      const source = String(req.query['source']);
      const input = {
        source,
        bytes,
        actor: `staff:${req.auth!.subject}`,
        resolveHolder: (id: string) => idp.residents.findByLegacy(source, id),
        dryRun: String(req.query['dryRun']) === 'true',
        ...(mapping ? { mapping } : {}),
      };
      const kind = String(req.params['kind']);
      const report =
        kind === 'balances'
          ? await migration.importBalances(input)
          : kind === 'history'
            ? await migration.importHistory(input)
            : await migration.importVisits(input);
      if (report.fileProblem || report.issues.length > 0 || !report.reconciliation.every((l) => l.reconciled))
        throw new ProblemError('migration-rows-invalid', {
          detail: report.fileProblem ?? 'See the report.',
          report,
        });
      res.status(report.applied ? 201 : 200).json(report);
    },
  );
  return { prefix: PREFIX, router };
}
