/**
 * Staff accounts for the admin console: password (scrypt) + TOTP (RFC 6238, SHA-1, 6 digits, 30 s,
 * one step of drift, each step usable once), sign-in only from ADMIN_IP_ALLOWLIST, lockout after
 * repeated failures, the previous login reported at sign-in, and privileged passwords expiring
 * after 180 days.
 *
 * @example
 *   const { staffId, totpSecret } = await staff.create({ username: 'sato', password: '…', privileged: true }, 'cli');
 *   const result = await staff.authenticate({ username: 'sato', password: '…', code: '123456', ip: req.ip });
 */
import { createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import {
  type AuditLog,
  createAddressMatcher,
  type Database,
  defineProblem,
  ProblemError,
} from '../../core/index.ts';
import type { Sealer } from '../keys/seal.ts';

defineProblem('weak-password', { status: 400, title: 'The password does not meet the policy' });
defineProblem('staff-exists', { status: 409, title: 'A staff member with this username exists' });

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

export const STAFF_POLICY = {
  maxFailures: 5,
  lockMs: 15 * 60_000,
  privilegedPasswordMaxAgeMs: 180 * 86_400_000,
  minPasswordLength: 12,
  totpStepSeconds: 30,
};

export type StaffFailure = 'INVALID' | 'LOCKED' | 'IP_NOT_ALLOWED' | 'PASSWORD_EXPIRED';

export type StaffAuthResult =
  | { ok: true; staffId: string; previousLogin: { at: string; ip: string } | null }
  | { ok: false; code: StaffFailure };

export interface StaffAccounts {
  create(
    input: { username: string; password: string; privileged: boolean },
    actor: string,
  ): Promise<{ staffId: string; totpSecret: string; otpauthUri: string }>;
  authenticate(input: {
    username: string;
    password: string;
    code: string;
    ip: string | undefined;
  }): Promise<StaffAuthResult>;
  changePassword(input: {
    username: string;
    password: string;
    newPassword: string;
    code: string;
    ip: string | undefined;
  }): Promise<StaffAuthResult>;
  isActive(staffId: string): Promise<boolean>;
  find(
    staffId: string,
  ): Promise<
    | { username: string; privileged: boolean; lastLoginAt: string | null; lastLoginIp: string | null }
    | undefined
  >;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** RFC 6238 TOTP value for a time step. */
export function totp(secret: Buffer, step: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', secret).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return code.toString().padStart(6, '0');
}

async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password.normalize('NFKC'), salt, 32);
  return `scrypt$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [kind, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const candidate = await scryptAsync(password.normalize('NFKC'), Buffer.from(salt, 'base64url'), 32);
  return timingSafeEqual(candidate, Buffer.from(hash, 'base64url'));
}

interface Row {
  id: string;
  password_hash: string;
  sealed_totp_secret: string;
  last_totp_step: string;
  privileged: boolean;
  status: string;
  password_changed_at: Date;
  failed_count: number;
  locked_until: Date | null;
  last_login_at: Date | null;
  last_login_ip: string | null;
}

export function createStaffAccounts(options: {
  db: Database;
  audit: AuditLog;
  sealer: Sealer;
  allowedRanges: readonly string[];
  now: () => Date;
}): StaffAccounts {
  const { db, audit, sealer, now } = options;
  const ranges = createAddressMatcher(options.allowedRanges);

  const checkPolicy = (password: string) => {
    if ([...password].length < STAFF_POLICY.minPasswordLength) {
      throw new ProblemError('weak-password', {
        detail: `at least ${STAFF_POLICY.minPasswordLength} characters`,
      });
    }
  };

  /** Verifies password and code; updates counters. Returns the row when both are right. */
  type Verified = { result: StaffAuthResult } | { row: Row; matchedStep: number; at: Date };
  const verify = async (input: {
    username: string;
    password: string;
    code: string;
    ip: string | undefined;
  }): Promise<Verified> => {
    const fail = async (code: StaffFailure, staffId?: string): Promise<{ ok: false; code: StaffFailure }> => {
      await audit.record({
        actor: staffId ? `staff:${staffId}` : 'anonymous',
        action: 'idp.staff.login-failed',
        target: staffId ? `staff:${staffId}` : 'staff:unknown',
        details: { result: code },
      });
      return { ok: false, code };
    };
    if (!input.ip || !ranges.allows(input.ip)) return { result: await fail('IP_NOT_ALLOWED') };
    const { rows } = await db.query<Row>('SELECT * FROM idp.staff WHERE username = $1', [input.username]);
    const row = rows[0];
    if (row?.status !== 'active') {
      await passwordMatches(
        input.password,
        'scrypt$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      );
      return { result: await fail('INVALID') };
    }
    const at = now();
    if (row.locked_until && row.locked_until.getTime() > at.getTime())
      return { result: await fail('LOCKED', row.id) };
    const secret = Buffer.from(sealer.open(`totp:${row.id}`, row.sealed_totp_secret), 'base64');
    const step = Math.floor(at.getTime() / 1000 / STAFF_POLICY.totpStepSeconds);
    const matchedStep = [step, step - 1, step + 1].find(
      (s) => s > Number(row.last_totp_step) && totp(secret, s) === input.code,
    );
    const passwordOk = await passwordMatches(input.password, row.password_hash);
    if (!passwordOk || matchedStep === undefined) {
      const failures = row.failed_count + 1;
      const locked = failures >= STAFF_POLICY.maxFailures;
      await db.query('UPDATE idp.staff SET failed_count = $2, locked_until = $3 WHERE id = $1', [
        row.id,
        locked ? 0 : failures,
        locked ? new Date(at.getTime() + STAFF_POLICY.lockMs) : row.locked_until,
      ]);
      return { result: await fail(locked ? 'LOCKED' : 'INVALID', row.id) };
    }
    return { row, matchedStep, at };
  };

  const succeed = async (row: Row, matchedStep: number, at: Date, ip: string): Promise<StaffAuthResult> => {
    await db.query(
      `UPDATE idp.staff SET failed_count = 0, locked_until = NULL, last_totp_step = $2, last_login_at = $3, last_login_ip = $4
        WHERE id = $1`,
      [row.id, matchedStep, at, ip],
    );
    await audit.record({
      actor: `staff:${row.id}`,
      action: 'idp.staff.login',
      target: `staff:${row.id}`,
      details: {},
    });
    return {
      ok: true,
      staffId: row.id,
      previousLogin: row.last_login_at
        ? { at: row.last_login_at.toISOString(), ip: row.last_login_ip ?? '' }
        : null,
    };
  };

  const expired = (row: Row, at: Date) =>
    row.privileged &&
    at.getTime() - row.password_changed_at.getTime() > STAFF_POLICY.privilegedPasswordMaxAgeMs;

  return {
    async create(input, actor) {
      checkPolicy(input.password);
      const staffId = `st_${randomBytes(9).toString('base64url')}`;
      const secret = randomBytes(20);
      const totpSecret = base32(secret);
      try {
        await db.transaction(async (tx) => {
          await tx.query(
            `INSERT INTO idp.staff (id, username, password_hash, sealed_totp_secret, privileged, status, password_changed_at, created_at)
             VALUES ($1, $2, $3, $4, $5, 'active', $6, $6)`,
            [
              staffId,
              input.username,
              await hashPassword(input.password),
              sealer.seal(`totp:${staffId}`, secret.toString('base64')),
              input.privileged,
              now(),
            ],
          );
          await audit.recordInTransaction(tx, {
            actor,
            action: 'idp.staff.create',
            target: `staff:${staffId}`,
            details: { privileged: input.privileged },
          });
        });
      } catch (error) {
        if ((error as { code?: string }).code === '23505') throw new ProblemError('staff-exists');
        throw error;
      }
      const label = encodeURIComponent(`Tsunagu:${input.username}`);
      return {
        staffId,
        totpSecret,
        otpauthUri: `otpauth://totp/${label}?secret=${totpSecret}&issuer=Tsunagu`,
      };
    },

    async authenticate(input) {
      const v = await verify(input);
      if ('result' in v) return v.result;
      if (expired(v.row, v.at)) {
        await audit.record({
          actor: `staff:${v.row.id}`,
          action: 'idp.staff.login-failed',
          target: `staff:${v.row.id}`,
          details: { result: 'PASSWORD_EXPIRED' },
        });
        return { ok: false, code: 'PASSWORD_EXPIRED' };
      }
      return succeed(v.row, v.matchedStep, v.at, input.ip ?? '');
    },

    async changePassword(input) {
      checkPolicy(input.newPassword);
      const v = await verify(input);
      if ('result' in v) return v.result;
      if (input.newPassword === input.password)
        throw new ProblemError('weak-password', { detail: 'choose a new password' });
      await db.query('UPDATE idp.staff SET password_hash = $2, password_changed_at = $3 WHERE id = $1', [
        v.row.id,
        await hashPassword(input.newPassword),
        v.at,
      ]);
      await audit.record({
        actor: `staff:${v.row.id}`,
        action: 'idp.staff.password-change',
        target: `staff:${v.row.id}`,
        details: {},
      });
      return succeed(v.row, v.matchedStep, v.at, input.ip ?? '');
    },

    async isActive(staffId) {
      const { rows } = await db.query<{ status: string }>('SELECT status FROM idp.staff WHERE id = $1', [
        staffId,
      ]);
      return rows[0]?.status === 'active';
    },

    async find(staffId) {
      const { rows } = await db.query<{
        username: string;
        privileged: boolean;
        last_login_at: Date | null;
        last_login_ip: string | null;
      }>('SELECT username, privileged, last_login_at, last_login_ip FROM idp.staff WHERE id = $1', [staffId]);
      const r = rows[0];
      return r
        ? {
            username: r.username,
            privileged: r.privileged,
            lastLoginAt: r.last_login_at?.toISOString() ?? null,
            lastLoginIp: r.last_login_ip,
          }
        : undefined;
    },
  };
}
