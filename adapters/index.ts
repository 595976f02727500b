/**
 * adapters — outside systems (LINE, the health app, the SDGs site, the regional-currency wallet, card
 * readers) translated into platform calls. Each system is one folder exporting an `AdapterFactory`;
 * `ADAPTERS` below lists them. They share the kit (`kit/`): an inbox that acts on each outside event
 * once, an outbox that delivers outgoing calls with retries and dead letters, and a staff API.
 *
 * The module owns schema `adapters`; each adapter migrates its own tables under the key
 * `adapters/<name>`, so adapters are added without touching each other's migrations.
 *
 * @example
 *   // modules.ts, after the points module
 *   export const MODULES = [..., createPointsModule, createAdaptersModule, createAdapterPortsModule, ...];
 *   // tests: settings and adapters of one's own
 *   adaptersModule({ env: { LINE_CHANNEL_SECRET: 's' }, adapters: [lineAdapter] })
 */
import type { ModuleFactory, ModuleMigrations, TsunaguModule } from '../core/index.ts';
import type { ExternalWallet, PointsNotifier, PointsPorts } from '../points/index.ts';
import { healthAdapter } from './health/index.ts';
import {
  type AdapterDefinition,
  type AdapterFactory,
  type AdapterStatus,
  adapterStatus,
  createKit,
  type Env,
  type Kit,
  kitMigrations,
  kitSettings,
  type OutboxHandler,
  signInRouter,
  staffRouter,
} from './kit/index.ts';
import { lineAdapter } from './line/index.ts';
import { sdgsAdapter } from './sdgs/index.ts';
import { walletAdapter } from './wallet/index.ts';
import { cardReadersAdapter } from './card_readers/index.ts';

export type { AdapterContext, AdapterDefinition, AdapterFactory, AdapterStatus, Kit } from './kit/index.ts';
export type { InboxEntry, OutboxEntry, OutboxStatus } from './kit/index.ts';
export type { ImportReport, Importer } from './health/index.ts';

/**
 * Every adapter, in order. Add one by appending its factory on a line of its own (and its import).
 */
// prettier-ignore
export const ADAPTERS: readonly AdapterFactory[] = [
  lineAdapter,
  healthAdapter,
  sdgsAdapter,
  walletAdapter,
  cardReadersAdapter,
];

export interface AdaptersServices {
  kit: Kit;
  /** Each adapter's own services, by adapter name. */
  adapters: Readonly<Record<string, unknown>>;
  /** The ports the adapters offer the points module, merged (see `createAdapterPortsModule`). */
  pointsPorts: PointsPorts;
  /** Per adapter: inbox and outbox figures and the adapter's own (staff API, admin console). */
  status(): Promise<AdapterStatus[]>;
}

export interface AdaptersOptions {
  /** Settings overriding process.env (tests). */
  env?: Env;
  /** Replaces `ADAPTERS` (tests). */
  adapters?: readonly AdapterFactory[];
}

/** Several adapters may notify (LINE, …): each notice goes to all of them. */
function mergePorts(definitions: readonly AdapterDefinition[]): PointsPorts {
  const wallets: Record<string, ExternalWallet> = {};
  const notifiers: PointsNotifier[] = [];
  for (const d of definitions) {
    Object.assign(wallets, d.pointsPorts?.externalWallets ?? {});
    if (d.pointsPorts?.notifier) notifiers.push(d.pointsPorts.notifier);
  }
  const policy = definitions.find((d) => d.pointsPorts?.exchangePolicy)?.pointsPorts?.exchangePolicy;
  return {
    externalWallets: wallets,
    ...(policy ? { exchangePolicy: policy } : {}),
    ...(notifiers.length
      ? {
          notifier: {
            async notify(notice) {
              await Promise.all(notifiers.map((n) => n.notify(notice)));
            },
          },
        }
      : {}),
  };
}

export function adaptersModule(options: AdaptersOptions = {}): ModuleFactory<AdaptersServices> {
  return async (ctx): Promise<TsunaguModule<AdaptersServices>> => {
    const env: Env = { ...process.env, ...options.env };
    const kit = createKit(ctx, kitSettings(env));
    const definitions: AdapterDefinition[] = [];
    for (const factory of options.adapters ?? ADAPTERS) definitions.push(await factory({ ctx, kit, env }));

    const names = new Set<string>();
    const handlers = new Map<string, OutboxHandler>();
    for (const d of definitions) {
      if (names.has(d.name)) throw new Error(`adapters: two adapters are named ${d.name}`);
      names.add(d.name);
      for (const [kind, handler] of Object.entries(d.outboxHandlers ?? {}))
        handlers.set(`${d.name}/${kind}`, handler);
    }
    kit.setHandlers(handlers);

    return {
      name: 'adapters',
      migrations: [
        kitMigrations,
        ...definitions.flatMap((d): ModuleMigrations[] => (d.migrations ? [d.migrations] : [])),
      ],
      routers: [
        staffRouter(ctx, kit, () => definitions),
        signInRouter(ctx, kit.signIn),
        ...definitions.flatMap((d) => d.routers ?? []),
      ],
      services: {
        kit,
        adapters: Object.fromEntries(definitions.map((d) => [d.name, d.services ?? {}])),
        pointsPorts: mergePorts(definitions),
        status: () => adapterStatus(ctx, definitions),
      },
      async start() {
        for (const d of definitions) await d.start?.();
        kit.start();
      },
      async stop() {
        await kit.stop();
        for (const d of [...definitions].reverse()) await d.stop?.();
      },
    };
  };
}

export const createAdaptersModule: ModuleFactory<AdaptersServices> = adaptersModule();

/**
 * Publishes the adapters' ports (external wallets, notifiers) as the `pointsPorts` services the
 * points module looks up at call time. List it right after `createAdaptersModule`.
 */
export const createAdapterPortsModule: ModuleFactory<PointsPorts> = (ctx) => {
  const adapters = ctx.services['adapters'] as AdaptersServices | undefined;
  return {
    name: 'pointsPorts',
    migrations: null,
    routers: [],
    services: adapters?.pointsPorts ?? {},
  };
};
