/**
 * The platform's root secret and the keys derived from it. `MASTER_KEY` (32 bytes, base64) in
 * production; in development a generated key kept in `TSUNAGU_DATA_DIR/dev-secrets/` (production
 * refuses to start without MASTER_KEY). Each use derives its own key with HKDF-SHA256, so one
 * purpose's key never opens another's data.
 *
 * @example
 *   const key = deriveKey(ctx.config, 'tsunagu/portal/client-secret'); // 32 bytes
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { Config } from './config.ts';
import { loadOrCreateDevSecret } from './dev_secrets.ts';

export function masterKey(config: Config): Buffer {
  const encoded =
    config.masterKey ??
    loadOrCreateDevSecret(config.dataDir, 'master-key.b64', () => randomBytes(32).toString('base64'));
  return Buffer.from(encoded.trim(), 'base64');
}

/** Derive once and keep the key: in development each call reads the key file. */
export function deriveKey(config: Config, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey(config), Buffer.alloc(0), purpose, 32));
}

/** AES-256-GCM: `v1.<iv>.<ciphertext>.<tag>` (base64url), bound to `aad`. */
export function sealWith(key: Buffer, aad: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv, body, cipher.getAuthTag()]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

export function openWith(key: Buffer, aad: string, sealed: string): string {
  const [version, iv, body, tag] = sealed.split('.');
  if (version !== 'v1' || !iv || body === undefined || !tag) throw new Error('not a sealed value');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}
