/**
 * points — a double-entry ledger for regional points and currencies: currencies and point types per
 * municipality, funding pools, grants, expiry lots, payments, corrections and cross-service
 * exchange. See README.md for the model, the ports and the HTTP API.
 *
 * @example
 *   // modules.ts
 *   export const MODULES = [createCoreModule, …, createPointsModule];
 *   // another module
 *   const points = ctx.services['points'] as PointsService;
 *   await points.pay({ currency: 'saijo-lsp', resident, merchant, amount: 300, idempotency, actor });
 */
import type { ModuleFactory } from '../core/index.ts';
import { type CampaignService, createCampaignService } from './campaign_service.ts';
import { createDirectoryService, type DirectoryService } from './directory_service.ts';
import { createExchangeService, type ExchangeService } from './exchange_service.ts';
import { createLedgerService, type LedgerService } from './ledger_service.ts';
import { createMerchantQr } from './merchant_qr.ts';
import { migrationAdminRouter } from './migration/admin_routes.ts';
import { createMigrationService, type MigrationService } from './migration/migration_service.ts';
import { migrationImportMigrations } from './migration/schema.ts';
import { pointsMigrations } from './migrations/index.ts';
import { type PointsPorts, portResolver } from './ports.ts';
import { createReportService, type ReportService } from './report_service.ts';
import { adminRouter } from './routes/admin_api.ts';
import { partnerRouter } from './routes/partner_api.ts';
import { createSettlementService, type SettlementService } from './settlement_service.ts';
import { jstDate } from './time.ts';

export type {
  Directory,
  DirectoryCampaign,
  DirectoryCurrency,
  DirectoryMerchant,
} from './directory_service.ts';
export type { ExchangePolicy, ExternalWallet, PointsNotifier, PointsPorts } from './ports.ts';
export type {
  ImportedHistoryRow,
  ImportedVisit,
  ImportReport,
  MigrationService,
  ReconciliationLine,
} from './migration/migration_service.ts';
export { importCommands } from './migration/cli.ts';
export type PointsService = LedgerService &
  ExchangeService &
  SettlementService &
  CampaignService &
  ReportService & {
    /** Import of a previous system's balances and history, and of visits from other systems. */
    migration: MigrationService;
  } & DirectoryService;

/** The module with explicit ports (tests, custom assemblies); the plain factory finds them in services. */
export function pointsModule(explicit: PointsPorts = {}): ModuleFactory<PointsService> {
  return (ctx) => {
    const ports = portResolver(explicit, ctx.services);
    const deps = { db: ctx.db, audit: ctx.audit, logger: ctx.logger, now: ctx.now, ports };
    const ledger = createLedgerService(deps);
    const points: PointsService = {
      ...ledger,
      ...createExchangeService({ ...deps, ledger }),
      ...createSettlementService({ ...deps, ledger }),
      ...createCampaignService({ ...deps, ledger }),
      ...createReportService({ ...deps, ledger }),
      migration: createMigrationService({ ...deps, ledger }),
      ...createDirectoryService(deps),
    };
    const qr = createMerchantQr(ctx.config, ctx.logger);
    let timer: NodeJS.Timeout | undefined;
    let lastExpiryDay = '';
    return {
      name: 'points',
      migrations: [pointsMigrations, migrationImportMigrations],
      routers: [
        partnerRouter(ctx, points, qr),
        adminRouter(ctx, points, qr),
        migrationAdminRouter(ctx, points.migration),
      ],
      services: points,
      async start() {
        // Expiry runs once per JST day, at the first tick after midnight JST.
        lastExpiryDay = jstDate(ctx.now());
        timer = setInterval(() => {
          const today = jstDate(ctx.now());
          if (today === lastExpiryDay) return;
          lastExpiryDay = today;
          ledger
            .runExpiry()
            .then(() => ledger.sendExpiryNotices())
            .then(() => points.settleCampaigns())
            .catch((err: unknown) => ctx.logger.error({ err }, 'points daily run failed'));
        }, 60_000);
        timer.unref();
      },
      async stop() {
        if (timer) clearInterval(timer);
      },
    };
  };
}

export const createPointsModule: ModuleFactory<PointsService> = pointsModule();
