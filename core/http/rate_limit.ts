/**
 * Per-client rate limit: a fixed window per client key, counted in memory, answered synchronously
 * (no promise per request, unlike a pluggable-store limiter). Headers follow the IETF draft
 * "RateLimit header fields for HTTP" (draft 8): `RateLimit-Policy` and `RateLimit`.
 *
 * The state is per instance; behind a load balancer with N instances a client gets up to N × limit.
 */
import type { Request, RequestHandler } from 'express';
import { ProblemError } from './problem.ts';

export interface RateLimitOptions {
  limit: number;
  windowMs: number;
  key(req: Request): string;
  skip(req: Request): boolean;
  now?: () => number;
}

export function fixedWindowRateLimit(o: RateLimitOptions): RequestHandler {
  const now = o.now ?? Date.now;
  const seconds = Math.ceil(o.windowMs / 1000);
  const name = `"${o.limit}-in-${seconds}sec"`;
  const policy = `${name}; q=${o.limit}; w=${seconds}`;
  let counts = new Map<string, number>();
  let windowEnds = now() + o.windowMs;
  return (req, res, next) => {
    if (o.skip(req)) return next();
    const t = now();
    if (t >= windowEnds) {
      // Every client's window ends together: one swap instead of a timer per key.
      counts = new Map();
      windowEnds = t + o.windowMs;
    }
    const key = o.key(req);
    const used = (counts.get(key) ?? 0) + 1;
    counts.set(key, used);
    const reset = Math.max(0, Math.ceil((windowEnds - t) / 1000));
    res.setHeader('RateLimit-Policy', policy);
    res.setHeader('RateLimit', `${name}; r=${Math.max(0, o.limit - used)}; t=${reset}`);
    if (used <= o.limit) return next();
    next(
      new ProblemError('rate-limited', {
        detail: `Limit of ${o.limit} requests per minute exceeded.`,
        headers: { 'Retry-After': String(seconds) },
      }),
    );
  };
}
