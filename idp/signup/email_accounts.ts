/**
 * Residents without the My Number card: an account keyed by e-mail, verified through a link, with a
 * password or a passkey, at the lowest assurance level (`urn:tsunagu:acr:self-asserted`). The
 * account is an ordinary common ID, so raising it to card level later keeps everything attached.
 *
 *   requestSignup   mails a verification link (24 h). An address already registered gets a
 *                   "you are registered" mail instead, so the page never tells who is registered.
 *   complete        the link's page: profile (city-configured fields), category, and a password
 *                   (strength + breach checks) or a verified passkey → a new common ID, atomically.
 *   register        staff bulk registration and migration: upsert by e-mail, status `invited`.
 *   invite          mails an invitation link (7 days) to set a password or passkey.
 *   login           e-mail + password (the caller throttles).
 *   remove          logical deletion by staff: the account is disabled, nothing is erased.
 *
 * E-mail, profile and category are sealed at rest; the e-mail is found by a keyed hash. Audit
 * entries carry ids and codes, never the address.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { AuditLog, Database, Queryable } from '../../core/index.ts';
import type { Accounts } from '../accounts/accounts.ts';
import type { Sealer } from '../keys/seal.ts';
import type { NewPasskey, Passkeys } from '../passkeys/passkeys.ts';
import type { Mailer } from './mailer.ts';
import {
  type BreachedPasswords,
  checkPassword,
  hashPassword,
  type PasswordProblem,
  verifyPassword,
} from './passwords.ts';
import {
  type Category,
  isCategory,
  normaliseEmail,
  type Profile,
  type ProfileField,
  validateProfile,
} from './profile_fields.ts';

export const SELF_ASSERTED_TRUST_FRAMEWORK = 'self-asserted';
const SIGNUP_MS = 24 * 3_600_000;
const INVITE_MS = 7 * 24 * 3_600_000;

export interface EmailLogin {
  commonId: string;
  email: string;
  category: Category;
  profile: Profile;
  status: 'active' | 'invited' | 'deleted';
  registeredBy: string;
  hasPassword: boolean;
  legacy: { source: string; id: string } | null;
}

export interface SignupLink {
  purpose: 'signup' | 'invite';
  email: string;
  commonId: string | null;
  interaction: string | null;
  login: EmailLogin | null;
}

export type CompleteFailure = 'LINK' | 'PROFILE' | 'CATEGORY' | 'EMAIL_TAKEN' | 'UNCHECKED' | PasswordProblem;

export type CompleteResult =
  | { ok: true; commonId: string; interaction: string | null }
  | { ok: false; code: CompleteFailure; invalid?: string[] };

export interface RegisterInput {
  email: string;
  profile: Profile;
  category: Category;
  registeredBy: string;
  legacy?: { source: string; id: string };
}

export interface EmailAccounts {
  fields: ProfileField[];
  requestSignup(input: { email: string; interaction?: string | undefined }): Promise<void>;
  link(token: string): Promise<SignupLink | undefined>;
  complete(
    token: string,
    input: {
      profile: Record<string, unknown>;
      category: unknown;
      credential: { password: string } | { passkey: NewPasskey; label: string };
    },
  ): Promise<CompleteResult>;
  register(
    tx: Queryable,
    input: RegisterInput,
  ): Promise<{ commonId: string; outcome: 'created' | 'updated' | 'unchanged' }>;
  invite(commonId: string): Promise<boolean>;
  login(email: string, password: string): Promise<{ ok: true; commonId: string } | { ok: false }>;
  find(commonId: string): Promise<EmailLogin | undefined>;
  findByEmail(email: string): Promise<EmailLogin | undefined>;
  findByLegacy(source: string, id: string): Promise<string | undefined>;
  updateProfile(
    commonId: string,
    input: { profile?: Record<string, unknown>; category?: unknown },
    actor: string,
  ): Promise<
    { ok: true; login: EmailLogin } | { ok: false; code: 'PROFILE' | 'CATEGORY'; invalid?: string[] }
  >;
  remove(commonId: string, actor: string): Promise<boolean>;
  /** A short keyed hash of an address, for throttling keys and audit targets. */
  emailKey(email: string): string;
}

interface LoginRow {
  common_id: string;
  sealed_email: string;
  sealed_profile: string;
  category: Category;
  password_hash: string | null;
  registered_by: string;
  legacy_source: string | null;
  legacy_id: string | null;
  row_hash: string | null;
  status: EmailLogin['status'];
}

const tokenHash = (token: string) => createHash('sha256').update(token).digest('base64url');

