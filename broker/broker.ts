/**
 * Assembles the broker from its parts: store, subscriptions, notifier and the request engine, and
 * reads its settings from the environment.
 *
 * @example
 *   const broker = createBroker({ db, logger, now: () => new Date(), settings: brokerSettings(process.env) });
 *   await broker.start();
 *   http.createServer(broker.nodeHandler).listen(1026);
 */
import { isIP } from 'node:net';
import type { Database, Logger } from '../core/index.ts';
import { createAddressMatcher } from '../core/index.ts';
import type { BrokerContext, Change } from './entity_ops.ts';
import { dispatch, type Engine, type RawReply, type RawRequest } from './http/dispatch.ts';
import { nodeHandler } from './http/node_adapter.ts';
import { createStore } from './store.ts';
import { createNotifier, type Notifier } from './subscriptions/notifier.ts';
import {
  createSubscriptionService,
  type SubscriptionService,
  type TargetPolicy,
} from './subscriptions/service.ts';

export interface BrokerSettings {
  /** Honour Fiware-Service (Orion's `-multiservice`). */
  multiservice: boolean;
  maxBodyBytes: number;
  notifyQueueSize: number;
  notifyConcurrency: number;
  notifyRetries: number;
  notifyRetryDelayMs: number;
  /** Host names (`*.example.jp`) or CIDRs notifications may go to; empty = anywhere not denied. */
  notifyAllow: string[];
  notifyDeny: string[];
  /** How often expired transient entities are purged. */
  expiryIntervalMs: number;
}

type Env = Record<string, string | undefined>;

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function int(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** Broker settings from BROKER_* environment variables (see broker/README.md). */
export function brokerSettings(env: Env): BrokerSettings {
  return {
    multiservice: env['BROKER_MULTISERVICE'] !== 'false',
    maxBodyBytes: int(env, 'BROKER_MAX_BODY_BYTES', 1024 * 1024),
    notifyQueueSize: int(env, 'BROKER_NOTIFY_QUEUE', 10_000),
    notifyConcurrency: int(env, 'BROKER_NOTIFY_CONCURRENCY', 32),
    notifyRetries: int(env, 'BROKER_NOTIFY_RETRIES', 2),
    notifyRetryDelayMs: int(env, 'BROKER_NOTIFY_RETRY_DELAY_MS', 200),
    notifyAllow: list(env['BROKER_NOTIFY_ALLOW']),
    notifyDeny: list(env['BROKER_NOTIFY_DENY']),
    expiryIntervalMs: int(env, 'BROKER_EXPIRY_INTERVAL_MS', 60_000),
  };
}

function hostMatcher(entries: readonly string[]): (host: string) => boolean {
  const cidrs = entries.filter((e) => isIP(e.split('/')[0]!) !== 0);
  const names = entries.filter((e) => isIP(e.split('/')[0]!) === 0).map((e) => e.toLowerCase());
  const addresses = createAddressMatcher(
    cidrs.map((c) => (c.includes('/') ? c : `${c}/${isIP(c) === 4 ? 32 : 128}`)),
  );
  return (host) => {
    const h = host.replace(/^\[|\]$/g, '').toLowerCase();
    if (isIP(h) !== 0) return addresses.allows(h);
    return names.some((n) => n === h || (n.startsWith('*.') && h.endsWith(n.slice(1))));
  };
}

export function targetPolicy(settings: Pick<BrokerSettings, 'notifyAllow' | 'notifyDeny'>): TargetPolicy {
  const allowed = hostMatcher(settings.notifyAllow);
  const denied = hostMatcher(settings.notifyDeny);
  return {
    allows(url) {
      if (denied(url.hostname)) return false;
      return settings.notifyAllow.length === 0 || allowed(url.hostname);
    },
  };
}

export interface Broker {
  engine: Engine;
  subscriptions: SubscriptionService;
  notifier: Notifier;
  /** Serves one request without HTTP (the in-process client transport). */
  handle(request: RawRequest): Promise<RawReply>;
  nodeHandler: ReturnType<typeof nodeHandler>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createBroker(deps: {
  db: Database;
  logger: Logger;
  now: () => Date;
  settings: BrokerSettings;
  audit?: Engine['audit'];
}): Broker {
  const { db, logger, now, settings } = deps;
  const notifier = createNotifier({
    maxQueue: settings.notifyQueueSize,
    concurrency: settings.notifyConcurrency,
    retries: settings.notifyRetries,
    retryDelayMs: settings.notifyRetryDelayMs,
  });
  const subscriptions = createSubscriptionService({
    db,
    now,
    notifier,
    policy: targetPolicy(settings),
    logger,
    multiservice: settings.multiservice,
  });
  const context: BrokerContext = {
    store: createStore(db, now),
    now,
    onChange: (change: Change) => {
      try {
        subscriptions.onChange(change);
      } catch (error) {
        logger.error({ err: error }, 'broker: matching subscriptions failed');
      }
    },
    watched: (tenant) => subscriptions.hasAny(tenant),
  };
  const engine: Engine = {
    ...context,
    subscriptions,
    registrations: { db },
    startedAt: Date.now(),
    multiservice: settings.multiservice,
    maxBodyBytes: settings.maxBodyBytes,
    logger,
    ...(deps.audit ? { audit: deps.audit } : {}),
  };
  let timer: NodeJS.Timeout | undefined;
  return {
    engine,
    subscriptions,
    notifier,
    handle: (request) => dispatch(engine, request),
    nodeHandler: nodeHandler(engine),
    async start() {
      await subscriptions.load();
      timer = setInterval(() => {
        context.store
          .purgeExpired()
          .catch((error) => logger.warn({ err: error }, 'broker: purging expired entities failed'));
      }, settings.expiryIntervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await notifier.stop();
      await subscriptions.flush();
      await subscriptions.close();
    },
  };
}
