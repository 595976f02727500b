/**
 * The open-data service: analyse a stored upload, register it in the broker, keep the catalogue.
 * Routes (`routes.ts`) and the admin page call these; they never touch the tables themselves.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { BrokerServices } from '../broker/index.ts';
import { type ModuleContext, ProblemError } from '../core/index.ts';
import {
  type AnalyseOptions,
  type AnalysisReport,
  analyseUpload,
  type EncodingChoice,
} from './analyse_upload.ts';
import type { CustomMapping } from './custom_dataset.ts';
import {
  comparable,
  diffEntities,
  type EntityDiff,
  fingerprint,
  registeredEntities,
} from './diff_entities.ts';
import { BatchWriter } from './register_entities.ts';

export interface AnalyseChoices {
  encoding?: EncodingChoice;
  dataset?: string;
  headerLine?: number;
  municipalityCode?: string;
  dropColumns?: string[];
  custom?: CustomMapping;
}

export interface DatasetMeta {
  datasetId?: string;
  title?: string;
  description?: string;
  publisher?: string;
  license?: string;
  frequency?: string;
  keywords?: string[];
  /** Delete the dataset's entities that this upload no longer contains. */
  deleteMissing?: boolean;
}

export interface UploadRow {
  id: string;
  fileName: string;
  bytes: number;
  sha256: string;
  status: 'analysed' | 'registering' | 'registered';
  options: AnalyseChoices;
  report: AnalysisReport;
  datasetId: string | null;
  createdAt: string;
  /** Progress while registering; the catalogue version when registered; the error after a failure. */
  registration: {
    written?: number;
    batches?: number;
    total?: number;
    datasetId?: string;
    version?: number;
    entities?: number;
    deleted?: number;
    error?: string;
  } | null;
}

export const SERVICE_PATH = '/opendata';

/** The catalogue dataset an upload goes to unless the staff member names one: `<code>-<standard>`. */
export function defaultDatasetId(upload: UploadRow): string {
  const d = upload.report.dataset!;
  return `${upload.options.municipalityCode ?? 'local'}-${d.id === 'custom' ? d.entityType.toLowerCase() : d.id}`;
}

/** The choices to repeat on the next pass: the decided encoding and dataset become explicit. */
function chosenOptions(choices: AnalyseChoices, report: AnalysisReport): AnalyseChoices {
  const out: AnalyseChoices = { ...choices, encoding: report.encoding };
  if (report.dataset && report.dataset.id !== 'custom') out.dataset = report.dataset.id;
  return out;
}

/** Maps the pipeline's failures to problems the API answers. */
export function toProblem(error: unknown): unknown {
  const e = error as {
    name?: string;
    offset?: number;
    line?: number;
    encoding?: string;
    candidates?: unknown;
  };
  if (e.name === 'EncodingError') {
    return new ProblemError('opendata-undecodable', {
      detail: `${e.line}行目（${e.offset}バイト目）が ${e.encoding} として読めません。UTF-8 か Shift_JIS で保存してください。 / Byte ${e.offset} on line ${e.line} does not decode as ${e.encoding}.`,
      offset: e.offset,
      line: e.line,
      encoding: e.encoding,
    });
  }
  if (e.name === 'Utf16Error') {
    return new ProblemError('opendata-undecodable', {
      detail:
        'UTF-16 のファイルです。UTF-8 か Shift_JIS で保存してください。 / UTF-16 files are not accepted.',
      offset: 0,
      line: 1,
      encoding: 'utf-16',
    });
  }
  if (e.name === 'CsvSyntaxError') {
    return new ProblemError('opendata-csv-syntax', {
      detail: `${e.line}行目から始まる行の引用符（"）が正しくありません。 / Broken quoting in the record starting on line ${e.line}.`,
      line: e.line,
    });
  }
  return error;
}

