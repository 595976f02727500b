/**
 * Tables of the migration import (schema `points`, migration set `points-migration`). Only what
 * was imported is kept — row keys, amounts, holders (common IDs) — never the source file.
 * Forward-only: add a migration, never edit an applied one.
 */
import type { ModuleMigrations } from '../../core/index.ts';

const SQL = `
-- Opening balances: one row per source lot, with the journal that granted it from the migration pool.
CREATE TABLE points.migration_lots (
  source      text        NOT NULL,
  row_key     text        NOT NULL,
  currency    text        NOT NULL,
  point_type  text        NOT NULL,
  holder      text        NOT NULL,
  amount      bigint      NOT NULL CHECK (amount > 0),
  expires_at  timestamptz,
  journal_id  bigint      NOT NULL,
  imported_at timestamptz NOT NULL,
  PRIMARY KEY (source, row_key)
);
CREATE INDEX migration_lots_journal ON points.migration_lots (journal_id);

-- The previous system's history, kept read-only beside the ledger (never replayed as transfers).
CREATE TABLE points.migration_history (
  id           bigserial   PRIMARY KEY,
  source       text        NOT NULL,
  row_key      text        NOT NULL,
  holder       text        NOT NULL,
  currency     text        NOT NULL,
  point_type   text,
  occurred_at  timestamptz NOT NULL,
  kind         text        NOT NULL,
  amount       bigint      NOT NULL,
  description  text,
  imported_at  timestamptz NOT NULL,
  UNIQUE (source, row_key)
);
CREATE INDEX migration_history_holder ON points.migration_history (holder, occurred_at DESC);

-- Visits and usage recorded by other systems (facility entries, events), read-only.
CREATE TABLE points.imported_visits (
  id           bigserial   PRIMARY KEY,
  source       text        NOT NULL,
  row_key      text        NOT NULL,
  holder       text        NOT NULL,
  visited_at   timestamptz NOT NULL,
  place        text        NOT NULL,
  kind         text        NOT NULL,
  imported_at  timestamptz NOT NULL,
  UNIQUE (source, row_key)
);
CREATE INDEX imported_visits_holder ON points.imported_visits (holder, visited_at DESC);
CREATE INDEX imported_visits_day ON points.imported_visits (visited_at, place);

-- One row per import run: what came in, what was skipped, who ran it (a hash, not the file).
CREATE TABLE points.migration_runs (
  id           bigserial   PRIMARY KEY,
  source       text        NOT NULL,
  kind         text        NOT NULL CHECK (kind IN ('balances', 'history', 'visits')),
  file_sha256  text        NOT NULL,
  rows         integer     NOT NULL,
  imported     integer     NOT NULL,
  skipped      integer     NOT NULL,
  actor        text        NOT NULL,
  at           timestamptz NOT NULL
);

CREATE FUNCTION points.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'imported history is read-only' USING ERRCODE = 'PT403';
END $$;
CREATE TRIGGER migration_history_read_only BEFORE UPDATE OR DELETE ON points.migration_history
  FOR EACH STATEMENT EXECUTE FUNCTION points.refuse_change();
CREATE TRIGGER imported_visits_read_only BEFORE UPDATE OR DELETE ON points.imported_visits
  FOR EACH STATEMENT EXECUTE FUNCTION points.refuse_change();
CREATE TRIGGER migration_lots_read_only BEFORE UPDATE OR DELETE ON points.migration_lots
  FOR EACH STATEMENT EXECUTE FUNCTION points.refuse_change();
`;

export const migrationImportMigrations: ModuleMigrations = {
  module: 'points-migration',
  schema: 'points',
  migrations: [{ id: '001_migration_import', sql: SQL }],
};
