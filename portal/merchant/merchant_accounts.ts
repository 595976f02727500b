/**
 * Merchant staff accounts, issued by city staff for one merchant of the points module: a login id
 * and a generated password shown once, to be changed at first sign-in. Passwords are scrypt
 * hashes; five failed attempts lock the account for 15 minutes; disabling or resetting an account
 * moves its credential version on, which ends every session signed with the old one.
 *
 * @example
 *   const { account, password } = await accounts.issue({ merchantId: 'm1', loginId: 'saijo-shoten' }, 'staff:alice');
 *   const result = await accounts.authenticate('saijo-shoten', password); // { ok: true, account }
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { type ModuleContext, ProblemError } from '../../core/index.ts';
import type { PointsService } from '../../points/index.ts';
import { defineMerchantProblems } from './problems.ts';

defineMerchantProblems();

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

export const MAX_FAILURES = 5;
export const LOCK_MINUTES = 15;
export const MIN_PASSWORD = 12;

export interface MerchantAccount {
  id: string;
  loginId: string;
  merchantId: string;
  credentialVersion: number;
  mustChange: boolean;
  lastSignInAt: string | null;
  disabled: boolean;
}

export type AuthResult =
  | { ok: true; account: MerchantAccount; previousSignInAt: string | null }
  | { ok: false; reason: 'invalid' | 'locked' };

const COLUMNS = `id::text, login_id AS "loginId", merchant_id AS "merchantId", credential_version AS "credentialVersion",
  must_change AS "mustChange", to_char(last_sign_in_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "lastSignInAt",
  disabled_at IS NOT NULL AS disabled`;

async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password.normalize('NFKC'), salt, 32);
  return `scrypt$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

async function checkPassword(password: string, stored: string): Promise<boolean> {
  const [kind, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const candidate = await scryptAsync(password.normalize('NFKC'), Buffer.from(salt, 'base64url'), 32);
  return timingSafeEqual(candidate, Buffer.from(hash, 'base64url'));
}

// Compared against when the login id is unknown, so both paths take one scrypt.
const DUMMY_HASH = 'scrypt$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

function generatedPassword(): string {
  // 96 bits, in a readable alphabet without 0/O/1/l/I.
  const alphabet = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  return [...randomBytes(16)].map((b) => alphabet[b % alphabet.length]).join('');
}

export function createMerchantAccounts(ctx: ModuleContext, points: PointsService) {
  const { db, audit } = ctx;

  async function byId(id: string): Promise<MerchantAccount | undefined> {
    if (!/^\d{1,18}$/.test(id)) return undefined;
    const { rows } = await db.query<MerchantAccount>(
      `SELECT ${COLUMNS} FROM portal.merchant_accounts WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  async function newCredential(
    id: string,
    actor: string,
    action: string,
  ): Promise<{ account: MerchantAccount; password: string }> {
    const password = generatedPassword();
    const hash = await hashPassword(password);
    return db.transaction(async (tx) => {
      const { rows } = await tx.query<MerchantAccount>(
        `UPDATE portal.merchant_accounts SET password_hash = $2, credential_version = credential_version + 1,
                must_change = true, failed_attempts = 0, locked_until = NULL, disabled_at = NULL
          WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, hash],
      );
      if (!rows[0])
        throw new ProblemError('merchant-account-not-found', { detail: `No merchant account ${id}.` });
      await audit.recordInTransaction(tx, { actor, action, target: `portal.merchant-account:${id}` });
      return { account: rows[0], password };
    });
  }

  return {
    byId,

    /** A new account for a merchant the ledger knows; the password is returned once, never stored. */
    async issue(input: { merchantId: string; loginId: string }, actor: string) {
      const { merchants } = await points.directory();
      if (!merchants.some((m) => m.id === input.merchantId && m.active))
        throw new ProblemError('unknown-merchant', { detail: `No active merchant ${input.merchantId}.` });
      const password = generatedPassword();
      const hash = await hashPassword(password);
      try {
        return await db.transaction(async (tx) => {
          const { rows } = await tx.query<MerchantAccount>(
            `INSERT INTO portal.merchant_accounts (login_id, merchant_id, password_hash, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
            [input.loginId, input.merchantId, hash, actor, ctx.now()],
          );
          const account = rows[0]!;
          await audit.recordInTransaction(tx, {
            actor,
            action: 'portal.merchant-account.issue',
            target: `portal.merchant-account:${account.id}`,
            details: { merchant: input.merchantId },
          });
          return { account, password };
        });
      } catch (error) {
        if ((error as { code?: string }).code === '23505')
          throw new ProblemError('conflict', { detail: `Login id ${input.loginId} is taken.` });
        throw error;
      }
    },

    async list(merchantId?: string): Promise<MerchantAccount[]> {
      const { rows } = await db.query<MerchantAccount>(
        `SELECT ${COLUMNS} FROM portal.merchant_accounts WHERE $1::text IS NULL OR merchant_id = $1 ORDER BY id`,
        [merchantId ?? null],
      );
      return rows;
    },

    /** A fresh generated password (the old one and every session stop working). */
    reset: (id: string, actor: string) => newCredential(id, actor, 'portal.merchant-account.reset'),

    async disable(id: string, actor: string): Promise<MerchantAccount> {
      return db.transaction(async (tx) => {
        const { rows } = await tx.query<MerchantAccount>(
          `UPDATE portal.merchant_accounts SET disabled_at = coalesce(disabled_at, $2),
                  credential_version = credential_version + 1 WHERE id = $1 RETURNING ${COLUMNS}`,
          [id, ctx.now()],
        );
        if (!rows[0])
          throw new ProblemError('merchant-account-not-found', { detail: `No merchant account ${id}.` });
        await audit.recordInTransaction(tx, {
          actor,
          action: 'portal.merchant-account.disable',
          target: `portal.merchant-account:${id}`,
        });
        return rows[0];
      });
    },

    async authenticate(loginId: string, password: string): Promise<AuthResult> {
      const { rows } = await db.query<{
        id: string;
        hash: string;
        lockedUntil: Date | null;
        disabled: boolean;
      }>(
        `SELECT id::text, password_hash AS hash, locked_until AS "lockedUntil", disabled_at IS NOT NULL AS disabled
           FROM portal.merchant_accounts WHERE login_id = $1`,
        [loginId.normalize('NFKC').trim().toLowerCase()],
      );
      const row = rows[0];
      const matches = await checkPassword(password, row?.hash ?? DUMMY_HASH);
      if (!row || row.disabled) return { ok: false, reason: 'invalid' };
      const now = ctx.now();
      if (row.lockedUntil && row.lockedUntil > now) {
        await audit.record({
          actor: `merchant-account:${row.id}`,
          action: 'portal.merchant.sign-in-refused',
          target: `portal.merchant-account:${row.id}`,
          details: { reason: 'locked' },
        });
        return { ok: false, reason: 'locked' };
      }
      if (!matches) {
        await db.transaction(async (tx) => {
          await tx.query(
            `UPDATE portal.merchant_accounts SET failed_attempts = failed_attempts + 1,
                    locked_until = CASE WHEN failed_attempts + 1 >= $2 THEN $3::timestamptz ELSE locked_until END
              WHERE id = $1`,
            [row.id, MAX_FAILURES, new Date(now.getTime() + LOCK_MINUTES * 60_000)],
          );
          await audit.recordInTransaction(tx, {
            actor: `merchant-account:${row.id}`,
            action: 'portal.merchant.sign-in-refused',
            target: `portal.merchant-account:${row.id}`,
            details: { reason: 'password' },
          });
        });
        return { ok: false, reason: 'invalid' };
      }
      return db.transaction(async (tx) => {
        const { rows: before } = await tx.query<{ last: string | null }>(
          `SELECT to_char(last_sign_in_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS last
             FROM portal.merchant_accounts WHERE id = $1 FOR UPDATE`,
          [row.id],
        );
        const { rows: updated } = await tx.query<MerchantAccount>(
          `UPDATE portal.merchant_accounts SET failed_attempts = 0, locked_until = NULL, last_sign_in_at = $2
            WHERE id = $1 RETURNING ${COLUMNS}`,
          [row.id, now],
        );
        await audit.recordInTransaction(tx, {
          actor: `merchant-account:${row.id}`,
          action: 'portal.merchant.sign-in',
          target: `portal.merchant-account:${row.id}`,
          details: { merchant: updated[0]!.merchantId },
        });
        return { ok: true as const, account: updated[0]!, previousSignInAt: before[0]?.last ?? null };
      });
    },

    /** The merchant sets its own password (after checking the current one). */
    async changePassword(
      id: string,
      current: string,
      next: string,
    ): Promise<MerchantAccount | 'wrong-password' | 'weak'> {
      if (next.length < MIN_PASSWORD || next === current) return 'weak';
      const { rows } = await db.query<{ hash: string }>(
        `SELECT password_hash AS hash FROM portal.merchant_accounts WHERE id = $1 AND disabled_at IS NULL`,
        [id],
      );
      if (!rows[0] || !(await checkPassword(current, rows[0].hash))) return 'wrong-password';
      const hash = await hashPassword(next);
      return db.transaction(async (tx) => {
        const { rows: updated } = await tx.query<MerchantAccount>(
          `UPDATE portal.merchant_accounts SET password_hash = $2, credential_version = credential_version + 1,
                  must_change = false WHERE id = $1 RETURNING ${COLUMNS}`,
          [id, hash],
        );
        await audit.recordInTransaction(tx, {
          actor: `merchant-account:${id}`,
          action: 'portal.merchant-account.password-change',
          target: `portal.merchant-account:${id}`,
        });
        return updated[0]!;
      });
    },
  };
}

export type MerchantAccounts = ReturnType<typeof createMerchantAccounts>;
