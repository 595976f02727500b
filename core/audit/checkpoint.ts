/**
 * Signed checkpoints of the audit chain: `tsunagu-audit\n<size>\n<head hash>\n` signed with Ed25519
 * (the C2SP tlog-checkpoint body shape). A checkpoint pins the chain's length and head, so a
 * truncated tail or a chain rewritten from scratch no longer matches a checkpoint signed earlier.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';

export interface Checkpoint {
  size: number;
  head: string;
  signedAt: Date;
  keyId: string;
  signature: string;
}

export const CHECKPOINT_ORIGIN = 'tsunagu-audit';

export function checkpointBody(size: number, head: string): Buffer {
  return Buffer.from(`${CHECKPOINT_ORIGIN}\n${size}\n${head}\n`);
}

export interface CheckpointSigner {
  keyId: string;
  publicKey: KeyObject;
  sign(size: number, head: string, at: Date): Checkpoint;
}

/** Key id: first 16 hex digits of SHA-256 over the raw public key (SPKI DER). */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

export function createCheckpointSigner(privateKeyPem: string): CheckpointSigner {
  const privateKey = createPrivateKey(privateKeyPem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('AUDIT_SIGNING_KEY must be an Ed25519 key');
  const publicKey = createPublicKey(privateKey);
  const keyId = keyIdOf(publicKey);
  return {
    keyId,
    publicKey,
    sign(size, head, at) {
      const signature = sign(null, checkpointBody(size, head), privateKey).toString('base64');
      return { size, head, signedAt: at, keyId, signature };
    },
  };
}

export function verifyCheckpoint(checkpoint: Checkpoint, publicKey: KeyObject): boolean {
  try {
    return verify(
      null,
      checkpointBody(checkpoint.size, checkpoint.head),
      publicKey,
      Buffer.from(checkpoint.signature, 'base64'),
    );
  } catch {
    return false;
  }
}
