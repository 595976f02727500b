/**
 * Development secrets: generated once into `TSUNAGU_DATA_DIR/dev-secrets/` so that a development
 * platform keeps working across restarts (audit checkpoints stay verifiable, encrypted data stays
 * readable). Production refuses to start without real secrets (see `unsafeDefaults`).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export function loadOrCreateDevSecret(dataDir: string, name: string, generate: () => string): string {
  const dir = path.join(dataDir, 'dev-secrets');
  const file = path.join(dir, name);
  if (existsSync(file)) return readFileSync(file, 'utf8');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const secret = generate();
  try {
    writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (error) {
    // Another instance created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8');
    throw error;
  }
}
