/**
 * The kit's tables in schema `adapters` (migration set `adapters/kit`): the inbox every adapter
 * dedupes outside events with, and the outbox it delivers outgoing calls from.
 */
import type { ModuleMigrations } from '../../core/index.ts';

export const kitMigrations: ModuleMigrations = {
  module: 'adapters/kit',
  schema: 'adapters',
  migrations: [
    {
      id: '001_inbox_outbox',
      sql: `
        -- One row per outside event an adapter has acted on; written in the same transaction as
        -- the adapter's own effect, so "seen" and "done" cannot disagree.
        CREATE TABLE adapters.inbox (
          source       text        NOT NULL,
          event_id     text        NOT NULL,
          adapter      text        NOT NULL,
          kind         text        NOT NULL,
          received_at  timestamptz NOT NULL,
          -- ids and codes only (never personal values): what the effect was
          outcome      jsonb       NOT NULL DEFAULT '{}',
          PRIMARY KEY (source, event_id)
        );
        CREATE INDEX inbox_adapter_received ON adapters.inbox (adapter, received_at DESC);

        CREATE TABLE adapters.outbox (
          id               bigserial   PRIMARY KEY,
          adapter          text        NOT NULL,
          kind             text        NOT NULL,
          -- optional business key: enqueueing the same key twice keeps the first message
          dedupe_key       text        UNIQUE,
          -- AES-256-GCM sealed JSON (payloads may carry personal data such as a LINE user id)
          payload_sealed   text        NOT NULL,
          status           text        NOT NULL DEFAULT 'pending'
                                       CHECK (status IN ('pending', 'done', 'dead')),
          attempts         integer     NOT NULL DEFAULT 0,
          max_attempts     integer     NOT NULL,
          next_attempt_at  timestamptz NOT NULL,
          -- a worker holds a message until this time; a crashed worker's lease simply runs out
          leased_until     timestamptz,
          last_error       text,
          created_at       timestamptz NOT NULL,
          updated_at       timestamptz NOT NULL,
          done_at          timestamptz
        );
        CREATE INDEX outbox_due ON adapters.outbox (next_attempt_at) WHERE status = 'pending';
        CREATE INDEX outbox_adapter_status ON adapters.outbox (adapter, status, id DESC);
      `,
    },
    {
      id: '002_oidc_client',
      sql: `
        -- The adapters' OpenID client at our own provider (resident sign-in for account links).
        CREATE TABLE adapters.oidc_client (
          purpose        text PRIMARY KEY,
          client_id      text NOT NULL,
          sealed_secret  text NOT NULL
        );
      `,
    },
  ],
};
