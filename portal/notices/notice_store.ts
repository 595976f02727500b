/**
 * Notices (お知らせ) staff send to residents, and what each resident has read.
 *
 * Audiences: `all` (every resident, also those who sign up later), `municipality` and `attributes`
 * (the residents the directory finds when the notice is sent), `service` (a municipal service's
 * target list when sent). Recipients of the last three are fixed at sending; a notice to all is
 * shown to everyone and its read marks are kept as they happen. Sending writes the notice, its
 * recipients, the e-mail / LINE deliveries for residents who allow them, and the audit entry in one
 * transaction: a refused notice leaves nothing behind.
 *
 * @example
 *   const { id } = await notices.send({ titleJa, titleEn, bodyJa, bodyEn, audience: { kind: 'service', serviceId }, channels: ['line'] }, 'staff:st_1');
 *   await notices.forResident(commonId); // [{ id, titleJa, …, readAt: null }]
 */
import { randomUUID } from 'node:crypto';
import {
  type AuditLog,
  type Database,
  defineProblem,
  type Migration,
  ProblemError,
} from '../../core/index.ts';
import type { AudienceCriteria, ResidentDirectory } from '../municipal_services/resident_directory.ts';
import type { ServiceRegistry } from '../municipal_services/service_registry.ts';

defineProblem('portal-notice-not-found', { status: 404, title: 'No such notice' });
defineProblem('portal-notice-no-recipients', { status: 422, title: 'The audience has no residents' });

export const NOTICE_MIGRATIONS: Migration[] = [
  {
    id: '001_notices',
    sql: `
      CREATE TABLE portal.notices (
        id               text        PRIMARY KEY,
        title_ja         text        NOT NULL,
        title_en         text        NOT NULL,
        body_ja          text        NOT NULL,
        body_en          text        NOT NULL,
        audience         jsonb       NOT NULL,
        channels         text[]      NOT NULL,
        recipient_count  integer     NOT NULL,
        sent_by          text        NOT NULL,
        sent_at          timestamptz NOT NULL
      );
      CREATE INDEX notices_all ON portal.notices (sent_at DESC) WHERE audience->>'kind' = 'all';
      -- Recipients fixed at sending, and read marks (for a notice to all, rows appear as residents read it).
      CREATE TABLE portal.notice_recipients (
        notice_id  text        NOT NULL REFERENCES portal.notices (id),
        common_id  text        NOT NULL,
        read_at    timestamptz,
        PRIMARY KEY (notice_id, common_id)
      );
      CREATE INDEX notice_recipients_resident ON portal.notice_recipients (common_id);
      -- E-mail and LINE deliveries (an outbox): pending until a channel accepts them.
      CREATE TABLE portal.notice_deliveries (
        id          bigserial   PRIMARY KEY,
        notice_id   text        NOT NULL REFERENCES portal.notices (id),
        common_id   text        NOT NULL,
        channel     text        NOT NULL CHECK (channel IN ('email', 'line')),
        state       text        NOT NULL CHECK (state IN ('pending', 'sent', 'skipped', 'failed')),
        attempts    integer     NOT NULL DEFAULT 0,
        next_at     timestamptz NOT NULL,
        outcome     text,
        updated_at  timestamptz NOT NULL,
        UNIQUE (notice_id, common_id, channel)
      );
      CREATE INDEX notice_deliveries_due ON portal.notice_deliveries (next_at) WHERE state = 'pending';`,
  },
];

export const CHANNELS = ['email', 'line'] as const;
export type Channel = (typeof CHANNELS)[number];

export type Audience =
  | { kind: 'all' }
  | { kind: 'municipality'; municipality: string }
  | { kind: 'attributes'; criteria: AudienceCriteria }
  | { kind: 'service'; serviceId: string };

export interface NoticeInput {
  titleJa: string;
  titleEn: string;
  bodyJa: string;
  bodyEn: string;
  audience: Audience;
  channels: Channel[];
}

export interface Notice extends NoticeInput {
  id: string;
  recipientCount: number;
  sentBy: string;
  sentAt: string;
}

export interface NoticeSummary extends Notice {
  readCount: number;
  deliveries: Record<Channel, { pending: number; sent: number; skipped: number; failed: number }>;
}

export interface ResidentNotice extends Notice {
  readAt: string | null;
}

