/**
 * Passkeys (WebAuthn) for residents, verified with @simplewebauthn/server. Challenges are stored in
 * PostgreSQL, bound to what asked for them (a sign-in interaction or a sign-up link) and used once.
 * Sign-in uses discoverable credentials (no user name typed). A revoked credential is refused at
 * once; revocation is audited.
 *
 * @example
 *   const options = await passkeys.authenticationOptions(`interaction:${uid}`);
 *   // … navigator.credentials.get({ publicKey: options }) in the browser …
 *   const result = await passkeys.authenticate(`interaction:${uid}`, responseJson);
 */
import { randomBytes } from 'node:crypto';
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type { AuditLog, Database, Queryable } from '../../core/index.ts';

const CHALLENGE_MS = 5 * 60_000;

export interface NewPasskey {
  credentialId: string;
  publicKey: string;
  counter: number;
  transports: string[];
}

export interface PasskeyInfo {
  id: string;
  label: string;
  status: 'active' | 'revoked';
  createdAt: string;
  lastUsedAt: string | null;
}

export type PasskeyLogin = { ok: true; commonId: string } | { ok: false; code: 'PASSKEY' };

export interface Passkeys {
  registrationOptions(
    binding: string,
    user: { name: string; displayName: string },
  ): Promise<PublicKeyCredentialCreationOptionsJSON>;
  /** Verifies a registration answer; the caller stores it with `insert` in its transaction. */
  verifyRegistration(binding: string, response: unknown): Promise<NewPasskey | undefined>;
  insert(tx: Queryable, commonId: string, passkey: NewPasskey, label: string): Promise<void>;
  authenticationOptions(binding: string): Promise<PublicKeyCredentialRequestOptionsJSON>;
  authenticate(binding: string, response: unknown): Promise<PasskeyLogin>;
  list(commonId: string): Promise<PasskeyInfo[]>;
  /** Revokes one of `commonId`'s passkeys; false when it is not theirs or already revoked. */
  revoke(commonId: string, credentialId: string, actor: string): Promise<boolean>;
}

function challengeOf(response: unknown): string | undefined {
  try {
    const data = (response as { response?: { clientDataJSON?: string } }).response?.clientDataJSON;
    if (typeof data !== 'string') return undefined;
    const parsed = JSON.parse(Buffer.from(data, 'base64url').toString('utf8')) as { challenge?: unknown };
    return typeof parsed.challenge === 'string' ? parsed.challenge : undefined;
  } catch {
    return undefined;
  }
}

