/**
 * Regional-currency wallet adapter (ねっぴ～Pay and the like): exchanges into the wallet are credited
 * through the outbox with the exchange id as the idempotency key; an exchange the wallet refuses,
 * or cannot be reached for within the retry budget, is voided and the points restored; a daily
 * reconciliation compares both sides. See README.md and CONTRACT.md.
 *
 * @example
 *   // WALLET_BASE_URL=https://api.nepi-pay.example WALLET_CLIENT_ID=… WALLET_CLIENT_SECRET=… npm start
 *   const wallet = (ctx.services['adapters'] as AdaptersServices).adapters['wallet'] as WalletServices;
 *   await wallet.reconcile('2026-11-22', 'staff:1');
 */
import type { ConsentServices } from '../../consent/index.ts';
import type { PointsService } from '../../points/index.ts';
import { type AdapterFactory, integer, text } from '../kit/index.ts';
import { walletMigrations } from './migrations.ts';
import { createReconciliation, previousJstDay, type Reconciliation } from './reconcile.ts';
import { walletRouter } from './routes.ts';
import { createWalletClient, type WalletApi } from './wallet_client.ts';
import { type AccountResolver, createWalletMovements } from './wallet_movements.ts';
import { walletSettingsFromEnv } from './wallet_settings.ts';

export type { Reconciliation, ReconciliationItem } from './reconcile.ts';
export type { WalletApi, WalletOutcome, WalletTransaction } from './wallet_client.ts';
export { createWalletClient } from './wallet_client.ts';
export type { AccountResolver } from './wallet_movements.ts';
export type { WalletSettings } from './wallet_settings.ts';
export { walletSettingsFromEnv } from './wallet_settings.ts';

export interface WalletServices {
  configured: boolean;
  /** Reconciles one JST day (YYYY-MM-DD) now and stores the report. */
  reconcile(day: string, actor: string): Promise<Reconciliation>;
  /** Queues pending exchanges into the wallet that have no movement (after a crash). */
  sweepPending(): Promise<number>;
}

const MINUTE = 60_000;

/** The adapter; `api` replaces the HTTP client, `accounts` the consent-link lookup (tests). */
export function walletAdapterWith(
  options: { api?: WalletApi; accounts?: AccountResolver } = {},
): AdapterFactory {
  return ({ ctx, kit, env }) => {
    const settings = walletSettingsFromEnv(env);
    if (!settings) {
      const off = async () => {
        throw new Error('the wallet adapter is not configured (WALLET_BASE_URL)');
      };
      return {
        name: 'wallet',
        migrations: walletMigrations,
        services: { configured: false, reconcile: off, sweepPending: off } satisfies WalletServices,
        status: async () => ({ configured: false }),
      };
    }
    const api = options.api ?? createWalletClient(settings);
    const sealer = kit.sealer('wallet');
    const points = () => {
      const p = ctx.services['points'] as PointsService | undefined;
      if (!p) throw new Error('the wallet adapter needs the points module');
      return p;
    };
    const accountOf: AccountResolver =
      options.accounts ??
      (async (resident) => {
        const consent = ctx.services['consent'] as ConsentServices | undefined;
        if (!consent) return undefined;
        const links = await consent.links(resident);
        const service = settings.service ?? (await points().currency(settings.currency)).service;
        return links.find((l) => l.service === service && l.unlinkedAt === null)?.accountRef;
      });
    const referencePrefix = text(env, 'WALLET_REFERENCE_PREFIX') ?? 'tsunagu-ex-';
    const movements = createWalletMovements({
      db: ctx.db,
      audit: ctx.audit,
      logger: ctx.logger,
      now: ctx.now,
      kit,
      sealer,
      settings: {
        ...settings,
        referencePrefix,
        maxAttempts: integer(env, 'WALLET_MAX_ATTEMPTS', kit.settings.maxAttempts, 1),
      },
      api,
      points,
      accountOf,
    });
    const reconciliation = createReconciliation({
      db: ctx.db,
      audit: ctx.audit,
      now: ctx.now,
      api,
      movements,
      open: (reference, sealed) => sealer.open(`wallet-movement:${reference}`, sealed),
      referencePrefix,
    });

    // Once a day, after WALLET_RECONCILE_AT_JST, the previous JST day; a restart catches up.
    let timer: NodeJS.Timeout | undefined;
    let running = false;
    let reconciled = '';
    const tick = async () => {
      if (settings.reconcileAtJst === 'off' || running) return;
      const at = ctx.now();
      const jstClock = new Date(at.getTime() + 9 * 3_600_000).toISOString().slice(11, 16);
      const day = previousJstDay(at);
      if (jstClock < settings.reconcileAtJst || reconciled === day) return;
      running = true;
      try {
        if (!(await reconciliation.latest(day))) await reconciliation.run(day, 'system:wallet-reconcile');
        reconciled = day;
      } finally {
        running = false;
      }
    };

    return {
      name: 'wallet',
      migrations: walletMigrations,
      routers: [walletRouter(ctx, movements, reconciliation)],
      outboxHandlers: { credit: movements.deliverCredit, debit: movements.deliverDebit },
      pointsPorts: { externalWallets: { [settings.currency]: movements.port } },
      services: {
        configured: true,
        reconcile: reconciliation.run,
        sweepPending: movements.sweepPending,
      } satisfies WalletServices,
      async status() {
        const { rows } = await ctx.db.query<{ status: string; n: string }>(
          'SELECT status, count(*)::text AS n FROM adapters.wallet_movement GROUP BY status',
        );
        const last = (await reconciliation.list(1))[0];
        return {
          configured: true,
          currency: settings.currency,
          movements: Object.fromEntries(rows.map((r) => [r.status, Number(r.n)])),
          lastReconciliation: last ? { day: last.day, status: last.status } : null,
        };
      },
      async start() {
        await movements
          .sweepPending()
          .catch((err: unknown) => ctx.logger.warn({ err }, 'wallet: sweep failed'));
        timer = setInterval(() => {
          tick().catch((err: unknown) => ctx.logger.error({ err }, 'wallet: reconciliation failed'));
        }, MINUTE);
        timer.unref();
      },
      async stop() {
        if (timer) clearInterval(timer);
      },
    };
  };
}

export const walletAdapter: AdapterFactory = walletAdapterWith();
