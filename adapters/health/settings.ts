/**
 * The health-app adapter's settings. Without a currency, pool and point type the adapter imports
 * nothing (files wait in the folder) and its status says so.
 */
import path from 'node:path';
import { type Env, integer, rate, text } from '../kit/index.ts';

export interface HealthSettings {
  /** HEALTH_IMPORT_DIR: the folder the health app drops CSV files into (default `<TSUNAGU_DATA_DIR>/health-import`). */
  dir: string;
  /** HEALTH_POLL_MS: how often the folder is checked (default 60000; 0 turns polling off). */
  pollMs: number;
  /** HEALTH_CURRENCY, HEALTH_POOL, HEALTH_POINT_TYPE: where the points come from. */
  currency: string | undefined;
  pool: string | undefined;
  pointType: string | undefined;
  /** HEALTH_RATE `N:M`: N steps or health points give M points, rounded down (default 1:1). */
  rate: { units: number; points: number };
}

export function healthSettings(env: Env, dataDir: string): HealthSettings {
  return {
    dir: path.resolve(text(env, 'HEALTH_IMPORT_DIR') ?? path.join(dataDir, 'health-import')),
    pollMs: integer(env, 'HEALTH_POLL_MS', 60_000),
    currency: text(env, 'HEALTH_CURRENCY'),
    pool: text(env, 'HEALTH_POOL'),
    pointType: text(env, 'HEALTH_POINT_TYPE'),
    rate: rate(env, 'HEALTH_RATE', '1:1'),
  };
}
