/**
 * One-time challenges for the card to sign: 256 random bits, bound to the interaction that asked
 * for them, valid for five minutes, consumed by their first use whether or not it succeeds.
 */
import { randomBytes } from 'node:crypto';
import type { Database } from '../../core/index.ts';

export const NONCE_TTL_MS = 5 * 60_000;

export interface NonceStore {
  issue(binding: string): Promise<{ nonce: string; expiresAt: Date }>;
  /** True exactly once for a live nonce issued for `binding`. */
  consume(nonce: string, binding: string): Promise<boolean>;
}

export function createNonceStore(db: Database, now: () => Date): NonceStore {
  return {
    async issue(binding) {
      const nonce = randomBytes(32).toString('base64url');
      const expiresAt = new Date(now().getTime() + NONCE_TTL_MS);
      await db.query('DELETE FROM idp.jpki_nonces WHERE expires_at < $1', [
        new Date(now().getTime() - NONCE_TTL_MS),
      ]);
      await db.query('INSERT INTO idp.jpki_nonces (nonce, binding, expires_at) VALUES ($1, $2, $3)', [
        nonce,
        binding,
        expiresAt,
      ]);
      return { nonce, expiresAt };
    },
    async consume(nonce, binding) {
      const { rows } = await db.query<{ binding: string; expires_at: Date }>(
        `UPDATE idp.jpki_nonces SET used_at = $2 WHERE nonce = $1 AND used_at IS NULL RETURNING binding, expires_at`,
        [nonce, now()],
      );
      const row = rows[0];
      return row !== undefined && row.binding === binding && row.expires_at.getTime() > now().getTime();
    },
  };
}
