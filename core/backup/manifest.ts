import { createHash, createHmac } from 'node:crypto';
import { canonicalJson } from '../canonical_json.ts';

export const BACKUP_FORMAT = 'tsunagu-backup/1';

export interface TableEntry {
  schema: string;
  table: string;
  /** File inside the archive: `<schema>.<table>.copy.gz[.enc]` (PostgreSQL COPY text format). */
  file: string;
  rows: number;
  /** Size and SHA-256 of the stored (compressed, possibly encrypted) bytes. */
  bytes: number;
  sha256: string;
  /** AES-256-GCM nonce and tag (base64) when encrypted; the file name is the additional data. */
  iv?: string;
  tag?: string;
}

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  createdAt: string;
  serverVersion: string;
  schemas: string[];
  encrypted: boolean;
  /** HMAC-SHA256(key, "tsunagu-backup-key-check"), hex: tells a wrong key before any decryption. */
  keyCheck?: string;
  migrations: Array<{ module: string; id: string; checksum: string }>;
  sequences: Array<{ schema: string; name: string; lastValue: string | null }>;
  tables: TableEntry[];
}

export function keyCheck(key: Buffer): string {
  return createHmac('sha256', key).update('tsunagu-backup-key-check').digest('hex');
}

/** SHA-256 over the canonical JSON of the manifest (stored beside it as `manifest.sha256`). */
export function manifestChecksum(manifest: BackupManifest): string {
  return createHash('sha256').update(canonicalJson(manifest)).digest('hex');
}
