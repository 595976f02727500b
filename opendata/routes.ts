/**
 * The open-data HTTP API. Staff routes need an admin address and an `opendata:admin` token:
 *
 *   POST /api/opendata/uploads                 receive (streamed to disk) → analyse → report + preview
 *   GET  /api/opendata/uploads/:id             the upload and its report
 *   POST /api/opendata/uploads/:id/analyse     analyse again with other choices
 *   GET  /api/opendata/uploads/:id/report.csv  the report for Excel (UTF-8 with BOM)
 *   GET  /api/opendata/uploads/:id/diff        new / changed / missing entities against the registered dataset
 *   POST /api/opendata/uploads/:id/confirm     register the valid rows in the broker (202, then poll), new catalogue version
 *   GET  /api/opendata/datasets                the catalogue (DCAT-style)
 *   POST /api/opendata/datasets/:id/publish | /unpublish
 *
 * Public, no login: GET /api/opendata/schemas (the column dictionary), GET /api/opendata/rules
 * (the report's vocabulary); published datasets in `public_routes.ts`.
 */
import type { Request } from 'express';
import { type ModuleContext, ProblemError } from '../core/index.ts';
import { type CustomMapping, customMappingSchema } from './custom_dataset.ts';
import { RULES } from './messages.ts';
import './problems.ts';
import { rowSchema } from './analyse_upload.ts';
import { receiveFile, TooLargeError } from './receive_file.ts';
import { reportCsv } from './report_csv.ts';
import { type AnalyseChoices, type OpendataService, toProblem } from './service.ts';
import { STANDARD_DATASETS } from './standard_datasets.ts';

export const ADMIN_SCOPE = 'opendata:admin';

const choiceProps = {
  encoding: { type: 'string', enum: ['auto', 'utf-8', 'shift_jis'] },
  dataset: { type: 'string', enum: STANDARD_DATASETS.map((d) => d.id) },
  headerLine: { type: 'integer', minimum: 1, maximum: 1000 },
  municipalityCode: { type: 'string', pattern: '^\\d{6}$' },
};
const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', format: 'uuid' } },
};
const datasetParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,100}$' } },
};

function choicesFrom(q: Record<string, unknown>): AnalyseChoices {
  const choices: AnalyseChoices = {};
  if (q['encoding'] !== undefined) choices.encoding = q['encoding'] as AnalyseChoices['encoding'];
  if (q['dataset'] !== undefined) choices.dataset = q['dataset'] as string;
  if (q['headerLine'] !== undefined) choices.headerLine = Number(q['headerLine']);
  if (q['municipalityCode'] !== undefined) choices.municipalityCode = q['municipalityCode'] as string;
  if (typeof q['dropColumns'] === 'string' && q['dropColumns'] !== '')
    choices.dropColumns = q['dropColumns'].split(',');
  else if (Array.isArray(q['dropColumns'])) choices.dropColumns = q['dropColumns'] as string[];
  if (q['custom'] !== undefined) choices.custom = q['custom'] as CustomMapping;
  return choices;
}

const actor = (req: Request) => `client:${req.auth?.subject ?? 'unknown'}`;