/** Which residents allow a kind of notification on a channel (the portal's notification preferences). */
export interface PreferencesPort {
  allowing(candidates: readonly string[], kind: 'notices', channel: Channel): Promise<string[]>;
}

export interface NoticeStore {
  send(input: NoticeInput, actor: string): Promise<Notice>;
  get(id: string): Promise<Notice>;
  list(limit?: number): Promise<NoticeSummary[]>;
  summary(id: string): Promise<NoticeSummary>;
  forResident(commonId: string, limit?: number): Promise<ResidentNotice[]>;
  /** The notice if the resident is among its audience; marks it read. */
  open(commonId: string, id: string): Promise<ResidentNotice | undefined>;
  unreadCount(commonId: string): Promise<number>;
}

interface Row {
  id: string;
  title_ja: string;
  title_en: string;
  body_ja: string;
  body_en: string;
  audience: Audience;
  channels: Channel[];
  recipient_count: number;
  sent_by: string;
  sent_at: Date;
  read_at?: Date | null;
}

const toNotice = (r: Row): Notice => ({
  id: r.id,
  titleJa: r.title_ja,
  titleEn: r.title_en,
  bodyJa: r.body_ja,
  bodyEn: r.body_en,
  audience: r.audience,
  channels: r.channels,
  recipientCount: r.recipient_count,
  sentBy: r.sent_by,
  sentAt: r.sent_at.toISOString(),
});

function validate(input: NoticeInput): void {
  const errors: string[] = [];
  const text = (name: keyof NoticeInput, max: number) => {
    const v = input[name];
    if (typeof v !== 'string' || !v.trim() || v.length > max)
      errors.push(`${name}: required, at most ${max} characters`);
  };
  text('titleJa', 200);
  text('titleEn', 200);
  text('bodyJa', 10_000);
  text('bodyEn', 10_000);
  if (!input.channels.every((c) => (CHANNELS as readonly string[]).includes(c)))
    errors.push('channels: email or line');
  const a = input.audience;
  if (a.kind === 'municipality' && !a.municipality.trim()) errors.push('municipality: required');
  if (a.kind === 'service' && !a.serviceId) errors.push('serviceId: required');
  if (!['all', 'municipality', 'attributes', 'service'].includes(a.kind))
    errors.push('audience: unknown kind');
  if (errors.length) throw new ProblemError('validation-failed', { detail: errors.join('; '), errors });
}

