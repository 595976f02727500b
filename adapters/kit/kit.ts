/**
 * The shared kit every adapter gets: the inbox, the outbox with its worker, and sealing for the
 * personal data adapters keep (LINE user ids, e-mail addresses).
 */
import { createHmac } from 'node:crypto';
import type { ModuleContext, Queryable } from '../../core/index.ts';
import { deriveKey, openWith, sealWith } from '../../core/index.ts';
import { createInbox, type Inbox } from './inbox.ts';
import {
  createOutboxStore,
  type EnqueueInput,
  type OutboxEntry,
  type OutboxHandler,
  type OutboxStatus,
} from './outbox.ts';
import { createOutboxWorker, type WorkerSettings } from './outbox_worker.ts';
import { createResidentSignIn, type ResidentSignIn } from './resident_sign_in.ts';
import { type Env, integer } from './settings.ts';

export interface KitSettings extends WorkerSettings {
  maxAttempts: number;
  inboxRetentionDays: number;
}

export function kitSettings(env: Env): KitSettings {
  return {
    pollMs: integer(env, 'ADAPTERS_OUTBOX_POLL_MS', 1000),
    batch: integer(env, 'ADAPTERS_OUTBOX_BATCH', 20, 1),
    leaseMs: integer(env, 'ADAPTERS_OUTBOX_LEASE_MS', 60_000, 1),
    baseMs: integer(env, 'ADAPTERS_OUTBOX_BACKOFF_MS', 2000, 1),
    maxMs: integer(env, 'ADAPTERS_OUTBOX_BACKOFF_MAX_MS', 3_600_000, 1),
    maxAttempts: integer(env, 'ADAPTERS_OUTBOX_MAX_ATTEMPTS', 10, 1),
    inboxRetentionDays: integer(env, 'ADAPTERS_INBOX_RETENTION_DAYS', 30, 1),
  };
}

export interface Outbox {
  /** Stores a message inside the caller's transaction; call `kick()` after it commits. */
  enqueue(tx: Queryable, input: EnqueueInput): Promise<{ id: string; created: boolean }>;
  kick(): void;
  /** One delivery round now (tests, staff). */
  runOnce(): Promise<number>;
  list(query: {
    adapter?: string;
    status?: OutboxStatus;
    limit?: number;
    before?: string;
  }): Promise<OutboxEntry[]>;
  get(id: string): Promise<OutboxEntry | undefined>;
  retry(id: string, actor: string): Promise<void>;
}

/** AES-256-GCM with a key of its own per purpose; `aad` binds a value to its row. */
export interface Sealer {
  seal(aad: string, plaintext: string): string;
  open(aad: string, sealed: string): string;
  /** HMAC-SHA256 (hex) for looking a sealed value up without opening it. */
  blindIndex(value: string): string;
}

export interface Kit {
  inbox: Inbox;
  outbox: Outbox;
  sealer(purpose: string): Sealer;
  /** Residents sign in through our OpenID provider for account-link pages. */
  signIn: ResidentSignIn;
  settings: KitSettings;
}

export interface KitRuntime extends Kit {
  setHandlers(handlers: ReadonlyMap<string, OutboxHandler>): void;
  start(): void;
  stop(): Promise<void>;
}

const PRUNE_EVERY_MS = 3_600_000;

export function createKit(ctx: ModuleContext, settings: KitSettings): KitRuntime {
  const { db, audit, logger, now } = ctx;
  let handlers: ReadonlyMap<string, OutboxHandler> = new Map();
  const store = createOutboxStore({
    db,
    key: deriveKey(ctx.config, 'tsunagu/adapters/outbox'),
    now,
    defaultMaxAttempts: settings.maxAttempts,
  });
  const worker = createOutboxWorker({ db, audit, logger, now, store, handlers: () => handlers, settings });
  const inbox = createInbox({ db, now, afterCommit: () => worker.kick() });
  let pruneTimer: NodeJS.Timeout | undefined;

  const prune = async () => {
    const at = now().getTime();
    await inbox.prune(new Date(at - settings.inboxRetentionDays * 86_400_000));
    await db.query(`DELETE FROM adapters.outbox WHERE status = 'done' AND done_at < $1`, [
      new Date(at - settings.inboxRetentionDays * 86_400_000),
    ]);
  };

  return {
    inbox,
    settings,
    signIn: createResidentSignIn(ctx),
    outbox: {
      enqueue: (tx, input) => store.enqueue(tx, input),
      kick: () => worker.kick(),
      runOnce: () => worker.runOnce(),
      list: (query) => store.list(query),
      get: (id) => store.get(id),
      retry: (id, actor) => worker.retry(id, actor),
    },
    sealer(purpose) {
      const key = deriveKey(ctx.config, `tsunagu/adapters/${purpose}`);
      const indexKey = deriveKey(ctx.config, `tsunagu/adapters/${purpose}/index`);
      return {
        seal: (aad, plaintext) => sealWith(key, aad, plaintext),
        open: (aad, sealed) => openWith(key, aad, sealed),
        blindIndex: (value) => createHmac('sha256', indexKey).update(value).digest('hex'),
      };
    },
    setHandlers(next) {
      handlers = next;
    },
    start() {
      worker.start();
      pruneTimer = setInterval(() => {
        prune().catch((err: unknown) => logger.warn({ err }, 'adapters: pruning inbox/outbox failed'));
      }, PRUNE_EVERY_MS);
      pruneTimer.unref();
    },
    async stop() {
      if (pruneTimer) clearInterval(pruneTimer);
      await worker.stop();
    },
  };
}
