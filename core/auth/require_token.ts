/**
 * Bearer-token authentication and scope checks. Tokens are verified by a `TokenVerifier`, which the
 * `idp` module provides (opaque access tokens introspected against the OpenID provider); tests and
 * benchmarks may pass their own.
 */
import type { RequestHandler } from 'express';
import { ProblemError } from '../http/problem.ts';

export interface AuthContext {
  /** The resident's or staff member's account id, or the client id for client-credentials tokens. */
  subject: string;
  clientId: string;
  scopes: string[];
}

/** What the verifier may check besides the token: the client address (for per-client IP allow-lists). */
export interface TokenRequest {
  ip: string | undefined;
}

/**
 * Port: turns a presented bearer token into who it represents, or `null` when it is not valid now.
 * It may throw a `ProblemError` (e.g. `ip-not-allowed`) for a valid token used from the wrong place.
 */
export interface TokenVerifier {
  verify(token: string, request?: TokenRequest): Promise<AuthContext | null>;
}

/** Refuses every token: the platform's verifier until an identity provider is wired in. */
export const rejectAllTokens: TokenVerifier = { verify: async () => null };

declare module 'express-serve-static-core' {
  interface Request {
    auth?: AuthContext;
  }
}

function challenge(error?: string, scope?: string): Record<string, string> {
  const params = ['realm="tsunagu"'];
  if (error) params.push(`error="${error}"`);
  if (scope) params.push(`scope="${scope}"`);
  return { 'WWW-Authenticate': `Bearer ${params.join(', ')}` };
}

/** Requires a valid bearer token holding every scope in `scopes` (RFC 6750 errors and challenges). */
export function requireToken(verifier: TokenVerifier, scopes: string[] = []): RequestHandler {
  return async (req, _res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header);
    if (!match) return next(new ProblemError('unauthorized', { headers: challenge() }));
    const auth = await verifier.verify(match[1]!, { ip: req.ip });
    if (!auth) return next(new ProblemError('invalid-token', { headers: challenge('invalid_token') }));
    const missing = scopes.filter((s) => !auth.scopes.includes(s));
    if (missing.length > 0) {
      return next(
        new ProblemError('insufficient-scope', {
          detail: `missing scope: ${missing.join(' ')}`,
          headers: challenge('insufficient_scope', scopes.join(' ')),
        }),
      );
    }
    req.auth = auth;
    next();
  };
}
