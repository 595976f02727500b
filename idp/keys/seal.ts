/**
 * Sealing secrets at rest: AES-256-GCM under a key derived (HKDF-SHA256) from MASTER_KEY, or from a
 * generated development key when MASTER_KEY is unset (the platform already warns about that, and
 * production refuses to start without it). Each sealed value is bound to a purpose label (the GCM
 * additional data), so a value sealed as a client secret cannot be unsealed as a signing key.
 *
 * @example
 *   const sealer = createSealer(config);
 *   const box = sealer.seal('client-secret', 's3cr3t');
 *   sealer.open('client-secret', box); // 's3cr3t'
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { Config } from '../../core/index.ts';
import { loadOrCreateDevSecret } from '../../core/index.ts';

export interface Sealer {
  seal(purpose: string, plaintext: string): string;
  open(purpose: string, sealed: string): string;
  /** A stable secret for keyed hashes (pairwise subjects, match keys), derived per purpose. */
  derive(purpose: string): Buffer;
}

const VERSION = 'v1';

function rootKey(config: Config): Buffer {
  const encoded =
    config.masterKey ??
    loadOrCreateDevSecret(config.dataDir, 'master-key.b64', () => randomBytes(32).toString('base64'));
  const key = Buffer.from(encoded.trim(), 'base64');
  if (key.length !== 32) throw new Error('MASTER_KEY must be 32 bytes, base64-encoded');
  return key;
}

export function createSealer(config: Config): Sealer {
  const root = rootKey(config);
  const derive = (purpose: string) =>
    Buffer.from(hkdfSync('sha256', root, Buffer.alloc(0), `tsunagu/idp/${purpose}`, 32));
  const key = derive('seal');
  return {
    derive,
    seal(purpose, plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(purpose));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [
        VERSION,
        iv.toString('base64url'),
        body.toString('base64url'),
        cipher.getAuthTag().toString('base64url'),
      ].join('.');
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
