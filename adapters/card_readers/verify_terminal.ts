/**
 * Terminal authentication: each terminal has its own secret and signs every request
 *
 *   X-Terminal-Id:         kibou-nursery-1
 *   X-Terminal-Timestamp:  1795402354                (Unix seconds, within ±5 minutes)
 *   X-Terminal-Signature:  v1=<base64 HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 *
 * A revoked terminal is refused on its next request (the row is read on every request, no cache)
 * and the refusal is audited. Nothing else is read or written before the signature holds.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AuditLog, Database } from '../../core/index.ts';
import { ProblemError } from '../../core/index.ts';
import type { Sealer } from '../kit/index.ts';
import './problems.ts';

const WINDOW_S = 300;

export interface Terminal {
  id: string;
  facility: string;
}

export function signTouch(secret: string, timestamp: number, body: string | Buffer): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('base64')}`;
}

export async function verifyTerminal(
  deps: { db: Database; audit: AuditLog; sealer: Sealer; now: () => Date },
  headers: { id?: string; timestamp?: string; signature?: string },
  body: Buffer,
): Promise<Terminal> {
  const unauthorized = (detail: string) => new ProblemError('terminal-unauthorized', { detail });
  if (!headers.id || !headers.timestamp || !headers.signature)
    throw unauthorized('Send X-Terminal-Id, X-Terminal-Timestamp and X-Terminal-Signature.');
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(headers.id)) throw unauthorized('Unknown terminal.');
  const { rows } = await deps.db.query<{ facility: string; secret: string; revokedAt: Date | null }>(
    `SELECT facility, secret_sealed AS secret, revoked_at AS "revokedAt" FROM adapters.card_terminal WHERE id = $1`,
    [headers.id],
  );
  const row = rows[0];
  if (!row) throw unauthorized('Unknown terminal.');
  const timestamp = Number(headers.timestamp);
  if (
    !/^[0-9]{1,12}$/.test(headers.timestamp) ||
    Math.abs(timestamp - deps.now().getTime() / 1000) > WINDOW_S
  )
    throw unauthorized('X-Terminal-Timestamp is not within 5 minutes of the platform clock.');
  const expected = Buffer.from(
    signTouch(deps.sealer.open(`card-terminal:${headers.id}`, row.secret), timestamp, body),
  );
  const given = Buffer.from(headers.signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    throw unauthorized('X-Terminal-Signature does not match the body.');
  if (row.revokedAt) {
    await deps.audit.record({
      actor: `terminal:${headers.id}`,
      action: 'adapters.card-readers.terminal.refused',
      target: `adapters.card-terminal:${headers.id}`,
      details: { reason: 'revoked' },
    });
    throw new ProblemError('terminal-revoked', {
      detail: 'This terminal was revoked; ask the city to register it again.',
    });
  }
  return { id: headers.id, facility: row.facility };
}