export function createEmailAccounts(options: {
  db: Database;
  audit: AuditLog;
  sealer: Sealer;
  accounts: Accounts;
  passkeys: Passkeys;
  mailer: Mailer;
  breached: BreachedPasswords;
  fields: ProfileField[];
  publicUrl: string;
  now: () => Date;
}): EmailAccounts {
  const { db, audit, sealer, accounts, mailer, now } = options;
  const keySecret = sealer.derive('email-key');
  const emailKey = (email: string) => createHmac('sha256', keySecret).update(email).digest('base64url');
  const sealFor = (commonId: string, what: string, value: string) =>
    sealer.seal(`${what}:${commonId}`, value);

  const toLogin = (r: LoginRow): EmailLogin => ({
    commonId: r.common_id,
    email: sealer.open(`email:${r.common_id}`, r.sealed_email),
    category: r.category,
    profile: JSON.parse(sealer.open(`signup-profile:${r.common_id}`, r.sealed_profile)) as Profile,
    status: r.status,
    registeredBy: r.registered_by,
    hasPassword: r.password_hash !== null,
    legacy: r.legacy_source && r.legacy_id ? { source: r.legacy_source, id: r.legacy_id } : null,
  });

  const newToken = async (
    tx: Queryable,
    purpose: 'signup' | 'invite',
    email: string,
    commonId: string | null,
    interaction: string | null,
  ) => {
    const token = randomBytes(32).toString('base64url');
    await tx.query('DELETE FROM idp.email_tokens WHERE expires_at < $1', [
      new Date(now().getTime() - SIGNUP_MS),
    ]);
    await tx.query(
      `INSERT INTO idp.email_tokens (token_hash, purpose, email_key, sealed_email, common_id, interaction, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        tokenHash(token),
        purpose,
        emailKey(email),
        sealer.seal('email-token', email),
        commonId,
        interaction,
        new Date(now().getTime() + (purpose === 'signup' ? SIGNUP_MS : INVITE_MS)),
      ],
    );
    return `${options.publicUrl}/idp/signup/verify/${token}`;
  };

  /** A deleted registration keeps its row (logical deletion) but gives its address back. */
  const releaseEmail = async (tx: Queryable, commonId: string) => {
    await tx.query(`UPDATE idp.email_logins SET email_key = 'released:' || common_id WHERE common_id = $1`, [
      commonId,
    ]);
  };

  const byKey = async (tx: Queryable, key: string) =>
    (await tx.query<LoginRow>('SELECT * FROM idp.email_logins WHERE email_key = $1', [key])).rows[0];

  const service: EmailAccounts = {
    fields: options.fields,
    emailKey: (email) => emailKey(email).slice(0, 16),

    async requestSignup(input) {
      const email = normaliseEmail(input.email);
      if (!email) return;
      const existing = await byKey(db, emailKey(email));
      if (existing && existing.status !== 'deleted') {
        await mailer.send({
          to: email,
          subject: '【つなぐ】登録済みのメールアドレスです / You are already registered',
          text: `このメールアドレスはすでに登録されています。ログイン画面からログインしてください。\nThis address is already registered. Please sign in on the sign-in page.\n\n${options.publicUrl}\n`,
        });
        await audit.record({
          actor: 'anonymous',
          action: 'idp.signup.request',
          target: `email:${emailKey(email).slice(0, 16)}`,
          details: { result: 'already-registered' },
        });
        return;
      }
      const url = await newToken(db, 'signup', email, null, input.interaction ?? null);
      await mailer.send({
        to: email,
        subject: '【つなぐ】メールアドレスの確認 / Confirm your e-mail address',
        text: `次のリンクを開いて登録を続けてください（24時間有効）。\nOpen this link to continue registering (valid for 24 hours).\n\n${url}\n\n心当たりがない場合は、このメールを破棄してください。\nIf you did not ask for this, ignore this message.\n`,
      });
      await audit.record({
        actor: 'anonymous',
        action: 'idp.signup.request',
        target: `email:${emailKey(email).slice(0, 16)}`,
        details: { result: 'sent' },
      });
    },

    async link(token) {
      const { rows } = await db.query<{
        purpose: 'signup' | 'invite';
        sealed_email: string;
        common_id: string | null;
        interaction: string | null;
      }>(
        `SELECT purpose, sealed_email, common_id, interaction FROM idp.email_tokens
          WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2`,
        [tokenHash(token), now()],
      );
      const r = rows[0];
      if (!r) return undefined;
      return {
        purpose: r.purpose,
        email: sealer.open('email-token', r.sealed_email),
        commonId: r.common_id,
        interaction: r.interaction,
        login: r.common_id ? ((await service.find(r.common_id)) ?? null) : null,
      };
    },

    async complete(token, input) {
      const link = await service.link(token);
      if (!link) return { ok: false, code: 'LINK' };
      const checked = validateProfile(options.fields, input.profile, now());
      if (!checked.ok) return { ok: false, code: 'PROFILE', invalid: checked.invalid };
      if (!isCategory(input.category)) return { ok: false, code: 'CATEGORY' };
      const category = input.category;
      let passwordHash: string | null = null;
      if ('password' in input.credential) {
        let problem: PasswordProblem | 'UNCHECKED' | null;
        try {
          problem = await checkPassword(input.credential.password, link.email, options.breached);
        } catch {
          // The breach list could not be asked: refuse the password (fail closed), keep the link.
          problem = 'UNCHECKED';
        }
        if (problem) return { ok: false, code: problem };
        passwordHash = await hashPassword(input.credential.password);
      }
      const credential = input.credential;
      const result = await db.transaction(async (tx): Promise<CompleteResult> => {
        const used = await tx.query<{ email_key: string }>(
          `UPDATE idp.email_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
           RETURNING email_key`,
          [tokenHash(token), now()],
        );
        if (!used.rows[0]) return { ok: false, code: 'LINK' };
        const key = used.rows[0].email_key;
        let commonId = link.commonId;
        if (link.purpose === 'signup') {
          const taken = await byKey(tx, key);
          if (taken && taken.status !== 'deleted') return { ok: false, code: 'EMAIL_TAKEN' };
          if (taken) await releaseEmail(tx, taken.common_id);
          commonId = await accounts.create(tx, SELF_ASSERTED_TRUST_FRAMEWORK, null);
          await tx.query(
            `INSERT INTO idp.email_logins (common_id, email_key, sealed_email, sealed_profile, category, password_hash,
                                           registered_by, status, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'self', 'active', $7, $7)`,
            [
              commonId,
              key,
              sealFor(commonId, 'email', link.email),
              sealFor(commonId, 'signup-profile', JSON.stringify(checked.profile)),
              category,
              passwordHash,
              now(),
            ],
          );
        } else {
          const { rowCount } = await tx.query(
            `UPDATE idp.email_logins SET sealed_profile = $2, category = $3,
                    password_hash = COALESCE($4, password_hash), status = 'active', updated_at = $5
              WHERE common_id = $1 AND status <> 'deleted'`,
            [
              commonId,
              sealFor(commonId!, 'signup-profile', JSON.stringify(checked.profile)),
              category,
              passwordHash,
              now(),
            ],
          );
          if (rowCount !== 1) return { ok: false, code: 'LINK' };
        }
        if ('passkey' in credential)
          await options.passkeys.insert(tx, commonId!, credential.passkey, credential.label);
        await audit.recordInTransaction(tx, {
          actor: `account:${commonId}`,
          action: link.purpose === 'signup' ? 'idp.signup.complete' : 'idp.invite.accept',
          target: `account:${commonId}`,
          details: { category, credential: 'passkey' in credential ? 'passkey' : 'password' },
        });
        return { ok: true, commonId: commonId!, interaction: link.interaction };
      });
      return result;
    },

    async register(tx, input) {
      const email = normaliseEmail(input.email);
      if (!email) throw new Error('register: invalid e-mail');
      const key = emailKey(email);
      const rowHash = createHash('sha256')
        .update(JSON.stringify([input.profile, input.category]))
        .digest('base64url');
      const existing = await byKey(tx, key);
      if (existing && existing.status !== 'deleted') {
        if (existing.row_hash === rowHash) return { commonId: existing.common_id, outcome: 'unchanged' };
        await tx.query(
          `UPDATE idp.email_logins SET sealed_profile = $2, category = $3, row_hash = $4, updated_at = $5,
                  legacy_source = COALESCE(legacy_source, $6), legacy_id = COALESCE(legacy_id, $7)
            WHERE common_id = $1`,
          [
            existing.common_id,
            sealFor(existing.common_id, 'signup-profile', JSON.stringify(input.profile)),
            input.category,
            rowHash,
            now(),
            input.legacy?.source ?? null,
            input.legacy?.id ?? null,
          ],
        );
        return { commonId: existing.common_id, outcome: 'updated' };
      }
      if (existing) await releaseEmail(tx, existing.common_id);
      const commonId = await accounts.create(tx, SELF_ASSERTED_TRUST_FRAMEWORK, null);
      await tx.query(
        `INSERT INTO idp.email_logins (common_id, email_key, sealed_email, sealed_profile, category, registered_by,
                                       legacy_source, legacy_id, row_hash, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'invited', $10, $10)`,
        [
          commonId,
          key,
          sealFor(commonId, 'email', email),
          sealFor(commonId, 'signup-profile', JSON.stringify(input.profile)),
          input.category,
          input.registeredBy,
          input.legacy?.source ?? null,
          input.legacy?.id ?? null,
          rowHash,
          now(),
        ],
      );
      return { commonId, outcome: 'created' };
    },

    async invite(commonId) {
      const login = await service.find(commonId);
      if (login?.status !== 'invited') return false;
      const url = await newToken(db, 'invite', login.email, commonId, null);
      await mailer.send({
        to: login.email,
        subject: '【つなぐ】利用登録のご案内 / You are invited to Tsunagu',
        text: `市があなたの利用登録を行いました。次のリンクからパスワードまたはパスキーを設定してください（7日間有効）。\nThe city registered you. Set a password or a passkey with this link (valid for 7 days).\n\n${url}\n`,
      });
      await audit.record({
        actor: 'system',
        action: 'idp.invite.send',
        target: `account:${commonId}`,
        details: {},
      });
      return true;
    },

    async login(emailInput, password) {
      const email = normaliseEmail(emailInput);
      const row = email ? await byKey(db, emailKey(email)) : undefined;
      const ok = await verifyPassword(password, row?.password_hash ?? null);
      const active = ok && row?.status === 'active' && (await accounts.isActive(row.common_id));
      await audit.record({
        actor: active ? `account:${row.common_id}` : 'anonymous',
        action: 'idp.password.login',
        target: row ? `account:${row.common_id}` : 'account:unknown',
        details: { result: active ? 'ok' : 'INVALID' },
      });
      return active ? { ok: true, commonId: row.common_id } : { ok: false };
    },

    async find(commonId) {
      const { rows } = await db.query<LoginRow>('SELECT * FROM idp.email_logins WHERE common_id = $1', [
        commonId,
      ]);
      return rows[0] ? toLogin(rows[0]) : undefined;
    },

    async findByEmail(emailInput) {
      const email = normaliseEmail(emailInput);
      const row = email ? await byKey(db, emailKey(email)) : undefined;
      return row ? toLogin(row) : undefined;
    },

    async findByLegacy(source, id) {
      const { rows } = await db.query<{ common_id: string }>(
        `SELECT common_id FROM idp.email_logins WHERE legacy_source = $1 AND legacy_id = $2 AND status <> 'deleted'`,
        [source, id],
      );
      return rows[0]?.common_id;
    },

    async updateProfile(commonId, input, actor) {
      const current = await service.find(commonId);
      if (!current || current.status === 'deleted') return { ok: false, code: 'PROFILE' };
      const checked = validateProfile(options.fields, { ...current.profile, ...input.profile }, now());
      if (!checked.ok) return { ok: false, code: 'PROFILE', invalid: checked.invalid };
      const category = input.category === undefined ? current.category : input.category;
      if (!isCategory(category)) return { ok: false, code: 'CATEGORY' };
      await db.transaction(async (tx) => {
        await tx.query(
          'UPDATE idp.email_logins SET sealed_profile = $2, category = $3, updated_at = $4 WHERE common_id = $1',
          [commonId, sealFor(commonId, 'signup-profile', JSON.stringify(checked.profile)), category, now()],
        );
        await audit.recordInTransaction(tx, {
          actor,
          action: 'idp.profile.update',
          target: `account:${commonId}`,
          details: { fields: Object.keys(input.profile ?? {}), category: input.category !== undefined },
        });
      });
      return { ok: true, login: (await service.find(commonId))! };
    },

    async remove(commonId, actor) {
      return db.transaction(async (tx) => {
        const { rowCount } = await tx.query(
          `UPDATE idp.email_logins SET status = 'deleted', deleted_at = $2, updated_at = $2
            WHERE common_id = $1 AND status <> 'deleted'`,
          [commonId, now()],
        );
        if (rowCount !== 1) return false;
        await tx.query(
          `UPDATE idp.accounts SET status = 'disabled', updated_at = $2 WHERE common_id = $1 AND status = 'active'`,
          [commonId, now()],
        );
        // Sessions and tokens end with the account (the token verifier checks the status too).
        await tx.query(`DELETE FROM idp.oidc_payloads WHERE payload ->> 'accountId' = $1`, [commonId]);
        await audit.recordInTransaction(tx, {
          actor,
          action: 'idp.resident.delete',
          target: `account:${commonId}`,
          details: { logical: true },
        });
        return true;
      });
    },
  };
  return service;
}
