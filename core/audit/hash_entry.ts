import { createHash } from 'node:crypto';
import { canonicalJson } from '../canonical_json.ts';

/** The fields of one audit entry. `details` must never hold personal values, only ids and codes. */
export interface AuditEntry {
  actor: string;
  action: string;
  target: string;
  details?: Record<string, unknown>;
}

export interface AuditRecord extends Required<AuditEntry> {
  seq: number;
  at: Date;
  prevHash: string;
  hash: string;
}

/** The `prev_hash` of entry 1. */
export const GENESIS_HASH = '0'.repeat(64);

/** `hash_n = SHA-256(hash_{n-1} ‖ "\n" ‖ JCS([seq, at, actor, action, target, details]))`, hex. */
export function hashEntry(prevHash: string, record: Omit<AuditRecord, 'prevHash' | 'hash'>): string {
  const body = canonicalJson([
    record.seq,
    record.at.toISOString(),
    record.actor,
    record.action,
    record.target,
    record.details,
  ]);
  return createHash('sha256').update(`${prevHash}\n${body}`).digest('hex');
}
