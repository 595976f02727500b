/**
 * Assembles Tsunagu: configuration, database, audit log, HTTP app and every module, in dependency
 * order. `main.ts` (the CLI) and the tests both start the platform through `createPlatform`.
 *
 * @example
 *   const platform = await createPlatform({ env: process.env });
 *   const { url } = await platform.listen();
 *   // …
 *   await platform.stop();
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  type AuditLog,
  assertSafeForEnvironment,
  type BackupScheduler,
  type Config,
  type CoreServices,
  createAuditLog,
  createCheckpointSigner,
  createHttpApp,
  createLogger,
  createMetrics,
  type Database,
  type HttpApp,
  ipAllowList,
  type Logger,
  loadConfig,
  loadOrCreateDevSecret,
  type ModuleContext,
  type ModuleFactory,
  type ModuleMigrations,
  migrate,
  openDatabase,
  rejectAllTokens,
  requireToken,
  scheduleBackups,
  type TokenVerifier,
  type TsunaguModule,
  unsafeDefaults,
} from './core/index.ts';
import { MODULES } from './modules.ts';

export interface PlatformOptions {
  env?: Record<string, string | undefined>;
  config?: Config;
  logger?: Logger;
  /** Replaces the token verifier (tests and benchmarks); otherwise the identity provider's is used. */
  tokenVerifier?: TokenVerifier;
  now?: () => Date;
  modules?: readonly ModuleFactory[];
  /** Apply migrations (default true). */
  migrate?: boolean;
  /** Run the modules' start hooks and arm the backup schedule (default true; false for restore). */
  start?: boolean;
}

export interface Platform {
  config: Config;
  logger: Logger;
  db: Database;
  audit: AuditLog;
  http: HttpApp;
  modules: TsunaguModule[];
  services: Record<string, unknown>;
  migrations: ModuleMigrations[];
  /** The schemas of every module, `core` first: what a backup contains. */
  schemas: string[];
  backups: BackupScheduler;
  listen(): Promise<{ url: string; port: number }>;
  stop(): Promise<void>;
}

function auditSigningKey(config: Config): string {
  if (config.auditSigningKey) return config.auditSigningKey.replace(/\\n/g, '\n');
  return loadOrCreateDevSecret(config.dataDir, 'audit-ed25519.pem', () =>
    generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  );
}

export async function createPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const config = options.config ?? loadConfig(options.env ?? process.env);
  assertSafeForEnvironment(config);
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  for (const problem of unsafeDefaults(config)) logger.warn(`UNSAFE DEFAULT: ${problem}`);

  const db = await openDatabase(config, logger);
  try {
    const now = options.now ?? (() => new Date());
    const audit = createAuditLog({
      db,
      signer: createCheckpointSigner(auditSigningKey(config)),
      logger,
      checkpointFile: path.join(config.dataDir, 'audit', 'checkpoints.jsonl'),
      checkpointEvery: config.auditCheckpointEvery,
      checkpointMinutes: config.auditCheckpointMinutes,
      now,
    });
    const metrics = createMetrics(db, () => audit.pending());
    const http = createHttpApp(config, logger, { onFinish: metrics.onFinish });
    let verifier: TokenVerifier = options.tokenVerifier ?? rejectAllTokens;
    const delegatingVerifier: TokenVerifier = { verify: (token, request) => verifier.verify(token, request) };
    const services: Record<string, unknown> = {};
    const ctx: ModuleContext = {
      config,
      db,
      audit,
      logger,
      http: {
        createRouter: (prefix) => http.registry.createRouter(prefix),
        requireToken: (scopes) => requireToken(delegatingVerifier, scopes),
        adminOnly: ipAllowList(config.adminIpAllowList),
        openApi: () =>
          http.registry.openApi({ title: 'Tsunagu', version: '0.1.0', serverUrl: config.publicUrl }),
      },
      services,
      metrics: metrics.registry,
      now,
    };

    const modules: TsunaguModule[] = [];
    for (const factory of options.modules ?? MODULES) {
      const module = await factory(ctx);
      modules.push(module);
      services[module.name] = module.services;
      if (module.tokenVerifier && !options.tokenVerifier) verifier = module.tokenVerifier;
    }
    const migrations = modules.flatMap((m): ModuleMigrations[] =>
      m.migrations === null
        ? []
        : Array.isArray(m.migrations)
          ? [...m.migrations]
          : [m.migrations as ModuleMigrations],
    );
    (services['core'] as CoreServices | undefined)?.setExpectedMigrations(migrations);
    if (options.migrate !== false) await migrate(db, migrations, logger);

    for (const module of modules)
      for (const r of module.routers)
        http.mount(r.prefix, r.router, { parseBody: r.parseBody ?? true, rateLimit: r.rateLimit ?? true });
    http.registry.register('', { method: 'get', path: '/openapi.json', summary: 'This OpenAPI document' });
    http.app.get('/openapi.json', (_req, res) => {
      res.json(ctx.http.openApi());
    });
    http.registry.register('', {
      method: 'get',
      path: '/metrics',
      summary: 'Prometheus metrics (admin allow-list)',
    });
    http.app.get('/metrics', ctx.http.adminOnly, async (_req, res) => {
      res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    });
    http.seal();

    const schemas = [...new Set(migrations.map((m) => m.schema))];
    const starting = options.start !== false;
    const backups = scheduleBackups({
      db,
      schemas: () => schemas,
      dir: config.backupDir,
      key: config.backupKey ? Buffer.from(config.backupKey, 'base64') : undefined,
      generations: config.backupGenerations,
      atJst: starting ? config.backupAtJst : 'off',
      logger,
      now,
    });
    if (starting) for (const module of modules) await module.start?.();

    let server: Server | undefined;
    let stopping: Promise<void> | undefined;
    return {
      config,
      logger,
      db,
      audit,
      http,
      modules,
      services,
      migrations,
      schemas,
      backups,
      listen() {
        return new Promise((resolve, reject) => {
          server = createServer(http.app);
          server.keepAliveTimeout = 5000;
          server.once('error', reject);
          server.listen(config.port, config.host, () => {
            const port = (server!.address() as AddressInfo).port;
            const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
            resolve({ url: `http://${host}:${port}`, port });
          });
        });
      },
      stop() {
        stopping ??= (async () => {
          if (server) {
            const closed = new Promise<void>((resolve) => server!.close(() => resolve()));
            server.closeIdleConnections();
            const timeout = setTimeout(() => server!.closeAllConnections(), config.shutdownTimeoutMs);
            await closed;
            clearTimeout(timeout);
          }
          backups.stop();
          if (starting) for (const module of [...modules].reverse()) await module.stop?.();
          await audit.close();
          await db.close();
        })();
        return stopping;
      },
    };
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
}
