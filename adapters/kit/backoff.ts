/**
 * Exponential backoff with jitter: attempt n (1-based) waits base·2^(n−1), capped, scaled by a
 * random factor in [0.8, 1.2) so that messages failing together do not retry in lockstep.
 */
export interface BackoffSettings {
  baseMs: number;
  maxMs: number;
}

export function backoffDelay(attempt: number, settings: BackoffSettings, random: () => number = Math.random) {
  const exponential = settings.baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30);
  return Math.round(Math.min(settings.maxMs, exponential) * (0.8 + 0.4 * random()));
}