export function createOpendataService(ctx: ModuleContext) {
  const dir = path.join(ctx.config.dataDir, 'opendata', 'uploads');
  const fileOf = (id: string) => path.join(dir, `${id}.csv`);
  const broker = () => {
    const services = ctx.services['broker'] as BrokerServices | undefined;
    if (!services) throw new Error('opendata needs the broker module');
    return services.client({ servicePath: SERVICE_PATH });
  };

  async function analyse(id: string, choices: AnalyseChoices, extra: Partial<AnalyseOptions> = {}) {
    try {
      return await analyseUpload({
        open: () => createReadStream(fileOf(id), { highWaterMark: 256 * 1024 }),
        sourceName: choices.dataset ?? 'upload',
        ...choices,
        ...extra,
      });
    } catch (error) {
      throw toProblem(error);
    }
  }

  function checkReport(report: AnalysisReport): void {
    if (report.rowsRead + report.rowsSkipped === 0) {
      throw new ProblemError('opendata-empty-file', {
        detail: 'データ行がありません。 / The file has no data rows.',
      });
    }
  }

  async function get(id: string): Promise<UploadRow> {
    const { rows } = await ctx.db.query<Record<string, unknown>>(
      `SELECT id, file_name, bytes, sha256, status, options, report, dataset_id, created_at, registration
         FROM opendata.uploads WHERE id = $1`,
      [id],
    );
    const r = rows[0];
    if (!r) throw new ProblemError('not-found', { detail: `upload ${id} not found` });
    return {
      id: r['id'] as string,
      fileName: r['file_name'] as string,
      bytes: Number(r['bytes']),
      sha256: r['sha256'] as string,
      status: r['status'] as UploadRow['status'],
      options: r['options'] as AnalyseChoices,
      report: r['report'] as AnalysisReport,
      datasetId: (r['dataset_id'] as string | null) ?? null,
      createdAt: (r['created_at'] as Date).toISOString(),
      registration: (r['registration'] as UploadRow['registration']) ?? null,
    };
  }

  const jobs = new Set<Promise<void>>();

  async function register(upload: UploadRow, meta: DatasetMeta, actor: string): Promise<void> {
    const id = upload.id;
    const standard = upload.report.dataset!;
    const datasetId = meta.datasetId ?? defaultDatasetId(upload);
    const written = new Set<string>();
    const writer = new BatchWriter(broker(), {
      onBatch: async (written, batches) => {
        await ctx.db.query(
          `UPDATE opendata.uploads SET registration = $2 WHERE id = $1 AND status = 'registering'`,
          [id, { written, batches, total: upload.report.rowsValid }],
        );
      },
    });
    await analyse(id, upload.options, {
      sourceName: datasetId,
      unrestricted: upload.report.unrestricted,
      onEntity: (entity) => {
        written.add(entity.id);
        return writer.add(entity);
      },
    });
    await writer.flush();
    let deleted = 0;
    if (meta.deleteMissing) {
      const client = broker();
      let batch: Array<{ id: string; type: string }> = [];
      const missing: Array<{ id: string; type: string }> = [];
      for await (const e of registeredEntities(client, standard.entityType, datasetId)) {
        if (!written.has(e.id)) missing.push({ id: e.id, type: e.type });
      }
      for (const e of missing) {
        batch.push(e);
        if (batch.length === 500) {
          await client.batchUpdate('delete', batch);
          batch = [];
        }
      }
      if (batch.length > 0) await client.batchUpdate('delete', batch);
      deleted = missing.length;
    }
    await ctx.db.transaction(async (tx) => {
      const now = ctx.now();
      await tx.query(
        `INSERT INTO opendata.datasets (id, standard, entity_type, title, description, publisher, license, frequency, keywords, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
         ON CONFLICT (id) DO UPDATE SET
           title = COALESCE($11, opendata.datasets.title), description = COALESCE($12, opendata.datasets.description),
           publisher = COALESCE($13, opendata.datasets.publisher), license = COALESCE($14, opendata.datasets.license),
           frequency = COALESCE($15, opendata.datasets.frequency), keywords = COALESCE($16, opendata.datasets.keywords),
           updated_at = $10`,
        [
          datasetId,
          standard.id,
          standard.entityType,
          meta.title ?? standard.title,
          meta.description ?? '',
          meta.publisher ?? '',
          meta.license ?? 'CC-BY-4.0',
          meta.frequency ?? 'irregular',
          meta.keywords ?? [],
          now,
          meta.title ?? null,
          meta.description ?? null,
          meta.publisher ?? null,
          meta.license ?? null,
          meta.frequency ?? null,
          meta.keywords ?? null,
        ],
      );
      const { rows } = await tx.query<{ v: number }>(
        `SELECT COALESCE(max(version), 0) + 1 AS v FROM opendata.dataset_versions WHERE dataset_id = $1`,
        [datasetId],
      );
      const version = rows[0]!.v;
      await tx.query(
        `INSERT INTO opendata.dataset_versions (dataset_id, version, upload_id, entities, registered_at) VALUES ($1, $2, $3, $4, $5)`,
        [datasetId, version, id, writer.written, now],
      );
      const registration = {
        datasetId,
        version,
        entities: writer.written,
        batches: writer.batches,
        ...(meta.deleteMissing ? { deleted } : {}),
      };
      await tx.query(
        `UPDATE opendata.uploads SET status = 'registered', dataset_id = $2, registered_at = $3, registration = $4 WHERE id = $1`,
        [id, datasetId, now, registration],
      );
      await ctx.audit.recordInTransaction(tx, {
        actor,
        action: 'opendata.upload.register',
        target: `opendata-dataset:${datasetId}`,
        details: { upload: id, version, entities: writer.written, deleted },
      });
    });
  }

  return {
    dir,
    fileOf,
    newUploadId: () => randomUUID(),
    ensureDir: () => mkdir(dir, { recursive: true }),

    /** Analyses a received file and records the upload; a file that cannot be read is deleted. */
    async createUpload(input: {
      id: string;
      fileName: string;
      bytes: number;
      sha256: string;
      choices: AnalyseChoices;
      actor: string;
    }): Promise<UploadRow> {
      let report: AnalysisReport;
      try {
        report = await analyse(input.id, input.choices);
        checkReport(report);
      } catch (error) {
        await rm(fileOf(input.id), { force: true });
        throw error;
      }
      const options = chosenOptions(input.choices, report);
      await ctx.db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO opendata.uploads (id, file_name, bytes, sha256, options, report, status, created_by, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, 'analysed', $7, $8)`,
          [input.id, input.fileName, input.bytes, input.sha256, options, report, input.actor, ctx.now()],
        );
        await ctx.audit.recordInTransaction(tx, {
          actor: input.actor,
          action: 'opendata.upload.create',
          target: `opendata-upload:${input.id}`,
          details: {
            bytes: input.bytes,
            sha256: input.sha256,
            dataset: report.dataset?.id ?? null,
            rows: report.rowsRead,
          },
        });
      });
      return get(input.id);
    },

    get,

    /** Re-analyses a stored upload with other choices (encoding, dataset, header line…). */
    async reanalyse(id: string, choices: AnalyseChoices, actor: string): Promise<UploadRow> {
      const upload = await get(id);
      if (upload.status === 'registered') throw new ProblemError('opendata-already-registered');
      const report = await analyse(id, choices);
      checkReport(report);
      const options = chosenOptions(choices, report);
      await ctx.db.transaction(async (tx) => {
        await tx.query(`UPDATE opendata.uploads SET options = $2, report = $3 WHERE id = $1`, [
          id,
          options,
          report,
        ]);
        await ctx.audit.recordInTransaction(tx, {
          actor,
          action: 'opendata.upload.reanalyse',
          target: `opendata-upload:${id}`,
          details: { dataset: report.dataset?.id ?? null },
        });
      });
      return get(id);
    },

    /**
     * Starts registering the confirmed upload's valid rows in the broker (202: the upload shows
     * `registering` with progress, then `registered` with its catalogue version).
     */
    async confirm(id: string, meta: DatasetMeta, actor: string): Promise<UploadRow> {
      const upload = await get(id);
      if (upload.status === 'registered') throw new ProblemError('opendata-already-registered');
      if (!upload.report.dataset) {
        throw new ProblemError('opendata-dataset-unknown', {
          detail:
            'データセットを選ぶか、列の対応を指定してください。 / Choose a dataset or map the columns first.',
          candidates: upload.report.candidates,
        });
      }
      const { rowCount } = await ctx.db.query(
        `UPDATE opendata.uploads SET status = 'registering', registration = $2 WHERE id = $1 AND status = 'analysed'`,
        [id, { written: 0, batches: 0 }],
      );
      if (!rowCount) throw new ProblemError('opendata-registering');
      const job: Promise<void> = register(upload, meta, actor)
        .catch(async (error: unknown) => {
          ctx.logger.error({ err: error, upload: id }, 'opendata: registration failed');
          const message = (error as Error).name === 'NgsiError' ? (error as Error).message : 'internal error';
          await ctx.db.query(
            `UPDATE opendata.uploads SET status = 'analysed',
               registration = jsonb_build_object('error', $2::text, 'written', (registration->>'written')::int)
             WHERE id = $1`,
            [id, message],
          );
          await ctx.audit.record({
            actor,
            action: 'opendata.upload.register-failed',
            target: `opendata-upload:${id}`,
            details: { error: message },
          });
        })
        .finally(() => jobs.delete(job));
      jobs.add(job);
      return get(id);
    },

    /** New, changed and missing entities against what the catalogue dataset holds in the broker. */
    async diff(id: string, datasetId?: string): Promise<EntityDiff & { datasetId: string }> {
      const upload = await get(id);
      if (!upload.report.dataset) throw new ProblemError('opendata-dataset-unknown');
      const target = datasetId ?? defaultDatasetId(upload);
      const base = { sourceName: target, unrestricted: upload.report.unrestricted };
      const hashes = new Map<string, string>();
      await analyse(id, upload.options, {
        ...base,
        onEntity: async (e) => {
          hashes.set(e.id, fingerprint(comparable(e)));
        },
      });
      const diff = await diffEntities(
        broker(),
        upload.report.dataset!.entityType,
        target,
        hashes,
        async (ids) => {
          const found = new Map<string, Map<string, string>>();
          await analyse(id, upload.options, {
            ...base,
            onEntity: async (e) => {
              if (ids.has(e.id)) found.set(e.id, comparable(e));
            },
          });
          return found;
        },
      );
      return { datasetId: target, ...diff };
    },

    /** Waits for registrations in progress (shutdown, tests). */
    async settle(): Promise<void> {
      while (jobs.size > 0) await Promise.allSettled([...jobs]);
    },

    /** Uploads left `registering` by a stopped process can be confirmed again (upserts are idempotent). */
    async recoverInterrupted(): Promise<void> {
      await ctx.db.query(
        `UPDATE opendata.uploads SET status = 'analysed',
           registration = COALESCE(registration, '{}'::jsonb) || '{"error": "interrupted"}'::jsonb WHERE status = 'registering'`,
      );
    },

    async listDatasets(onlyPublished: boolean) {
      const { rows } = await ctx.db.query(
        `SELECT d.*, (SELECT max(version) FROM opendata.dataset_versions v WHERE v.dataset_id = d.id) AS version
           FROM opendata.datasets d WHERE ($1::boolean = false OR published) ORDER BY id`,
        [onlyPublished],
      );
      return rows.map((r) => dcat(r, ctx.config.publicUrl));
    },

    /** A published dataset with the upload of its latest version (404 when unpublished or unknown). */
    async publishedRelease(datasetId: string) {
      const { rows } = await ctx.db.query<{ entity_type: string; upload_id: string }>(
        `SELECT d.entity_type, v.upload_id FROM opendata.datasets d
           JOIN opendata.dataset_versions v ON v.dataset_id = d.id
          WHERE d.id = $1 AND d.published ORDER BY v.version DESC LIMIT 1`,
        [datasetId],
      );
      const row = rows[0];
      if (!row) throw new ProblemError('not-found', { detail: `no published dataset ${datasetId}` });
      return { entityType: row.entity_type, upload: await get(row.upload_id) };
    },

    /** The public read-only view of a dataset's entities in the broker. */
    async publicEntities(
      datasetId: string,
      entityType: string,
      query: { limit: number; offset: number; keyValues: boolean },
    ) {
      return broker().listEntities({
        type: entityType,
        q: `source=='${datasetId}'`,
        limit: query.limit,
        offset: query.offset,
        orderBy: 'id',
        count: true,
        keyValues: query.keyValues,
      });
    },

    async setPublished(id: string, published: boolean, actor: string) {
      await ctx.db.transaction(async (tx) => {
        const { rowCount } = await tx.query(
          `UPDATE opendata.datasets SET published = $2, updated_at = $3 WHERE id = $1`,
          [id, published, ctx.now()],
        );
        if (!rowCount) throw new ProblemError('not-found', { detail: `dataset ${id} not found` });
        await ctx.audit.recordInTransaction(tx, {
          actor,
          action: published ? 'opendata.dataset.publish' : 'opendata.dataset.unpublish',
          target: `opendata-dataset:${id}`,
        });
      });
    },
  };
}

/** A catalogue row as DCAT-style JSON. */
function dcat(r: Record<string, unknown>, publicUrl: string) {
  const base = `${publicUrl}/api/opendata/catalog/${encodeURIComponent(r['id'] as string)}`;
  return {
    '@type': 'dcat:Dataset',
    identifier: r['id'],
    title: r['title'],
    description: r['description'],
    publisher: r['publisher'],
    license: r['license'] === 'CC-BY-4.0' ? 'https://creativecommons.org/licenses/by/4.0/' : r['license'],
    accrualPeriodicity: r['frequency'],
    keyword: r['keywords'],
    conformsTo: r['standard'],
    entityType: r['entity_type'],
    published: r['published'],
    version: r['version'] === null ? null : Number(r['version']),
    modified: (r['updated_at'] as Date).toISOString(),
    distribution: [
      { title: '元のファイル / Original file', mediaType: 'text/csv', downloadURL: `${base}/original` },
      { title: 'CSV (UTF-8)', mediaType: 'text/csv', downloadURL: `${base}/csv` },
      { title: 'NGSIv2 JSON', mediaType: 'application/json', accessURL: `${base}/entities` },
    ],
  };
}

export type OpendataService = ReturnType<typeof createOpendataService>;
