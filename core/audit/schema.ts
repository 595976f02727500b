import type { Migration } from '../migrations.ts';

/**
 * The platform-wide audit log: append-only (a trigger refuses UPDATE, DELETE and TRUNCATE for every
 * role that has not disabled it), hash-chained, with signed checkpoints kept in their own table and
 * in a file outside the database.
 */
export const auditMigrations: Migration[] = [
  {
    id: '001_audit_log',
    sql: `
      CREATE TABLE core.audit_log (
        seq        bigint      PRIMARY KEY CHECK (seq > 0),
        at         timestamptz NOT NULL,
        actor      text        NOT NULL,
        action     text        NOT NULL,
        target     text        NOT NULL,
        details    jsonb       NOT NULL DEFAULT '{}'::jsonb,
        prev_hash  text        NOT NULL,
        hash       text        NOT NULL
      );
      CREATE INDEX audit_log_target ON core.audit_log (target, seq);
      CREATE INDEX audit_log_actor ON core.audit_log (actor, seq);

      CREATE FUNCTION core.audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'core.audit_log is append-only (% refused)', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END $$;
      CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON core.audit_log
        FOR EACH ROW EXECUTE FUNCTION core.audit_log_is_append_only();
      CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON core.audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION core.audit_log_is_append_only();
      REVOKE UPDATE, DELETE, TRUNCATE ON core.audit_log FROM PUBLIC;

      CREATE TABLE core.audit_checkpoints (
        size       bigint      PRIMARY KEY,
        head       text        NOT NULL,
        signed_at  timestamptz NOT NULL,
        key_id     text        NOT NULL,
        signature  text        NOT NULL
      );
    `,
  },
  {
    id: '002_audit_lock_head',
    sql: `
      -- Takes the chain's transaction-scoped lock, then reads the head in a fresh snapshot (a new
      -- statement inside the function), so a writer always links to the latest committed entry.
      CREATE FUNCTION core.audit_lock_head(OUT seq bigint, OUT hash text) LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_advisory_xact_lock(1635083380);
        SELECT l.seq, l.hash INTO seq, hash FROM core.audit_log l ORDER BY l.seq DESC LIMIT 1;
      END $$;
    `,
  },
];