export function opendataRoutes(ctx: ModuleContext, service: OpendataService, maxUploadBytes: number) {
  const api = ctx.http.createRouter('/api/opendata');
  const guard = [ctx.http.adminOnly, ctx.http.requireToken([ADMIN_SCOPE])];
  const security = { bearer: [ADMIN_SCOPE] };
  const tags = ['opendata'];

  api.route(
    {
      method: 'post',
      path: '/uploads',
      summary: 'Upload a CSV file (raw body, up to 200 MB) and analyse it',
      tags,
      security,
      query: {
        type: 'object',
        additionalProperties: false,
        required: ['fileName'],
        properties: {
          fileName: { type: 'string', minLength: 1, maxLength: 255 },
          ...choiceProps,
          dropColumns: { type: 'string' },
        },
      },
      responses: { '201': { description: 'Analysed upload with its report' } },
    },
    ...guard,
    async (req, res, next) => {
      try {
        await service.ensureDir();
        const id = service.newUploadId();
        let received: { bytes: number; sha256: string };
        try {
          received = await receiveFile(req, service.fileOf(id), maxUploadBytes);
        } catch (error) {
          if (error instanceof TooLargeError) {
            res.setHeader('Connection', 'close');
            throw new ProblemError('body-too-large', {
              detail: `ファイルは ${maxUploadBytes} バイトまでです。 / Files are limited to ${maxUploadBytes} bytes.`,
            });
          }
          throw error;
        }
        const q = req.query as Record<string, unknown>;
        const upload = await service.createUpload({
          id,
          fileName: q['fileName'] as string,
          ...received,
          choices: choicesFrom(q),
          actor: actor(req),
        });
        res.status(201).location(`/api/opendata/uploads/${id}`).json(upload);
      } catch (error) {
        next(toProblem(error));
      }
    },
  );

  api.route(
    {
      method: 'get',
      path: '/uploads/:id',
      summary: 'An upload and its report',
      tags,
      security,
      params: idParams,
    },
    ...guard,
    async (req, res) => {
      res.json(await service.get(req.params['id'] as string));
    },
  );

  api.route(
    {
      method: 'post',
      path: '/uploads/:id/analyse',
      summary: 'Analyse a stored upload again with other choices',
      tags,
      security,
      params: idParams,
      body: {
        type: 'object',
        additionalProperties: false,
        properties: {
          ...choiceProps,
          dropColumns: { type: 'array', items: { type: 'string' }, maxItems: 100 },
          custom: customMappingSchema,
        },
      },
    },
    ...guard,
    async (req, res) => {
      res.json(await service.reanalyse(req.params['id'] as string, choicesFrom(req.body), actor(req)));
    },
  );

  api.route(
    {
      method: 'get',
      path: '/uploads/:id/report.csv',
      summary: 'Validation report as CSV (UTF-8 with BOM)',
      tags,
      security,
      params: idParams,
    },
    ...guard,
    async (req, res) => {
      const upload = await service.get(req.params['id'] as string);
      res
        .type('text/csv; charset=utf-8')
        .attachment(`report-${upload.id}.csv`)
        .send(reportCsv(upload.report.issues));
    },
  );

  api.route(
    {
      method: 'post',
      path: '/uploads/:id/confirm',
      summary: 'Start registering the upload in the broker and the catalogue (poll the upload for progress)',
      tags,
      security,
      params: idParams,
      body: {
        type: 'object',
        additionalProperties: false,
        properties: {
          datasetId: datasetParams.properties.id,
          title: { type: 'string', minLength: 1, maxLength: 200 },
          description: { type: 'string', maxLength: 5000 },
          publisher: { type: 'string', maxLength: 200 },
          license: { type: 'string', maxLength: 200 },
          frequency: { type: 'string', maxLength: 50 },
          keywords: { type: 'array', items: { type: 'string', maxLength: 50 }, maxItems: 30 },
          deleteMissing: { type: 'boolean' },
        },
      },
    },
    ...guard,
    async (req, res) => {
      res.status(202).json(await service.confirm(req.params['id'] as string, req.body, actor(req)));
    },
  );

  api.route(
    {
      method: 'get',
      path: '/uploads/:id/diff',
      summary: 'Entity-level difference (new, changed, missing) against the registered dataset',
      tags,
      security,
      params: idParams,
      query: {
        type: 'object',
        additionalProperties: false,
        properties: { datasetId: datasetParams.properties.id },
      },
    },
    ...guard,
    async (req, res) => {
      const q = req.query as { datasetId?: string };
      res.json(await service.diff(req.params['id'] as string, q.datasetId));
    },
  );

  api.route(
    { method: 'get', path: '/datasets', summary: 'The dataset catalogue', tags, security },
    ...guard,
    async (_req, res) => {
      res.json(await service.listDatasets(false));
    },
  );

  for (const [verb, published] of [
    ['publish', true],
    ['unpublish', false],
  ] as const) {
    api.route(
      {
        method: 'post',
        path: `/datasets/:id/${verb}`,
        summary: `${verb} a dataset`,
        tags,
        security,
        params: datasetParams,
      },
      ...guard,
      async (req, res) => {
        await service.setPublished(req.params['id'] as string, published, actor(req));
        res.status(204).end();
      },
    );
  }

  api.route(
    {
      method: 'get',
      path: '/schemas',
      summary: 'Standard datasets and their column dictionary (public)',
      tags,
    },
    (_req, res) => {
      res.json(
        STANDARD_DATASETS.map((d) => ({
          id: d.id,
          number: d.number,
          legacyNumber: d.legacyNumber ?? null,
          title: d.title,
          titleEn: d.titleEn,
          entityType: d.entityType,
          columns: d.columns.map((c) => ({
            name: c.name,
            aliases: c.aliases ?? [],
            attr: c.attr,
            kind: c.kind,
            required: c.required ?? false,
          })),
          jsonSchema: rowSchema(d),
        })),
      );
    },
  );

  api.route(
    { method: 'get', path: '/rules', summary: 'Validation rules in Japanese and English (public)', tags },
    (_req, res) => {
      res.json(RULES);
    },
  );

  return api;
}