export function createPasskeys(options: {
  db: Database;
  audit: AuditLog;
  now: () => Date;
  /** `PUBLIC_URL`: its origin is the expected origin, its host name the relying-party id. */
  publicUrl: string;
  rpName: string;
}): Passkeys {
  const { db, audit, now } = options;
  const origin = new URL(options.publicUrl).origin;
  const rpID = new URL(options.publicUrl).hostname;

  const remember = async (challenge: string, binding: string) => {
    await db.query('DELETE FROM idp.webauthn_challenges WHERE expires_at < $1', [now()]);
    await db.query(
      'INSERT INTO idp.webauthn_challenges (challenge, binding, expires_at) VALUES ($1, $2, $3)',
      [challenge, binding, new Date(now().getTime() + CHALLENGE_MS)],
    );
  };
  /** Consumes the challenge the answer carries, if it was issued for this binding and is fresh. */
  const consume = async (binding: string, response: unknown): Promise<string | undefined> => {
    const challenge = challengeOf(response);
    if (!challenge) return undefined;
    const { rows } = await db.query<{ challenge: string }>(
      `UPDATE idp.webauthn_challenges SET used_at = $3
        WHERE challenge = $1 AND binding = $2 AND used_at IS NULL AND expires_at > $3 RETURNING challenge`,
      [challenge, binding, now()],
    );
    return rows[0]?.challenge;
  };

  return {
    async registrationOptions(binding, user) {
      const created = await generateRegistrationOptions({
        rpName: options.rpName,
        rpID,
        userName: user.name,
        userDisplayName: user.displayName,
        userID: randomBytes(16),
        attestationType: 'none',
        authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
      });
      await remember(created.challenge, binding);
      return created;
    },

    async verifyRegistration(binding, response) {
      const expectedChallenge = await consume(binding, response);
      if (!expectedChallenge) return undefined;
      try {
        const result = await verifyRegistrationResponse({
          response: response as RegistrationResponseJSON,
          expectedChallenge,
          expectedOrigin: origin,
          expectedRPID: rpID,
          requireUserVerification: false,
        });
        if (!result.verified) return undefined;
        const c = result.registrationInfo.credential;
        return {
          credentialId: c.id,
          publicKey: Buffer.from(c.publicKey).toString('base64url'),
          counter: c.counter,
          transports: c.transports ?? [],
        };
      } catch {
        return undefined;
      }
    },

    async insert(tx, commonId, passkey, label) {
      await tx.query(
        `INSERT INTO idp.passkeys (credential_id, common_id, public_key, counter, transports, label, status, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'active', $7)`,
        [
          passkey.credentialId,
          commonId,
          passkey.publicKey,
          passkey.counter,
          passkey.transports,
          label,
          now(),
        ],
      );
      await audit.recordInTransaction(tx, {
        actor: `account:${commonId}`,
        action: 'idp.passkey.register',
        target: `account:${commonId}`,
        details: { credential: passkey.credentialId.slice(0, 16) },
      });
    },

    async authenticationOptions(binding) {
      const created = await generateAuthenticationOptions({ rpID, userVerification: 'preferred' });
      await remember(created.challenge, binding);
      return created;
    },

    async authenticate(binding, response) {
      const refuse = async (reason: string): Promise<PasskeyLogin> => {
        await audit.record({
          actor: 'anonymous',
          action: 'idp.passkey.login',
          target: binding,
          details: { result: reason },
        });
        return { ok: false, code: 'PASSKEY' };
      };
      const id = (response as { id?: unknown }).id;
      if (typeof id !== 'string') return refuse('malformed');
      const { rows } = await db.query<{
        common_id: string;
        public_key: string;
        counter: string;
        transports: string[];
        status: string;
        account_status: string;
      }>(
        `SELECT p.common_id, p.public_key, p.counter, p.transports, p.status, a.status AS account_status
           FROM idp.passkeys p JOIN idp.accounts a ON a.common_id = p.common_id WHERE p.credential_id = $1`,
        [id],
      );
      const row = rows[0];
      const expectedChallenge = await consume(binding, response);
      if (!expectedChallenge) return refuse('challenge');
      if (!row) return refuse('unknown');
      if (row.status !== 'active') return refuse('revoked');
      if (row.account_status !== 'active') return refuse('account');
      let newCounter: number;
      try {
        const result = await verifyAuthenticationResponse({
          response: response as AuthenticationResponseJSON,
          expectedChallenge,
          expectedOrigin: origin,
          expectedRPID: rpID,
          requireUserVerification: false,
          credential: {
            id,
            publicKey: Buffer.from(row.public_key, 'base64url'),
            counter: Number(row.counter),
            transports: row.transports as never,
          },
        });
        if (!result.verified) return refuse('signature');
        newCounter = result.authenticationInfo.newCounter;
      } catch {
        return refuse('signature');
      }
      // The counter only moves forward; a concurrent login that already moved it wins.
      const { rowCount } = await db.query(
        `UPDATE idp.passkeys SET counter = $2, last_used_at = $3
          WHERE credential_id = $1 AND status = 'active' AND (counter < $2 OR $2 = 0)`,
        [id, newCounter, now()],
      );
      if (rowCount !== 1) return refuse('counter');
      await audit.record({
        actor: `account:${row.common_id}`,
        action: 'idp.passkey.login',
        target: `account:${row.common_id}`,
        details: { result: 'ok' },
      });
      return { ok: true, commonId: row.common_id };
    },

    async list(commonId) {
      const { rows } = await db.query<{
        credential_id: string;
        label: string;
        status: 'active' | 'revoked';
        created_at: Date;
        last_used_at: Date | null;
      }>(
        `SELECT credential_id, label, status, created_at, last_used_at FROM idp.passkeys
          WHERE common_id = $1 ORDER BY created_at`,
        [commonId],
      );
      return rows.map((r) => ({
        id: r.credential_id,
        label: r.label,
        status: r.status,
        createdAt: r.created_at.toISOString(),
        lastUsedAt: r.last_used_at?.toISOString() ?? null,
      }));
    },

    async revoke(commonId, credentialId, actor) {
      return db.transaction(async (tx) => {
        const { rowCount } = await tx.query(
          `UPDATE idp.passkeys SET status = 'revoked', revoked_at = $3, revoked_by = $4
            WHERE credential_id = $1 AND common_id = $2 AND status = 'active'`,
          [credentialId, commonId, now(), actor],
        );
        if (rowCount !== 1) return false;
        // A lost device may still hold a session: every session and token of the account ends now.
        await tx.query(`DELETE FROM idp.oidc_payloads WHERE payload ->> 'accountId' = $1`, [commonId]);
        await audit.recordInTransaction(tx, {
          actor,
          action: 'idp.passkey.revoke',
          target: `account:${commonId}`,
          details: { credential: credentialId.slice(0, 16) },
        });
        return true;
      });
    },
  };
}
