/**
 * Notification preferences (通知の設定): per resident, per kind of notification and per channel,
 * whether the resident wants it. Nothing is sent unless the resident turned it on (opt-in). Other
 * modules read them through `services.portal.preferences` before they deliver anything (notices by
 * e-mail or LINE push, points balance and expiry notices, consent changes).
 *
 * @example
 *   const { preferences } = ctx.services['portal'] as PortalServices;
 *   if (await preferences.allows(commonId, 'points', 'line')) await line.push(…);
 */
import type { AuditLog, Database } from '../../core/index.ts';
import { defineProblem, ProblemError } from '../../core/index.ts';

defineProblem('invalid-preferences', { status: 400, title: 'Unknown notification kind or channel' });

export const NOTIFICATION_KINDS = ['notices', 'points', 'consent'] as const;
export const NOTIFICATION_CHANNELS = ['email', 'line'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];
export type NotificationChannel = (typeof NOTIFICATION_CHANNELS)[number];
export type Preferences = Record<NotificationKind, Record<NotificationChannel, boolean>>;

export interface NotificationPreferences {
  /** Every kind × channel, `false` where the resident never chose (opt-in). */
  get(resident: string): Promise<Preferences>;
  allows(resident: string, kind: NotificationKind, channel: NotificationChannel): Promise<boolean>;
  /** Residents (of `candidates`) who allow a kind on a channel: for bulk delivery. */
  allowing(
    candidates: readonly string[],
    kind: NotificationKind,
    channel: NotificationChannel,
  ): Promise<string[]>;
  /** Replaces the given entries; audited; answers the preferences after. */
  set(
    resident: string,
    changes: Partial<Record<string, Partial<Record<string, boolean>>>>,
    actor: string,
  ): Promise<Preferences>;
}

export function emptyPreferences(): Preferences {
  const out = {} as Preferences;
  for (const k of NOTIFICATION_KINDS) out[k] = { email: false, line: false };
  return out;
}

const isKind = (k: string): k is NotificationKind => (NOTIFICATION_KINDS as readonly string[]).includes(k);
const isChannel = (c: string): c is NotificationChannel =>
  (NOTIFICATION_CHANNELS as readonly string[]).includes(c);

export function createNotificationPreferences(d: {
  db: Database;
  audit: AuditLog;
  now: () => Date;
}): NotificationPreferences {
  async function get(resident: string): Promise<Preferences> {
    const { rows } = await d.db.query<{ kind: string; channel: string; enabled: boolean }>(
      'SELECT kind, channel, enabled FROM portal.notification_preferences WHERE resident = $1',
      [resident],
    );
    const out = emptyPreferences();
    for (const r of rows) if (isKind(r.kind) && isChannel(r.channel)) out[r.kind][r.channel] = r.enabled;
    return out;
  }
  return {
    get,
    async allows(resident, kind, channel) {
      const { rows } = await d.db.query<{ enabled: boolean }>(
        'SELECT enabled FROM portal.notification_preferences WHERE resident = $1 AND kind = $2 AND channel = $3',
        [resident, kind, channel],
      );
      return rows[0]?.enabled ?? false;
    },
    async allowing(candidates, kind, channel) {
      const { rows } = await d.db.query<{ resident: string }>(
        `SELECT resident FROM portal.notification_preferences
          WHERE resident = ANY($1::text[]) AND kind = $2 AND channel = $3 AND enabled`,
        [candidates, kind, channel],
      );
      return rows.map((r) => r.resident);
    },
    async set(resident, changes, actor) {
      const entries: Array<[NotificationKind, NotificationChannel, boolean]> = [];
      for (const [kind, channels] of Object.entries(changes)) {
        for (const [channel, enabled] of Object.entries(channels ?? {})) {
          if (!isKind(kind) || !isChannel(channel) || typeof enabled !== 'boolean')
            throw new ProblemError('invalid-preferences', {
              detail: `${kind}/${channel} is not a preference.`,
            });
          entries.push([kind, channel, enabled]);
        }
      }
      const at = d.now();
      await d.db.transaction(async (tx) => {
        for (const [kind, channel, enabled] of entries)
          await tx.query(
            `INSERT INTO portal.notification_preferences (resident, kind, channel, enabled, updated_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (resident, kind, channel) DO UPDATE SET enabled = EXCLUDED.enabled, updated_at = EXCLUDED.updated_at`,
            [resident, kind, channel, enabled, at],
          );
        await d.audit.recordInTransaction(tx, {
          actor,
          action: 'portal.preferences.changed',
          target: `resident:${resident}`,
          details: { on: entries.filter((e) => e[2]).map((e) => `${e[0]}/${e[1]}`) },
        });
      });
      return get(resident);
    },
  };
}

export const PREFERENCES_MIGRATIONS = [
  {
    id: '001_notification_preferences',
    sql: `
      CREATE TABLE portal.notification_preferences (
        resident    text        NOT NULL,
        kind        text        NOT NULL CHECK (kind IN ('notices', 'points', 'consent')),
        channel     text        NOT NULL CHECK (channel IN ('email', 'line')),
        enabled     boolean     NOT NULL,
        updated_at  timestamptz NOT NULL,
        PRIMARY KEY (resident, kind, channel)
      );
      CREATE INDEX notification_preferences_by_kind ON portal.notification_preferences (kind, channel, resident)
        WHERE enabled;`,
  },
];
