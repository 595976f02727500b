/**
 * opendata — city staff upload CSV open data (UTF-8, UTF-8 with BOM or Shift_JIS, as published by
 * municipalities), Tsunagu validates it against the 自治体標準オープンデータセット, repairs what is
 * safe to repair (every repair reported by line and column), and after the staff member confirms a
 * preview registers the rows as NGSIv2 entities through the broker module's client (embedded
 * broker or an external Orion), with a catalogue of datasets and versions in schema `opendata`.
 *
 * @example
 *   // modules.ts
 *   export const MODULES = [createCoreModule, …, createBrokerModule, createOpendataModule];
 *   // then: POST /api/opendata/uploads?fileName=aed.csv (raw CSV body) → POST …/uploads/:id/confirm
 */
import type { ModuleCommand, ModuleFactory } from '../core/index.ts';
import { adminPageRoutes } from './admin_page.ts';
import { runImport } from './cli.ts';
import { opendataMigrations } from './migrations.ts';
import { publicRoutes } from './public_routes.ts';
import { opendataRoutes } from './routes.ts';
import { createOpendataService, type OpendataService } from './service.ts';

export type { AnalysisReport, Issue } from './analyse_upload.ts';
export { analyseUpload } from './analyse_upload.ts';
export { readRecords } from './read_records.ts';
export { ADMIN_SCOPE } from './routes.ts';
export type { OpendataService } from './service.ts';
export { STANDARD_DATASETS } from './standard_datasets.ts';

export const MAX_UPLOAD_BYTES = 200 * 1024 * 1024;

/** The module with its upload limit overridden (tests). */
export function opendataModule(
  options: { maxUploadBytes?: number; publicRequestsPerMinute?: number } = {},
): ModuleFactory<OpendataService> {
  return (ctx) => {
    const service = createOpendataService(ctx);
    const api = opendataRoutes(ctx, service, options.maxUploadBytes ?? MAX_UPLOAD_BYTES);
    const page = adminPageRoutes(ctx);
    const open = publicRoutes(ctx, service, options.publicRequestsPerMinute ?? 120);
    return {
      name: 'opendata',
      migrations: opendataMigrations,
      routers: [
        { prefix: '/api/opendata/catalog', router: open.router },
        { prefix: '/api/opendata', router: api.router },
        { prefix: '/admin/opendata', router: page.router },
      ],
      services: service,
      start: () => service.recoverInterrupted(),
      stop: () => service.settle(),
    };
  };
}

export const createOpendataModule: ModuleFactory<OpendataService> = opendataModule();

/** `npm run tsunagu -- opendata import FILE …` (see opendata/cli.ts for the options). */
export const opendataCommands: Record<string, ModuleCommand> = {
  import: {
    summary: 'analyse a CSV file and register its rows in the broker (--dry-run: analyse only)',
    run: (args, io) =>
      runImport(['import', ...args], io.out, async () => {
        const platform = await io.platform();
        return { service: platform.services['opendata'] as OpendataService, close: async () => {} };
      }),
  },
};
