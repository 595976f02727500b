/**
 * Public, read-only access to published datasets (no login; a per-client rate limit on top of the
 * platform's): the catalogue as DCAT-style JSON, the original file, the same data as UTF-8 CSV, and
 * the entities as NGSIv2 JSON.
 *
 *   GET /api/opendata/catalog                   published datasets
 *   GET /api/opendata/catalog/:id/original      the file as uploaded
 *   GET /api/opendata/catalog/:id/csv           the file re-encoded as UTF-8 with BOM (cells untouched)
 *   GET /api/opendata/catalog/:id/entities      NGSIv2 entities (limit ≤ 1000, offset, options=keyValues)
 */
import { createReadStream } from 'node:fs';
import { rateLimit } from 'express-rate-limit';
import { type ModuleContext, ProblemError } from '../core/index.ts';
import { StrictDecoder } from './decode_stream.ts';
import type { OpendataService } from './service.ts';

const params = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,100}$' } },
};

export function publicRoutes(ctx: ModuleContext, service: OpendataService, perMinute: number) {
  const api = ctx.http.createRouter('/api/opendata/catalog');
  const tags = ['opendata'];
  const limiter = rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, _res, next, options) =>
      next(
        new ProblemError('rate-limited', {
          detail: `Limit of ${options.limit} requests per minute exceeded.`,
          headers: { 'Retry-After': String(Math.ceil(options.windowMs / 1000)) },
        }),
      ),
  });

  api.route(
    { method: 'get', path: '/', summary: 'Published datasets (DCAT-style, public)', tags },
    limiter,
    async (_req, res) => {
      res.json(await service.listDatasets(true));
    },
  );

  api.route(
    { method: 'get', path: '/:id/original', summary: 'Original file of a published dataset', tags, params },
    limiter,
    async (req, res) => {
      const { upload } = await service.publishedRelease(req.params['id'] as string);
      res.type('text/csv').attachment(upload.fileName);
      createReadStream(service.fileOf(upload.id)).pipe(res);
    },
  );

  api.route(
    { method: 'get', path: '/:id/csv', summary: 'A published dataset as UTF-8 CSV with BOM', tags, params },
    limiter,
    async (req, res) => {
      const { upload } = await service.publishedRelease(req.params['id'] as string);
      const decoder = new StrictDecoder(upload.report.encoding);
      res.type('text/csv; charset=utf-8').attachment(`${req.params['id']}.csv`);
      res.write('\ufeff');
      for await (const chunk of createReadStream(service.fileOf(upload.id))) {
        if (!res.write(decoder.push(chunk))) await new Promise((r) => res.once('drain', r));
      }
      res.end(decoder.end());
    },
  );

  api.route(
    {
      method: 'get',
      path: '/:id/entities',
      summary: 'Entities of a published dataset as NGSIv2 JSON (public, read-only)',
      tags,
      params,
      query: {
        type: 'object',
        additionalProperties: false,
        properties: {
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 20 },
          offset: { type: 'integer', minimum: 0, default: 0 },
          options: { type: 'string', enum: ['keyValues', 'normalized'] },
        },
      },
    },
    limiter,
    async (req, res) => {
      const id = req.params['id'] as string;
      const { entityType } = await service.publishedRelease(id);
      const q = req.query as unknown as { limit: number; offset: number; options?: string };
      const { entities, totalCount } = await service.publicEntities(id, entityType, {
        limit: q.limit,
        offset: q.offset,
        keyValues: q.options === 'keyValues',
      });
      res.setHeader('Fiware-Total-Count', String(totalCount ?? entities.length));
      res.json(entities);
    },
  );

  return api;
}
