/** The health-app adapter's tables (schema `adapters`, migration key `adapters/health`). */
import type { ModuleMigrations } from '../../core/index.ts';

export const healthMigrations: ModuleMigrations = {
  module: 'adapters/health',
  schema: 'adapters',
  migrations: [
    {
      id: '001_health_import',
      sql: `
        -- Residents' health-app e-mail addresses: sealed, found by their HMAC blind index.
        CREATE TABLE adapters.health_account (
          email_index   text        PRIMARY KEY,
          email_sealed  text        NOT NULL,
          common_id     text        NOT NULL,
          via           text        NOT NULL CHECK (via IN ('resident', 'staff', 'idp')),
          linked_at     timestamptz NOT NULL
        );
        CREATE INDEX health_account_common_id ON adapters.health_account (common_id);

        -- One row per import attempt of a file. A file (by content hash) is imported once; a failed
        -- attempt does not count, so the same file can be dropped again after the cause is fixed.
        CREATE TABLE adapters.health_import (
          id              bigserial   PRIMARY KEY,
          file_name       text        NOT NULL,
          file_hash       text        NOT NULL,
          via             text        NOT NULL CHECK (via IN ('folder', 'upload')),
          actor           text        NOT NULL,
          status          text        NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
          rows            integer     NOT NULL DEFAULT 0,
          granted_rows    integer     NOT NULL DEFAULT 0,
          granted_points  bigint      NOT NULL DEFAULT 0,
          duplicates      integer     NOT NULL DEFAULT 0,
          unmatched       integer     NOT NULL DEFAULT 0,
          invalid         integer     NOT NULL DEFAULT 0,
          zero            integer     NOT NULL DEFAULT 0,
          journal_id      text,
          failure         text,
          -- line numbers and reasons only (never the e-mail addresses)
          report          jsonb       NOT NULL DEFAULT '{}',
          created_at      timestamptz NOT NULL,
          finished_at     timestamptz
        );
        CREATE UNIQUE INDEX health_import_file ON adapters.health_import (file_hash) WHERE status <> 'failed';

        -- Every row paid (or being paid): its key makes a row in a later file count once.
        CREATE TABLE adapters.health_row (
          row_key    text    PRIMARY KEY,
          import_id  bigint  NOT NULL REFERENCES adapters.health_import (id),
          resident   text    NOT NULL,
          amount     integer NOT NULL CHECK (amount > 0)
        );
        CREATE INDEX health_row_import ON adapters.health_row (import_id);
      `,
    },
    {
      id: '002_health_row_keys',
      sql: `
        -- 100k-row imports: a 16-byte key (SHA-256 prefix of the row identity) and no per-row foreign
        -- key check; rows are only ever written with the attempt they belong to.
        ALTER TABLE adapters.health_row DROP CONSTRAINT health_row_import_id_fkey;
        ALTER TABLE adapters.health_row ALTER COLUMN row_key TYPE bytea
          USING substring(sha256(convert_to(row_key, 'UTF8')) FROM 1 FOR 16);
      `,
    },
  ],
};
