/**
 * The platform's `TokenVerifier`: accepts the provider's opaque access tokens (authorization-code
 * and client-credentials) that are bound to the platform API audience, still unexpired and not
 * revoked, whose client is active and — when it has an IP allow-list — calling from an allowed
 * address. A token for the UserInfo endpoint (no audience) or for another resource is refused.
 *
 * One indexed read per call: the token row by id, straight from the provider's store.
 */
import { type AuthContext, type Database, ProblemError, type TokenVerifier } from '../../core/index.ts';
import { currentRequest } from '../request_context.ts';

interface TokenPayload {
  accountId?: string;
  clientId: string;
  scope?: string;
  aud?: string | string[];
  exp?: number;
}

export function createTokenVerifier(options: {
  db: Database;
  apiResource: string;
  now: () => Date;
  checkAddress: (clientId: string, ip: string | undefined) => Promise<'allowed' | 'denied' | 'inactive'>;
  /** Whether the account may still act (not merged away, not disabled). */
  accountActive: (accountId: string) => Promise<boolean>;
}): TokenVerifier {
  const { db, apiResource, now } = options;
  return {
    async verify(token, request): Promise<AuthContext | null> {
      if (token.length < 20 || token.length > 128) return null;
      const { rows } = await db.query<{ payload: TokenPayload }>(
        `SELECT payload FROM idp.oidc_payloads
          WHERE id = $1 AND model IN ('AccessToken', 'ClientCredentials') AND consumed_at IS NULL
            AND (expires_at IS NULL OR expires_at > $2)`,
        [token, now()],
      );
      const t = rows[0]?.payload;
      if (!t) return null;
      if (t.exp !== undefined && t.exp * 1000 <= now().getTime()) return null;
      const audiences = Array.isArray(t.aud) ? t.aud : t.aud === undefined ? [] : [t.aud];
      if (!audiences.includes(apiResource)) return null;
      const address = await options.checkAddress(t.clientId, request ? request.ip : currentRequest()?.ip);
      if (address === 'inactive') return null;
      if (address === 'denied') {
        throw new ProblemError('ip-not-allowed', { detail: 'This client may not call from this address.' });
      }
      if (t.accountId && !(await options.accountActive(t.accountId))) return null;
      return {
        subject: t.accountId ?? t.clientId,
        clientId: t.clientId,
        scopes: (t.scope ?? '').split(' ').filter(Boolean),
      };
    },
  };
}
