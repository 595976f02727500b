/**
 * Resident login throttling: after `maxFailures` failed card logins within `windowMs`, from one
 * client address or with one certificate, further attempts are refused until the window has moved
 * on. Kept in PostgreSQL so every instance counts the same failures.
 */
import type { Database } from '../../core/index.ts';

export interface ThrottleSettings {
  maxFailures: number;
  windowMs: number;
}

export const DEFAULT_THROTTLE: ThrottleSettings = { maxFailures: 10, windowMs: 15 * 60_000 };

export interface LoginThrottle {
  /** True when any of the keys has reached the limit. */
  blocked(keys: string[]): Promise<boolean>;
  fail(keys: string[]): Promise<void>;
}

export function createLoginThrottle(
  db: Database,
  now: () => Date,
  settings: ThrottleSettings,
): LoginThrottle {
  const since = () => new Date(now().getTime() - settings.windowMs);
  return {
    async blocked(keys) {
      if (keys.length === 0) return false;
      const { rows } = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM idp.login_failures WHERE key = ANY($1::text[]) AND failed_at > $2
          GROUP BY key ORDER BY 1 DESC LIMIT 1`,
        [keys, since()],
      );
      return Number(rows[0]?.n ?? 0) >= settings.maxFailures;
    },
    async fail(keys) {
      await db.query('DELETE FROM idp.login_failures WHERE failed_at <= $1', [since()]);
      await db.query('INSERT INTO idp.login_failures (key, failed_at) SELECT unnest($1::text[]), $2', [
        keys,
        now(),
      ]);
    },
  };
}