export function createNoticeStore(d: {
  db: Database;
  audit: AuditLog;
  now: () => Date;
  directory: ResidentDirectory;
  services: ServiceRegistry;
  preferences: () => PreferencesPort | undefined;
}): NoticeStore {
  const { db, audit, now } = d;

  /** Recipients fixed at sending (for `all`: the directory, for deliveries only). */
  const audienceOf = async (a: Audience): Promise<string[]> => {
    switch (a.kind) {
      case 'all':
        return d.directory.search({});
      case 'municipality':
        return d.directory.search({ municipality: a.municipality });
      case 'attributes':
        return d.directory.search(a.criteria);
      case 'service': {
        const service = await d.services.get(a.serviceId);
        if (service.status !== 'active') throw new ProblemError('municipal-service-retired');
        return d.services.targetIds(a.serviceId);
      }
    }
  };

  const summaries = async (where: string, params: unknown[]): Promise<NoticeSummary[]> => {
    const { rows } = await db.query<
      Row & { read_count: string; deliveries: Array<{ channel: Channel; state: string; n: number }> | null }
    >(
      `SELECT n.*,
              (SELECT count(*) FROM portal.notice_recipients r WHERE r.notice_id = n.id AND r.read_at IS NOT NULL) AS read_count,
              (SELECT json_agg(json_build_object('channel', channel, 'state', state, 'n', c))
                 FROM (SELECT channel, state, count(*)::int AS c FROM portal.notice_deliveries x
                        WHERE x.notice_id = n.id GROUP BY channel, state) g) AS deliveries
         FROM portal.notices n ${where}`,
      params,
    );
    return rows.map((r) => {
      const deliveries = {
        email: { pending: 0, sent: 0, skipped: 0, failed: 0 },
        line: { pending: 0, sent: 0, skipped: 0, failed: 0 },
      };
      for (const g of r.deliveries ?? []) deliveries[g.channel][g.state as 'sent'] = g.n;
      return { ...toNotice(r), readCount: Number(r.read_count), deliveries };
    });
  };

  const RESIDENT_SELECT = `SELECT n.*, r.read_at FROM portal.notices n
      LEFT JOIN portal.notice_recipients r ON r.notice_id = n.id AND r.common_id = $1
     WHERE (n.audience->>'kind' = 'all' OR r.common_id IS NOT NULL)`;

  return {
    async send(input, actor) {
      validate(input);
      const recipients = await audienceOf(input.audience);
      if (input.audience.kind !== 'all' && recipients.length === 0)
        throw new ProblemError('portal-notice-no-recipients');
      const prefs = d.preferences();
      const allowed: Record<Channel, string[]> = { email: [], line: [] };
      for (const channel of input.channels)
        allowed[channel] =
          prefs && recipients.length ? await prefs.allowing(recipients, 'notices', channel) : [];
      const id = randomUUID();
      const at = now();
      await db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO portal.notices (id, title_ja, title_en, body_ja, body_en, audience, channels, recipient_count, sent_by, sent_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [
            id,
            input.titleJa.trim(),
            input.titleEn.trim(),
            input.bodyJa.trim(),
            input.bodyEn.trim(),
            JSON.stringify(input.audience),
            input.channels,
            recipients.length,
            actor,
            at,
          ],
        );
        if (input.audience.kind !== 'all')
          await tx.query(
            `INSERT INTO portal.notice_recipients (notice_id, common_id) SELECT $1, c FROM unnest($2::text[]) AS c`,
            [id, recipients],
          );
        for (const channel of input.channels)
          if (allowed[channel].length)
            await tx.query(
              `INSERT INTO portal.notice_deliveries (notice_id, common_id, channel, state, next_at, updated_at)
               SELECT $1, c, $3, 'pending', $4, $4 FROM unnest($2::text[]) AS c`,
              [id, allowed[channel], channel, at],
            );
        await audit.recordInTransaction(tx, {
          actor,
          action: 'portal.notice.send',
          target: `notice:${id}`,
          details: {
            audience: input.audience.kind,
            ...(input.audience.kind === 'service' ? { service: input.audience.serviceId } : {}),
            recipients: recipients.length,
            deliveries: Object.fromEntries(input.channels.map((c) => [c, allowed[c].length])),
          },
        });
      });
      return this.get(id);
    },
    async get(id) {
      const { rows } = await db.query<Row>('SELECT * FROM portal.notices WHERE id = $1', [id]);
      if (!rows[0]) throw new ProblemError('portal-notice-not-found');
      return toNotice(rows[0]);
    },
    async list(limit = 100) {
      return summaries(`ORDER BY n.sent_at DESC LIMIT ${Math.floor(limit)}`, []);
    },
    async summary(id) {
      const [s] = await summaries('WHERE n.id = $1', [id]);
      if (!s) throw new ProblemError('portal-notice-not-found');
      return s;
    },
    async forResident(commonId, limit = 50) {
      const { rows } = await db.query<Row>(
        `${RESIDENT_SELECT} ORDER BY n.sent_at DESC LIMIT ${Math.floor(limit)}`,
        [commonId],
      );
      return rows.map((r) => ({ ...toNotice(r), readAt: r.read_at?.toISOString() ?? null }));
    },
    async open(commonId, id) {
      const { rows } = await db.query<Row>(`${RESIDENT_SELECT} AND n.id = $2`, [commonId, id]);
      const r = rows[0];
      if (!r) return undefined;
      const readAt = r.read_at ?? now();
      if (!r.read_at)
        await db.query(
          `INSERT INTO portal.notice_recipients (notice_id, common_id, read_at) VALUES ($1, $2, $3)
           ON CONFLICT (notice_id, common_id) DO UPDATE SET read_at = COALESCE(portal.notice_recipients.read_at, EXCLUDED.read_at)`,
          [id, commonId, readAt],
        );
      return { ...toNotice(r), readAt: readAt.toISOString() };
    },
    async unreadCount(commonId) {
      const { rows } = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM (${RESIDENT_SELECT}) x WHERE x.read_at IS NULL`,
        [commonId],
      );
      return Number(rows[0]!.n);
    },
  };
}
