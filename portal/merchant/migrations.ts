/**
 * Merchant staff sign-in (schema `portal`, migration set `portal/merchant`): accounts that city
 * staff issue for a merchant of the points module. The password is kept as scrypt; the credential
 * version changes with every password change, reset or disable, which ends existing sessions.
 */
import type { Migration } from '../../core/index.ts';

export const MERCHANT_MIGRATIONS: Migration[] = [
  {
    id: '001_merchant_accounts',
    sql: `
      CREATE TABLE portal.merchant_accounts (
        id                  bigserial PRIMARY KEY,
        login_id            text NOT NULL UNIQUE CHECK (login_id ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
        merchant_id         text NOT NULL,
        password_hash       text NOT NULL,
        credential_version  integer NOT NULL DEFAULT 1,
        must_change         boolean NOT NULL DEFAULT true,
        failed_attempts     integer NOT NULL DEFAULT 0,
        locked_until        timestamptz,
        last_sign_in_at     timestamptz,
        disabled_at         timestamptz,
        created_by          text NOT NULL,
        created_at          timestamptz NOT NULL
      );
      CREATE INDEX merchant_accounts_merchant ON portal.merchant_accounts (merchant_id);
    `,
  },
];
