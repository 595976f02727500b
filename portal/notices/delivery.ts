/**
 * Delivering notices by e-mail and LINE push: an outbox (`portal.notice_deliveries`) worked by a
 * timer. Each due delivery is leased (`FOR UPDATE SKIP LOCKED`, so instances share the work), handed
 * to its channel, and marked sent, skipped (the resident has no address on that channel) or, after
 * `maxAttempts` failures with exponential backoff, failed. One audit entry per batch and channel
 * counts what happened (the addresses themselves are never logged).
 *
 * The channel port every implementation follows:
 *
 *   send(commonId, message, key)   resolves 'sent' once the outside system accepted the message, or
 *                                  'no-address' when the resident has none there (not retried);
 *                                  rejects to be retried. `key` is stable per delivery, for the
 *                                  outside system's idempotency (LINE's X-Line-Retry-Key).
 *
 * Where the channels come from (first found): `services['notice-channels']` (an embedder or test
 * double), then the LINE adapter's `pushNotice(commonId, text, key)` → 'sent' | 'not-linked' (in
`services['adapters'].adapters.line`, when the adapter offers it) and,
 * for e-mail, the resident's sign-up address (`idp.residents.find`) sent through `idp.mailer` or,
 * when `SMTP_URL` is set, an SMTP mailer of our own. Without a channel a delivery is skipped
 * (`no-channel`).
 */
import { createHash } from 'node:crypto';
import type { Database, ModuleContext } from '../../core/index.ts';
import { createSmtpMailer, type IdpServices, type Mailer } from '../../idp/index.ts';
import type { Channel } from './notice_store.ts';

export interface NoticeMessage {
  noticeId: string;
  titleJa: string;
  titleEn: string;
  bodyJa: string;
  bodyEn: string;
  /** Absolute URL of the notice in the portal. */
  url: string;
}

export interface NoticeChannel {
  send(commonId: string, message: NoticeMessage, key: string): Promise<'sent' | 'no-address'>;
}

export type NoticeChannels = Partial<Record<Channel, NoticeChannel>>;

/** The text a notice is delivered as (e-mail body, LINE text message). */
export function noticeText(m: NoticeMessage): string {
  return `${m.titleJa}\n\n${m.bodyJa}\n\n${m.titleEn}\n\n${m.bodyEn}\n\n${m.url}`;
}

interface LinePushService {
  pushNotice(commonId: string, text: string, key: string): Promise<'sent' | 'not-linked'>;
}

/** The channels available now, from the services of the running platform (see the file comment). */
export function channelsFrom(
  ctx: ModuleContext,
  env: Record<string, string | undefined> = process.env,
): () => NoticeChannels {
  let smtp: Mailer | undefined;
  return () => {
    const injected = ctx.services['notice-channels'] as NoticeChannels | undefined;
    const out: NoticeChannels = { ...injected };
    const adapters = ctx.services['adapters'] as
      { adapters?: { line?: Partial<LinePushService> }; line?: Partial<LinePushService> } | undefined;
    const line = adapters?.adapters?.line ?? adapters?.line;
    if (!out.line && typeof line?.pushNotice === 'function') {
      const push = line.pushNotice.bind(line);
      out.line = {
        async send(commonId, message, key) {
          return (await push(commonId, noticeText(message), key)) === 'sent' ? 'sent' : 'no-address';
        },
      };
    }
    const idp = ctx.services['idp'] as (IdpServices & { mailer?: Mailer }) | undefined;
    if (!smtp && env['SMTP_URL'])
      smtp = createSmtpMailer({ url: env['SMTP_URL'], from: env['SMTP_FROM'] ?? 'noreply@tsunagu.invalid' });
    const mailer = idp?.mailer ?? smtp;
    if (!out.email && mailer && idp?.residents) {
      const residents = idp.residents;
      out.email = {
        async send(commonId, message) {
          const login = await residents.find(commonId);
          if (!login || login.status !== 'active' || !login.email) return 'no-address';
          await mailer.send({
            to: login.email,
            subject: `${message.titleJa} / ${message.titleEn}`,
            text: noticeText(message),
          });
          return 'sent';
        },
      };
    }
    return out;
  };
}

export interface DeliveryWorker {
  /** Works every due delivery now (tests and the timer); answers how many were handled. */
  runOnce(): Promise<number>;
  start(intervalMs: number): void;
  stop(): Promise<void>;
}

