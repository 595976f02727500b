/**
 * Tables for residents without the My Number card (schema `idp`, migration set `idp-signup`):
 * e-mail logins, verification links, passkeys, lost cards and devices, assurance minimums.
 * Forward-only: add a migration, never edit an applied one.
 */
import type { Migration, ModuleMigrations } from '../../core/index.ts';

const migrations: readonly Migration[] = [
  {
    id: '001_email_logins',
    sql: `
      -- One e-mail login per common ID. The e-mail is looked up by a keyed hash and sealed at rest,
      -- like the profile (the fields the city configures) and the category.
      CREATE TABLE idp.email_logins (
        common_id       text        PRIMARY KEY REFERENCES idp.accounts (common_id),
        email_key       text        NOT NULL UNIQUE,
        sealed_email    text        NOT NULL,
        sealed_profile  text        NOT NULL,
        category        text        NOT NULL CHECK (category IN ('resident', 'worker', 'student', 'visitor')),
        password_hash   text,
        -- 'self' (signed up), 'staff:<id>' (bulk registration), 'migration:<source>' (import)
        registered_by   text        NOT NULL,
        legacy_source   text,
        legacy_id       text,
        row_hash        text,
        status          text        NOT NULL CHECK (status IN ('active', 'invited', 'deleted')),
        created_at      timestamptz NOT NULL,
        updated_at      timestamptz NOT NULL,
        deleted_at      timestamptz,
        UNIQUE (legacy_source, legacy_id)
      );

      -- Links sent by e-mail: sign-up verification and invitations. Only the hash of the token is kept.
      CREATE TABLE idp.email_tokens (
        token_hash    text        PRIMARY KEY,
        purpose       text        NOT NULL CHECK (purpose IN ('signup', 'invite')),
        email_key     text        NOT NULL,
        sealed_email  text        NOT NULL,
        common_id     text        REFERENCES idp.accounts (common_id),
        interaction   text,
        expires_at    timestamptz NOT NULL,
        used_at       timestamptz
      );
      CREATE INDEX email_tokens_expiry ON idp.email_tokens (expires_at);

      -- WebAuthn credentials (passkeys). Revoked ones stay, so a revoked credential is refused.
      CREATE TABLE idp.passkeys (
        credential_id  text        PRIMARY KEY,
        common_id      text        NOT NULL REFERENCES idp.accounts (common_id),
        public_key     text        NOT NULL,
        counter        bigint      NOT NULL,
        transports     text[]      NOT NULL DEFAULT '{}',
        label          text        NOT NULL,
        status         text        NOT NULL CHECK (status IN ('active', 'revoked')),
        created_at     timestamptz NOT NULL,
        last_used_at   timestamptz,
        revoked_at     timestamptz,
        revoked_by     text
      );
      CREATE INDEX passkeys_common_id ON idp.passkeys (common_id);

      -- WebAuthn challenges, one use each, bound to what asked for them (an interaction or a link).
      CREATE TABLE idp.webauthn_challenges (
        challenge   text        PRIMARY KEY,
        binding     text        NOT NULL,
        expires_at  timestamptz NOT NULL,
        used_at     timestamptz
      );

      -- IC cards (e.g. a transit IC card used at card readers) and card-reader terminals. The
      -- identifier is kept only as a keyed hash; a revoked device is refused at once.
      CREATE TABLE idp.devices (
        id              text        PRIMARY KEY,
        kind            text        NOT NULL CHECK (kind IN ('ic-card', 'terminal')),
        identifier_key  text        NOT NULL,
        common_id       text        REFERENCES idp.accounts (common_id),
        label           text        NOT NULL,
        status          text        NOT NULL CHECK (status IN ('active', 'revoked')),
        created_at      timestamptz NOT NULL,
        revoked_at      timestamptz,
        revoked_by      text,
        revoke_reason   text
      );
      CREATE UNIQUE INDEX devices_identifier_active ON idp.devices (kind, identifier_key) WHERE status = 'active';

      -- Minimum assurance level per point type (a currency's type code), read by the points side
      -- through idp's service.
      CREATE TABLE idp.assurance_minimums (
        subject     text        PRIMARY KEY,
        minimum     text        NOT NULL,
        updated_at  timestamptz NOT NULL,
        updated_by  text        NOT NULL
      );
    `,
  },
];

export const signupMigrations: ModuleMigrations = { module: 'idp-signup', schema: 'idp', migrations };
