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
  ],
};
