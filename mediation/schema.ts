import type { ModuleMigrations } from '../core/index.ts';

/**
 * The mediation schema: the encrypted personal-data store and its key hierarchy, the service
 * registry, data-flow deliveries, and the access log (its own hash chain, signed checkpoints, and
 * month segments that are archived sealed and purged whole).
 */
export const mediationMigrations: ModuleMigrations = {
  module: 'mediation',
  schema: 'mediation',
  migrations: [
    {
      id: '001_mediation',
      sql: `
        -- Per-municipality data keys (DEKs), each wrapped (AES-256-GCM) by a key-encryption key
        -- derived from MASTER_KEY; kek_id names which one, so a master-key change re-wraps in place.
        CREATE TABLE mediation.data_keys (
          municipality text        NOT NULL,
          version      integer     NOT NULL CHECK (version > 0),
          wrapped      text        NOT NULL,
          kek_id       text        NOT NULL,
          state        text        NOT NULL CHECK (state IN ('active', 'retired')),
          created_at   timestamptz NOT NULL,
          rewrapped_at timestamptz,
          PRIMARY KEY (municipality, version)
        );
        CREATE UNIQUE INDEX data_keys_one_active ON mediation.data_keys (municipality) WHERE state = 'active';

        -- One row per resident and item; the value is sealed under the row's data key version and
        -- bound (GCM additional data) to resident and item, so a value moved to another row fails.
        CREATE TABLE mediation.personal_data (
          resident     text        NOT NULL,
          item         text        NOT NULL,
          municipality text        NOT NULL,
          key_version  integer     NOT NULL,
          sealed       text        NOT NULL,
          source       text        NOT NULL,
          updated_at   timestamptz NOT NULL,
          PRIMARY KEY (resident, item),
          FOREIGN KEY (municipality, key_version) REFERENCES mediation.data_keys (municipality, version)
        );
        CREATE INDEX personal_data_key ON mediation.personal_data (municipality, key_version);

        CREATE TABLE mediation.services (
          service     text        PRIMARY KEY,
          name        text        NOT NULL,
          items       text[]      NOT NULL,
          purposes    jsonb       NOT NULL,
          flows       jsonb       NOT NULL DEFAULT '[]'::jsonb,
          state       text        NOT NULL CHECK (state IN ('active', 'disabled')),
          version     integer     NOT NULL,
          created_at  timestamptz NOT NULL,
          updated_at  timestamptz NOT NULL
        );

        -- Items service A sent for service B under a data-flow consent, waiting for B to receive
        -- them; the payload is sealed like personal_data and removed once received.
        CREATE TABLE mediation.flow_deliveries (
          id           text        PRIMARY KEY,
          source       text        NOT NULL,
          recipient    text        NOT NULL,
          resident     text        NOT NULL,
          purpose      text        NOT NULL,
          items        text[]      NOT NULL,
          consents     jsonb       NOT NULL,
          municipality text        NOT NULL,
          key_version  integer     NOT NULL,
          sealed       text,
          created_at   timestamptz NOT NULL,
          received_at  timestamptz,
          FOREIGN KEY (municipality, key_version) REFERENCES mediation.data_keys (municipality, version)
        );
        CREATE INDEX flow_deliveries_pending ON mediation.flow_deliveries (recipient, created_at) WHERE received_at IS NULL;

        CREATE TABLE mediation.log_segments (
          segment        text        PRIMARY KEY,
          first_seq      bigint      NOT NULL,
          last_seq       bigint      NOT NULL,
          entries        integer     NOT NULL,
          first_prev     text        NOT NULL,
          last_hash      text        NOT NULL,
          archive_file   text        NOT NULL,
          archive_sha256 text        NOT NULL,
          signature      text        NOT NULL,
          key_id         text        NOT NULL,
          archived_at    timestamptz NOT NULL,
          purged_at      timestamptz
        );

        -- Every attempt: names of items, never values. Hash-chained; UPDATE is refused, DELETE only
        -- for rows of a segment that was archived (purges take whole segments).
        CREATE TABLE mediation.access_log (
          seq              bigint      PRIMARY KEY CHECK (seq > 0),
          at               timestamptz NOT NULL,
          segment          text        NOT NULL,
          kind             text        NOT NULL,
          service          text        NOT NULL,
          source           text,
          resident         text,
          items            text[]      NOT NULL,
          purpose          text        NOT NULL,
          decision         text        NOT NULL CHECK (decision IN ('allow', 'partial', 'deny')),
          code             text,
          consents         jsonb       NOT NULL,
          suppressed_until timestamptz,
          prev_hash        text        NOT NULL,
          hash             text        NOT NULL
        );
        CREATE INDEX access_log_resident ON mediation.access_log (resident, seq);
        CREATE INDEX access_log_service ON mediation.access_log (service, seq);
        CREATE INDEX access_log_segment ON mediation.access_log (segment, seq);

        CREATE FUNCTION mediation.access_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM mediation.log_segments s WHERE s.segment = OLD.segment) THEN
            RETURN OLD;
          END IF;
          RAISE EXCEPTION 'mediation.access_log is append-only (% refused)', TG_OP
            USING ERRCODE = 'insufficient_privilege';
        END $$;
        CREATE TRIGGER access_log_guard BEFORE UPDATE OR DELETE ON mediation.access_log
          FOR EACH ROW EXECUTE FUNCTION mediation.access_log_guard();
        CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON mediation.access_log
          FOR EACH STATEMENT EXECUTE FUNCTION mediation.access_log_guard();

        CREATE TABLE mediation.log_checkpoints (
          size       bigint      PRIMARY KEY,
          head       text        NOT NULL,
          signed_at  timestamptz NOT NULL,
          key_id     text        NOT NULL,
          signature  text        NOT NULL
        );

        -- Takes the chain's lock, then reads the head in a fresh snapshot (the log's last row, or the
        -- last purged segment's end when every online row is gone).
        CREATE FUNCTION mediation.log_lock_head(OUT seq bigint, OUT hash text) LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM pg_advisory_xact_lock(1835361641);
          SELECT l.seq, l.hash INTO seq, hash FROM mediation.access_log l ORDER BY l.seq DESC LIMIT 1;
          IF seq IS NULL THEN
            SELECT s.last_seq, s.last_hash INTO seq, hash FROM mediation.log_segments s
              ORDER BY s.last_seq DESC LIMIT 1;
          END IF;
        END $$;
      `,
    },
    {
      id: '002_idempotency',
      sql: `
        CREATE TABLE mediation.idempotency (
          service      text        NOT NULL,
          key          text        NOT NULL,
          request_hash text        NOT NULL,
          body         jsonb       NOT NULL,
          created_at   timestamptz NOT NULL,
          PRIMARY KEY (service, key)
        );
      `,
    },
  ],
};
