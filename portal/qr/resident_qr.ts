/**
 * The resident's QR code for payments and check-ins: a short-lived token that names the resident
 * without showing the common ID. `TSR1.<base64url(iv ‖ ciphertext ‖ tag)>`: AES-256-GCM (encrypted
 * and authenticated) under a key derived from MASTER_KEY for this purpose only, over
 * `<expiry unix seconds>.<token id>.<common ID>`. A fresh random IV makes every code different, so
 * two codes of one resident cannot be linked by whoever sees them; an altered or forged code fails
 * authentication; an expired one is refused.
 *
 * Verification runs inside the platform (the points module, the card-reader adapters), through the
 * portal's services: `verify` names the resident, `redeem` does the same once per code (a payment or
 * a check-in must not be replayed with a photographed code). Both write an audit entry.
 *
 * @example
 *   const { qr } = ctx.services['portal'] as PortalServices;
 *   const { resident } = await qr.redeem(scanned, { purpose: 'payment', actor: `client:${clientId}` });
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { AuditLog, Database } from '../../core/index.ts';
import { defineProblem, ProblemError } from '../../core/index.ts';

defineProblem('resident-qr-invalid', { status: 400, title: 'Not a valid resident QR code' });
defineProblem('resident-qr-expired', { status: 400, title: 'The resident QR code has expired' });
defineProblem('resident-qr-used', { status: 409, title: 'The resident QR code was already used' });

const PREFIX = 'TSR1';
const AAD = Buffer.from(PREFIX);

export interface IssuedResidentQr {
  token: string;
  tokenId: string;
  expiresAt: string;
}

export interface VerifiedResidentQr {
  /** The resident's common ID (a holder for the points ledger). */
  resident: string;
  tokenId: string;
  expiresAt: string;
}

export interface ResidentQrService {
  /** How long a code is valid, in seconds. */
  ttlSeconds: number;
  /** A fresh code for a signed-in resident (the portal's QR page). */
  issue(resident: string): IssuedResidentQr;
  /**
   * The resident a scanned code names. Throws `resident-qr-invalid` (altered, forged, not ours) or
   * `resident-qr-expired`. `actor` is who asks (`client:<id>`, `system:<adapter>`), for the audit log.
   */
  verify(token: string, actor: string): Promise<VerifiedResidentQr>;
  /** Like `verify`, and marks the code used: a second redeem answers `resident-qr-used`. */
  redeem(token: string, use: { purpose: string; actor: string }): Promise<VerifiedResidentQr>;
}

export interface ResidentQrDeps {
  db: Database;
  audit: AuditLog;
  key: () => Buffer;
  now: () => Date;
  ttlSeconds?: number;
}

export function createResidentQr(d: ResidentQrDeps): ResidentQrService {
  const ttlSeconds = d.ttlSeconds ?? 300;

  function open(token: string): VerifiedResidentQr {
    const invalid = () => new ProblemError('resident-qr-invalid', { detail: 'Not a Tsunagu resident code.' });
    if (typeof token !== 'string' || !token.startsWith(`${PREFIX}.`) || token.length > 512) throw invalid();
    const raw = Buffer.from(token.slice(PREFIX.length + 1), 'base64url');
    if (raw.length < 12 + 16 + 1) throw invalid();
    let plain: string;
    try {
      const decipher = createDecipheriv('aes-256-gcm', d.key(), raw.subarray(0, 12));
      decipher.setAAD(AAD);
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      plain = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw invalid();
    }
    const [exp, tokenId, resident] = plain.split('.');
    if (!exp || !tokenId || !resident) throw invalid();
    const expiresAt = new Date(Number(exp) * 1000);
    if (expiresAt.getTime() <= d.now().getTime())
      throw new ProblemError('resident-qr-expired', { detail: 'Ask the resident to show a new code.' });
    return { resident, tokenId, expiresAt: expiresAt.toISOString() };
  }

  return {
    ttlSeconds,
    issue(resident) {
      const exp = Math.floor(d.now().getTime() / 1000) + ttlSeconds;
      const tokenId = randomBytes(12).toString('base64url');
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', d.key(), iv);
      cipher.setAAD(AAD);
      const body = Buffer.concat([cipher.update(`${exp}.${tokenId}.${resident}`, 'utf8'), cipher.final()]);
      const token = `${PREFIX}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
      return { token, tokenId, expiresAt: new Date(exp * 1000).toISOString() };
    },
    async verify(token, actor) {
      const verified = open(token);
      await d.audit.record({
        actor,
        action: 'portal.resident-qr.verified',
        target: `resident-qr:${verified.tokenId}`,
        details: {},
      });
      return verified;
    },
    async redeem(token, use) {
      const verified = open(token);
      const now = d.now();
      return d.db.transaction(async (tx) => {
        await tx.query('DELETE FROM portal.resident_qr_uses WHERE expires_at < $1', [
          new Date(now.getTime() - 3_600_000),
        ]);
        const { rowCount } = await tx.query(
          `INSERT INTO portal.resident_qr_uses (token_id, purpose, actor, used_at, expires_at)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (token_id) DO NOTHING`,
          [verified.tokenId, use.purpose, use.actor, now, verified.expiresAt],
        );
        if (rowCount === 0)
          throw new ProblemError('resident-qr-used', { detail: 'Ask the resident to show a new code.' });
        await d.audit.recordInTransaction(tx, {
          actor: use.actor,
          action: 'portal.resident-qr.redeemed',
          target: `resident-qr:${verified.tokenId}`,
          details: { purpose: use.purpose },
        });
        return verified;
      });
    },
  };
}

export const RESIDENT_QR_MIGRATIONS = [
  {
    id: '001_resident_qr_uses',
    sql: `
      CREATE TABLE portal.resident_qr_uses (
        token_id    text        PRIMARY KEY,
        purpose     text        NOT NULL,
        actor       text        NOT NULL,
        used_at     timestamptz NOT NULL,
        expires_at  timestamptz NOT NULL
      );
      CREATE INDEX resident_qr_uses_expiry ON portal.resident_qr_uses (expires_at);`,
  },
];
