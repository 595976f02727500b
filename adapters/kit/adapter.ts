/**
 * What one outside-system adapter (LINE, health app, wallet, …) gives the adapters module. Each
 * adapter folder exports an `AdapterFactory`; `adapters/index.ts` lists them in `ADAPTERS`.
 *
 * @example
 *   export const walletAdapter: AdapterFactory = ({ ctx, kit, env }) => ({
 *     name: 'wallet',
 *     migrations: { module: 'adapters/wallet', schema: 'adapters', migrations: [...] },
 *     routers: [walletRouter(ctx, kit)],
 *     outboxHandlers: { credit: (message) => client.credit(message.payload as CreditCall) },
 *     pointsPorts: { externalWallets: { 'nepi-pay': wallet } },
 *   });
 */
import type { ModuleContext, ModuleMigrations, TsunaguModule } from '../../core/index.ts';
import type { PointsPorts } from '../../points/index.ts';
import type { Kit } from './kit.ts';
import type { OutboxHandler } from './outbox.ts';
import type { Env } from './settings.ts';

export interface AdapterContext {
  /** The platform's module context (db, audit, logger, http, services, now). */
  ctx: ModuleContext;
  /** Inbox, outbox, resident sign-in and sealing shared by every adapter. */
  kit: Kit;
  /** The environment the adapter reads its settings from (process.env plus test overrides). */
  env: Env;
}

export interface AdapterDefinition {
  /** Short lowercase name; also the `adapter` column of inbox and outbox rows. */
  name: string;
  /** Own tables in schema `adapters`, under the migration key `adapters/<name>`. */
  migrations?: ModuleMigrations;
  routers?: TsunaguModule['routers'];
  /** Delivers outbox messages this adapter enqueued, by their `kind`. */
  outboxHandlers?: Readonly<Record<string, OutboxHandler>>;
  /** Published as `services.adapters.adapters[name]`. */
  services?: unknown;
  /** Ports the points module calls (external wallets, notifiers); merged across adapters. */
  pointsPorts?: PointsPorts;
  /** Adapter-specific figures for the staff status view (configured?, last import, …). */
  status?(): Promise<Record<string, unknown>>;
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

export type AdapterFactory = (context: AdapterContext) => AdapterDefinition | Promise<AdapterDefinition>;
