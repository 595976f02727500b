/**
 * Sealing this module's secrets at rest (receipt signing keys, webhook secrets): AES-256-GCM under a
 * key derived (HKDF-SHA256, label `tsunagu/consent/…`) from MASTER_KEY, or from the development key
 * in `TSUNAGU_DATA_DIR/dev-secrets/` when it is unset (the platform warns loudly then, and production
 * refuses to start). Each sealed value is bound to a purpose label (GCM additional data).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { type Config, loadOrCreateDevSecret } from '../core/index.ts';

export interface Sealer {
  seal(purpose: string, plaintext: string): string;
  open(purpose: string, sealed: string): string;
}

const VERSION = 'v1';

export function createSealer(config: Config): Sealer {
  const encoded =
    config.masterKey ??
    loadOrCreateDevSecret(config.dataDir, 'master-key.b64', () => randomBytes(32).toString('base64'));
  const root = Buffer.from(encoded.trim(), 'base64');
  if (root.length !== 32) throw new Error('MASTER_KEY must be 32 bytes, base64-encoded');
  const key = Buffer.from(hkdfSync('sha256', root, Buffer.alloc(0), 'tsunagu/consent/seal', 32));
  return {
    seal(purpose, plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(purpose));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [VERSION, iv, body, cipher.getAuthTag()]
        .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
        .join('.');
    },
    open(purpose, sealed) {
      const [version, iv, body, tag] = sealed.split('.');
      if (version !== VERSION || !iv || body === undefined || !tag) throw new Error('not a sealed value');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(purpose));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    },
  };
}
