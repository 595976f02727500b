/**
 * Ed25519 signatures for the access log's checkpoints and archived segments. The key is derived
 * (HKDF) from MASTER_KEY for this purpose only, so every instance sharing the master key signs
 * with the same key and nothing else can.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  hkdfSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { type Config, masterKey } from '../core/index.ts';

export interface LogSigner {
  keyId: string;
  publicKey: KeyObject;
  sign(body: string): string;
  verify(body: string, signature: string): boolean;
}

// PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows (RFC 8410).
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** Signs with the key derived from `master` (default: the current MASTER_KEY). */
export function createLogSigner(config: Config, master: Buffer = masterKey(config)): LogSigner {
  const seed = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'tsunagu/mediation/log-signing', 32));
  const privateKey = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKey = createPublicKey(privateKey);
  const keyId = createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
  return {
    keyId,
    publicKey,
    sign: (body) => sign(null, Buffer.from(body), privateKey).toString('base64'),
    verify(body, signature) {
      try {
        return verify(null, Buffer.from(body), publicKey, Buffer.from(signature, 'base64'));
      } catch {
        return false;
      }
    },
  };
}

/** What a checkpoint signs: the chain's length and head (the C2SP tlog-checkpoint body shape). */
export const checkpointBody = (size: number, head: string) =>
  `tsunagu-mediation-access-log\n${size}\n${head}\n`;
