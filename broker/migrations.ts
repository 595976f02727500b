/**
 * The broker's schema. Entities are keyed like Orion's (id, type, servicePath) per tenant; `seq`
 * keeps creation order (Orion lists in creation order); attributes live in one jsonb document.
 */
import type { ModuleMigrations } from '../core/index.ts';

export const brokerMigrations: ModuleMigrations = {
  module: 'broker',
  schema: 'broker',
  migrations: [
    {
      id: '001_entities',
      sql: `
        CREATE TABLE broker.entities (
          tenant        text        NOT NULL,
          id            text        NOT NULL,
          type          text        NOT NULL,
          service_path  text        NOT NULL,
          seq           bigserial   NOT NULL,
          attrs         jsonb       NOT NULL,
          attr_names    text[]      NOT NULL,
          created_at    timestamptz NOT NULL,
          modified_at   timestamptz NOT NULL,
          expires_at    timestamptz,
          version       integer     NOT NULL DEFAULT 1,
          PRIMARY KEY (tenant, id, type, service_path)
        );
        CREATE UNIQUE INDEX entities_seq ON broker.entities (tenant, seq);
        CREATE INDEX entities_type ON broker.entities (tenant, type, seq);
        CREATE INDEX entities_path ON broker.entities (tenant, service_path text_pattern_ops);
        CREATE INDEX entities_expires ON broker.entities (expires_at) WHERE expires_at IS NOT NULL;

        CREATE TABLE broker.subscriptions (
          tenant        text        NOT NULL,
          id            text        NOT NULL,
          service_path  text        NOT NULL,
          seq           bigserial   NOT NULL,
          doc           jsonb       NOT NULL,
          status        text        NOT NULL,
          expires_at    timestamptz,
          times_sent    bigint      NOT NULL DEFAULT 0,
          fails_counter integer     NOT NULL DEFAULT 0,
          last_notification   timestamptz,
          last_success        timestamptz,
          last_success_code   integer,
          last_failure        timestamptz,
          last_failure_reason text,
          PRIMARY KEY (tenant, id)
        );

        CREATE TABLE broker.registrations (
          tenant        text        NOT NULL,
          id            text        NOT NULL,
          service_path  text        NOT NULL,
          seq           bigserial   NOT NULL,
          doc           jsonb       NOT NULL,
          PRIMARY KEY (tenant, id)
        );
      `,
    },
    {
      id: '002_merge_attrs',
      sql: `
        -- Orion's append semantics in SQL, for upserts that need no read-modify-write: an existing
        -- attribute keeps its creation time, its type when the request gave none, and its metadata
        -- merged with the new (unless overriding).
        CREATE FUNCTION broker.merge_attrs(old jsonb, new jsonb, override_metadata boolean) RETURNS jsonb
        LANGUAGE sql IMMUTABLE AS $$
          SELECT old || COALESCE(jsonb_object_agg(k,
            CASE WHEN old ? k THEN (v - 'typeGiven') || jsonb_build_object(
              'created', old->k->'created',
              'type', CASE WHEN (v->'typeGiven') = 'false'::jsonb THEN old->k->'type' ELSE v->'type' END,
              'metadata', CASE WHEN override_metadata THEN v->'metadata' ELSE (old->k->'metadata') || (v->'metadata') END)
            ELSE v - 'typeGiven' END), '{}'::jsonb)
          FROM jsonb_each(new) AS t(k, v)
        $$;
        CREATE FUNCTION broker.strip_type_given(attrs jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
          SELECT COALESCE(jsonb_object_agg(k, v - 'typeGiven'), '{}'::jsonb) FROM jsonb_each(attrs) AS t(k, v)
        $$;
      `,
    },
    {
      id: '003_location',
      sql: `
        -- The entity's location (its one geo attribute) as GeoJSON and its bounding box; geo-queries
        -- prefilter on the box and decide exactly in the broker.
        ALTER TABLE broker.entities
          ADD COLUMN geo jsonb,
          ADD COLUMN geo_min_lon double precision,
          ADD COLUMN geo_min_lat double precision,
          ADD COLUMN geo_max_lon double precision,
          ADD COLUMN geo_max_lat double precision;
        CREATE INDEX entities_geo ON broker.entities (tenant, geo_min_lat, geo_max_lat) WHERE geo IS NOT NULL;
      `,
    },
  ],
};
