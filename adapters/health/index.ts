/**
 * Health-app adapter: CSV files of steps or health points per resident (keyed by e-mail) dropped
 * into a folder, or uploaded by staff, become point grants at the configured rate; each file and
 * each row pays once; unmatched rows are reported; files move to processed/ or failed/. See README.md.
 */
import type { IdpServices } from '../../idp/index.ts';
import type { PointsService } from '../../points/index.ts';
import type { AdapterFactory } from '../kit/index.ts';
import { integer } from '../kit/index.ts';
import { createHealthAccounts } from './accounts.ts';
import { createImporter } from './import_file.ts';
import { healthMigrations } from './migrations.ts';
import { healthLinkRouter, healthStaffRouter } from './routes.ts';
import { healthSettings } from './settings.ts';
import { createFolderPoller } from './watch_folder.ts';

export type { HealthAccounts } from './accounts.ts';
export type { Importer, ImportReport } from './import_file.ts';
export type { FolderPoller } from './watch_folder.ts';

export const healthAdapter: AdapterFactory = ({ ctx, kit, env }) => {
  const settings = healthSettings(env, ctx.config.dataDir);
  const emails = kit.sealer('health-email');
  const points = () => {
    const p = ctx.services['points'] as PointsService | undefined;
    if (!p) throw new Error('the health adapter needs the points module');
    return p;
  };
  const configured = () => Boolean(settings.currency && settings.pool && settings.pointType);
  const idp = ctx.services['idp'] as IdpServices | undefined;
  const importer = createImporter({
    db: ctx.db,
    audit: ctx.audit,
    logger: ctx.logger,
    now: ctx.now,
    points,
    emails,
    settings,
    ...(idp?.residents
      ? {
          async lookupVerifiedEmail(email: string) {
            const login = await idp.residents.findByEmail(email);
            return login?.status === 'active' ? login.commonId : undefined;
          },
        }
      : {}),
  });
  const accounts = createHealthAccounts({ db: ctx.db, audit: ctx.audit, emails, now: ctx.now });
  const poller = createFolderPoller({
    dir: settings.dir,
    pollMs: settings.pollMs,
    settleMs: integer(env, 'HEALTH_SETTLE_MS', 5000),
    importer,
    logger: ctx.logger,
    now: ctx.now,
    configured,
  });
  if (!configured())
    ctx.logger.info('adapters/health: HEALTH_CURRENCY/HEALTH_POOL/HEALTH_POINT_TYPE not set; no imports');

  return {
    name: 'health',
    migrations: healthMigrations,
    routers: [healthStaffRouter(ctx, importer, accounts), healthLinkRouter(ctx, kit, accounts)],
    services: { importer, accounts, poller },
    async status() {
      const last = (await importer.list(1))[0];
      return {
        configured: configured(),
        folder: settings.dir,
        rate: `${settings.rate.units}:${settings.rate.points}`,
        accounts: await accounts.count(),
        lastImport: last
          ? { id: last.id, status: last.status, fileName: last.fileName, finishedAt: last.finishedAt }
          : null,
      };
    },
    async start() {
      poller.start();
    },
    async stop() {
      await poller.stop();
    },
  };
};
