/**
 * The `opendata` schema: uploads (the stored file, the choices made and the analysis report), the
 * dataset catalogue (DCAT-style metadata, publish state) and one version per registration.
 */
import type { ModuleMigrations } from '../core/index.ts';

export const opendataMigrations: ModuleMigrations = {
  module: 'opendata',
  schema: 'opendata',
  migrations: [
    {
      id: '001_catalogue',
      sql: `
        CREATE TABLE opendata.datasets (
          id            text        PRIMARY KEY,
          standard      text        NOT NULL,
          entity_type   text        NOT NULL,
          title         text        NOT NULL,
          description   text        NOT NULL DEFAULT '',
          publisher     text        NOT NULL DEFAULT '',
          license       text        NOT NULL DEFAULT 'CC-BY-4.0',
          frequency     text        NOT NULL DEFAULT 'irregular',
          keywords      text[]      NOT NULL DEFAULT '{}',
          published     boolean     NOT NULL DEFAULT false,
          created_at    timestamptz NOT NULL,
          updated_at    timestamptz NOT NULL
        );
        CREATE TABLE opendata.uploads (
          id            uuid        PRIMARY KEY,
          file_name     text        NOT NULL,
          bytes         bigint      NOT NULL,
          sha256        text        NOT NULL,
          options       jsonb       NOT NULL,
          report        jsonb       NOT NULL,
          status        text        NOT NULL CHECK (status IN ('analysed', 'registered')),
          dataset_id    text        REFERENCES opendata.datasets (id),
          created_by    text        NOT NULL,
          created_at    timestamptz NOT NULL,
          registered_at timestamptz,
          registration  jsonb
        );
        CREATE TABLE opendata.dataset_versions (
          dataset_id    text        NOT NULL REFERENCES opendata.datasets (id),
          version       integer     NOT NULL,
          upload_id     uuid        NOT NULL REFERENCES opendata.uploads (id),
          entities      integer     NOT NULL,
          registered_at timestamptz NOT NULL,
          PRIMARY KEY (dataset_id, version)
        );
      `,
    },
    {
      id: '002_registering',
      sql: `
        ALTER TABLE opendata.uploads DROP CONSTRAINT uploads_status_check;
        ALTER TABLE opendata.uploads ADD CONSTRAINT uploads_status_check
          CHECK (status IN ('analysed', 'registering', 'registered'));
      `,
    },
  ],
};