interface Leased {
  id: string;
  notice_id: string;
  common_id: string;
  channel: Channel;
  attempts: number;
  title_ja: string;
  title_en: string;
  body_ja: string;
  body_en: string;
}

export function createDeliveryWorker(d: {
  ctx: ModuleContext;
  channels: () => NoticeChannels;
  noticeUrl: (id: string) => string;
  batch?: number;
  maxAttempts?: number;
}): DeliveryWorker {
  const db: Database = d.ctx.db;
  const { now, audit, logger } = d.ctx;
  const batch = d.batch ?? 100;
  const maxAttempts = d.maxAttempts ?? 5;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  const lease = async (): Promise<Leased[]> => {
    const at = now();
    const { rows } = await db.query<Leased>(
      `WITH due AS (
         SELECT id FROM portal.notice_deliveries
          WHERE state = 'pending' AND next_at <= $1
          ORDER BY next_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
       UPDATE portal.notice_deliveries x
          SET attempts = x.attempts + 1, next_at = $1::timestamptz + interval '5 minutes', updated_at = $1
         FROM due, portal.notices n
        WHERE x.id = due.id AND n.id = x.notice_id
       RETURNING x.id, x.notice_id, x.common_id, x.channel, x.attempts, n.title_ja, n.title_en, n.body_ja, n.body_en`,
      [at, batch],
    );
    return rows;
  };

  const finish = (
    id: string,
    state: 'sent' | 'skipped' | 'failed' | 'pending',
    outcome: string | null,
    nextAt?: Date,
  ) =>
    db.query(
      `UPDATE portal.notice_deliveries SET state = $2, outcome = $3, next_at = COALESCE($4, next_at), updated_at = $5 WHERE id = $1`,
      [id, state, outcome, nextAt ?? null, now()],
    );

  const work = async (): Promise<number> => {
    let handled = 0;
    for (;;) {
      const leased = await lease();
      if (leased.length === 0) return handled;
      const channels = d.channels();
      const counts = new Map<string, Record<string, number>>();
      const tally = (l: Leased, state: string) => {
        const key = `${l.notice_id}\u0000${l.channel}`;
        const c = counts.get(key) ?? {};
        c[state] = (c[state] ?? 0) + 1;
        counts.set(key, c);
      };
      for (const l of leased) {
        const channel = channels[l.channel];
        if (!channel) {
          await finish(l.id, 'skipped', 'no-channel');
          tally(l, 'skipped');
          continue;
        }
        const key = createHash('sha256').update(`notice-delivery:${l.id}`).digest('hex').slice(0, 32);
        try {
          const result = await channel.send(
            l.common_id,
            {
              noticeId: l.notice_id,
              titleJa: l.title_ja,
              titleEn: l.title_en,
              bodyJa: l.body_ja,
              bodyEn: l.body_en,
              url: d.noticeUrl(l.notice_id),
            },
            key,
          );
          await finish(l.id, result === 'sent' ? 'sent' : 'skipped', result === 'sent' ? null : 'no-address');
          tally(l, result === 'sent' ? 'sent' : 'skipped');
        } catch (error) {
          const code = (error as { code?: unknown }).code;
          const outcome = typeof code === 'string' ? code.slice(0, 60) : 'error';
          if (l.attempts >= maxAttempts) {
            await finish(l.id, 'failed', outcome);
            tally(l, 'failed');
          } else {
            await finish(
              l.id,
              'pending',
              outcome,
              new Date(now().getTime() + 30_000 * 2 ** (l.attempts - 1)),
            );
            tally(l, 'retry');
          }
          logger.warn({ channel: l.channel, delivery: l.id, outcome }, 'notice delivery failed');
        }
        handled += 1;
      }
      for (const [key, c] of counts) {
        const [noticeId, channel] = key.split('\u0000');
        await audit.record({
          actor: 'system:portal-notices',
          action: 'portal.notice.deliver',
          target: `notice:${noticeId}`,
          details: { channel, ...c },
        });
      }
    }
  };

  return {
    runOnce() {
      running ??= work().finally(() => {
        running = undefined;
      });
      return running;
    },
    start(intervalMs) {
      if (intervalMs <= 0) return;
      timer = setInterval(() => {
        this.runOnce().catch((error: unknown) => logger.warn({ err: error }, 'notice deliveries failed'));
      }, intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}
