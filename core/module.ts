/**
 * The contract between a module and the platform. Each module's `index.ts` exports one factory:
 * it receives its dependencies and returns its migrations, routers and services. `platform.ts`
 * assembles the factories in dependency order; a module reaches another only through the services
 * that module returned (`ctx.services`), never through its files or tables.
 *
 * @example
 *   export const createPointsModule: ModuleFactory<PointsService> = (ctx) => {
 *     const { router, route } = ctx.http.createRouter('/api/points');
 *     route({ method: 'get', path: '/balances/:holder', summary: 'Balance' }, handler);
 *     return { name: 'points', migrations: { module: 'points', schema: 'points', migrations }, routers: [{ prefix: '/api/points', router }], services };
 *   };
 */
import type { RequestHandler, Router } from 'express';
import type { AuditLog } from './audit/audit_log.ts';
import type { TokenVerifier } from './auth/require_token.ts';
import type { Config } from './config.ts';
import type { Database } from './database.ts';
import type { ModuleRouter } from './http/routes.ts';
import type { Logger } from './logger.ts';
import type { Registry } from './metrics.ts';
import type { ModuleMigrations } from './migrations.ts';
import type { OpenApiDocument } from './http/routes.ts';

export interface ModuleContext {
  config: Config;
  db: Database;
  audit: AuditLog;
  logger: Logger;
  http: {
    /** A router whose declared routes are validated and listed in `/openapi.json`. */
    createRouter(prefix: string): ModuleRouter;
    /** Bearer token with the given scopes. */
    requireToken(scopes?: string[]): RequestHandler;
    /** Admin routes: the client address must be in ADMIN_IP_ALLOWLIST. */
    adminOnly: RequestHandler;
    /** The OpenAPI 3.1 document of every declared route (what `/openapi.json` serves). */
    openApi(): OpenApiDocument;
  };
  /** Services of the modules assembled before this one, by module name. */
  services: Readonly<Record<string, unknown>>;
  /** Prometheus registry served at `/metrics`; register module metrics here. */
  metrics: Registry;
  /** The clock; tests inject a frozen one. */
  now: () => Date;
}

export interface TsunaguModule<S = unknown> {
  name: string;
  /**
   * The module's migrations: one set, or several (each with its own `module` key, e.g.
   * `portal/notices`) when parts of a module are built and migrated independently.
   */
  migrations: ModuleMigrations | readonly ModuleMigrations[] | null;
  /**
   * Mounted in order; `parseBody: false` leaves request bodies unparsed for the router to read,
   * `rateLimit: false` exempts the router from the platform's per-client rate limit.
   */
  routers: Array<{
    prefix: string;
    router: Router | RequestHandler;
    parseBody?: boolean;
    rateLimit?: boolean;
  }>;
  services: S;
  /** Runs after migrations, before the server listens (timers, workers). */
  start?(): Promise<void>;
  /** Runs on shutdown after in-flight requests drained, before the database closes. */
  stop?(): Promise<void>;
  /** Lets the module replace the platform's token verifier (the identity provider does). */
  tokenVerifier?: TokenVerifier;
}

export type ModuleFactory<S = unknown> = (ctx: ModuleContext) => TsunaguModule<S> | Promise<TsunaguModule<S>>;

/** What an admin command gets: output, and the platform opened on demand (database, services). */
export interface CommandIo {
  out(text: string): void;
  platform(): Promise<{ services: Readonly<Record<string, unknown>> }>;
}

/**
 * An admin command a module offers as `npm run tsunagu -- <module> <name> [args]`. Modules export
 * their commands from their entry file; `modules.ts` lists them. Returns the exit status.
 */
export interface ModuleCommand {
  summary: string;
  run(args: string[], io: CommandIo): Promise<number>;
}
