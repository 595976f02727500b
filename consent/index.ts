/**
 * consent — residents' consent records (ISO/IEC TS 27560 structure) per data item, recipient service
 * and purpose; data-flow consents as pairs; the decision other modules ask before personal data
 * moves; signed receipts; versioned notices; consent status records to services (webhooks via an
 * outbox). See README.md.
 *
 * @example
 *   const consent = ctx.services['consent'] as ConsentServices;
 *   const d = await consent.decide({ resident: commonId, service: clientId, item: 'birthdate', purpose: 'age-check' });
 *   if (d.decision === 'deny') throw new ProblemError('forbidden', { detail: d.reason });
 */
import type { ModuleFactory } from '../core/index.ts';
import { type ConsentServices, createConsentServices } from './consent_service.ts';
import { consentMigrations } from './migrations.ts';
import { idpDirectory, type ResidentDirectory } from './ports.ts';
import './problems.ts';
import { createReceiptKeys, type ReceiptOptions } from './receipts.ts';
import { consentRoutes } from './routes/consent_routes.ts';
import { createSealer } from './seal.ts';

export type { ConsentAction } from './change_consent.ts';
export type { ConsentChange, ConsentServices, HistoryEntry } from './consent_service.ts';
export { DATA_ITEMS, type DataItemCode } from './data_items.ts';
export type { Decision, DecisionQuery, DenyReason } from './decide.ts';
export type { GiveInput } from './give_consent.ts';
export type { Notice, NoticeInput } from './notices.ts';
export type { ResidentDirectory } from './ports.ts';
export type { ConsentEvent, ConsentRecord, ConsentState } from './records.ts';
export { SCOPES as CONSENT_SCOPES } from './routes/consent_routes.ts';
export type { LinkMethod, ServiceLink } from './service_links.ts';
export { signature as webhookSignature } from './webhooks.ts';

export interface ConsentModuleOptions {
  /** Residents and services; defaults to the identity provider's services. */
  directory?: ResidentDirectory;
  /** How often due webhooks are delivered (ms); 0 turns the timer off (tests drive `deliverDue`). */
  deliveryIntervalMs?: number;
  /** How often expired consents get their `expired` event (ms); 0 turns the timer off. */
  expiryIntervalMs?: number;
  receipt?: Partial<ReceiptOptions>;
}

const DEFAULT_RECEIPT: ReceiptOptions = {
  controller: {
    name: 'つなぐ データ連携基盤 運営者 (Tsunagu platform operator)',
    contact: 'privacy desk / 個人情報窓口',
    address: 'JP',
    email: 'privacy@example.invalid',
    phone: '-',
  },
  jurisdiction: 'JP',
};

export function consentModule(options: ConsentModuleOptions = {}): ModuleFactory<ConsentServices> {
  return (ctx) => {
    const directory = options.directory ?? idpDirectory(ctx.services);
    const sealer = createSealer(ctx.config);
    const keys = createReceiptKeys(ctx.db, sealer, ctx.now);
    const services = createConsentServices({
      db: ctx.db,
      audit: ctx.audit,
      config: ctx.config,
      directory,
      sealer,
      keys,
      receiptOptions: { ...DEFAULT_RECEIPT, ...options.receipt },
      now: ctx.now,
    });
    const routers = consentRoutes(ctx, services, directory);
    const timers: NodeJS.Timeout[] = [];
    // Jobs still running at shutdown finish before the database closes.
    const inFlight = new Map<string, Promise<unknown>>();
    const every = (ms: number, name: string, job: () => Promise<unknown>) => {
      if (ms <= 0) return;
      const timer = setInterval(() => {
        if (inFlight.has(name)) return;
        const run = job()
          .catch((err: unknown) => ctx.logger.warn({ err }, `consent ${name} failed`))
          .finally(() => inFlight.delete(name));
        inFlight.set(name, run);
      }, ms);
      timer.unref();
      timers.push(timer);
    };
    return {
      name: 'consent',
      migrations: consentMigrations,
      routers: [
        { prefix: '/api/consent', router: routers[0]!.router },
        { prefix: '/api/admin/consent', router: routers[1]!.router },
      ],
      services,
      async start() {
        await keys.ensure();
        every(options.deliveryIntervalMs ?? 2_000, 'webhook delivery', () => services.deliverDue());
        every(options.expiryIntervalMs ?? 60_000, 'expiry sweep', async () => {
          await services.expireDue();
          await services.sweepIdempotency();
        });
      },
      async stop() {
        for (const timer of timers) clearInterval(timer);
        await Promise.all(inFlight.values());
      },
    };
  };
}

export const createConsentModule: ModuleFactory<ConsentServices> = consentModule();
