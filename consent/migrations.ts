/**
 * The `consent` schema. Forward-only: add a migration, never edit an applied one.
 *
 * The database keeps the promises the code makes:
 *   - events (the history a resident sees) and notice versions are never updated or deleted;
 *   - a record is never deleted; its identifying fields (resident, item, services, purpose, legal
 *     basis …) never change; withdrawn and expired records never change again;
 *   - every record version has exactly the event that explains it (deferred constraint trigger), and
 *     versions advance by one;
 *   - at most one live (given or paused) record per resident, item, services, purpose and side.
 */
import type { ModuleMigrations } from '../core/index.ts';

const SQL_001 = `
-- Privacy notices (プライバシーポリシー / 利用目的の通知) per recipient service, versioned. A material
-- version makes consents given under earlier versions ask for re-consent.
CREATE TABLE consent.notices (
  notice_id     text        NOT NULL,
  version       integer     NOT NULL CHECK (version > 0),
  service_id    text        NOT NULL,
  purposes      text[]      NOT NULL CHECK (cardinality(purposes) > 0),
  title_ja      text        NOT NULL,
  title_en      text        NOT NULL,
  body_ja       text        NOT NULL,
  body_en       text        NOT NULL,
  url           text,
  material      boolean     NOT NULL,
  published_at  timestamptz NOT NULL,
  published_by  text        NOT NULL,
  PRIMARY KEY (notice_id, version)
);

-- ISO/IEC TS 27560 consent records: one per resident x data item x recipient x purpose. A data-flow
-- consent (service A passes items to service B) is a pair sharing pair_id: the source side (A may
-- provide to B) and the sink side (B may process what A provides), as in the MyData model.
CREATE TABLE consent.records (
  id                 uuid        PRIMARY KEY,
  pair_id            uuid,
  side               text        NOT NULL CHECK (side IN ('direct', 'source', 'sink')),
  resident           text        NOT NULL,
  data_item          text        NOT NULL,
  -- the service passing the data; NULL when the platform itself provides it (direct consent)
  source_service     text,
  recipient_service  text        NOT NULL,
  purpose            text        NOT NULL,
  notice_id          text        NOT NULL,
  notice_version     integer     NOT NULL,
  legal_basis        text        NOT NULL,
  language           text        NOT NULL,
  collection_method  text        NOT NULL,
  withdrawal_method  text        NOT NULL,
  valid_from         timestamptz NOT NULL,
  valid_until        timestamptz,
  state              text        NOT NULL CHECK (state IN ('given', 'paused', 'withdrawn', 'expired')),
  version            integer     NOT NULL CHECK (version > 0),
  created_at         timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL,
  FOREIGN KEY (notice_id, notice_version) REFERENCES consent.notices,
  CHECK ((side = 'direct') = (source_service IS NULL)),
  CHECK ((side = 'direct') = (pair_id IS NULL)),
  CHECK (valid_until IS NULL OR valid_until > valid_from)
);
CREATE UNIQUE INDEX records_live ON consent.records
  (resident, recipient_service, coalesce(source_service, ''), data_item, purpose, side)
  WHERE state IN ('given', 'paused');
CREATE INDEX records_by_resident ON consent.records (resident, created_at);
CREATE INDEX records_by_pair ON consent.records (pair_id) WHERE pair_id IS NOT NULL;
CREATE INDEX records_expiring ON consent.records (valid_until) WHERE state IN ('given', 'paused');

-- The append-only history (27560 "events").
CREATE TABLE consent.events (
  record_id       uuid        NOT NULL REFERENCES consent.records,
  version         integer     NOT NULL,
  event_type      text        NOT NULL
                  CHECK (event_type IN ('given', 'renewed', 'paused', 'resumed', 'withdrawn', 'expired')),
  state           text        NOT NULL,
  notice_version  integer     NOT NULL,
  valid_until     timestamptz,
  at              timestamptz NOT NULL,
  actor           text        NOT NULL,
  PRIMARY KEY (record_id, version)
);

CREATE FUNCTION consent.forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'consent.% is append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON consent.events
  FOR EACH STATEMENT EXECUTE FUNCTION consent.forbid_change();
CREATE TRIGGER notices_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON consent.notices
  FOR EACH STATEMENT EXECUTE FUNCTION consent.forbid_change();
CREATE TRIGGER records_never_deleted BEFORE DELETE OR TRUNCATE ON consent.records
  FOR EACH STATEMENT EXECUTE FUNCTION consent.forbid_change();

CREATE FUNCTION consent.check_record_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.state IN ('withdrawn', 'expired') THEN
    RAISE EXCEPTION 'consent record % is %: that is final', OLD.id, OLD.state
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF NEW.version <> OLD.version + 1 THEN
    RAISE EXCEPTION 'consent record % must advance one version at a time', OLD.id
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF (NEW.id, NEW.pair_id, NEW.side, NEW.resident, NEW.data_item, NEW.source_service,
      NEW.recipient_service, NEW.purpose, NEW.notice_id, NEW.legal_basis, NEW.language,
      NEW.collection_method, NEW.withdrawal_method, NEW.valid_from, NEW.created_at)
     IS DISTINCT FROM
     (OLD.id, OLD.pair_id, OLD.side, OLD.resident, OLD.data_item, OLD.source_service,
      OLD.recipient_service, OLD.purpose, OLD.notice_id, OLD.legal_basis, OLD.language,
      OLD.collection_method, OLD.withdrawal_method, OLD.valid_from, OLD.created_at) THEN
    RAISE EXCEPTION 'consent record % : only state, notice version and validity may change', OLD.id
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER records_guard BEFORE UPDATE ON consent.records
  FOR EACH ROW EXECUTE FUNCTION consent.check_record_update();

-- At commit, each record's current version must be explained by its event with the same content.
CREATE FUNCTION consent.check_record_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM consent.events e
     WHERE e.record_id = NEW.id AND e.version = NEW.version AND e.state = NEW.state
       AND e.notice_version = NEW.notice_version
       AND e.valid_until IS NOT DISTINCT FROM NEW.valid_until
  ) THEN
    RAISE EXCEPTION 'consent record % version % has no matching event', NEW.id, NEW.version
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER records_have_events AFTER INSERT OR UPDATE ON consent.records
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION consent.check_record_event();

-- Idempotency-Key answers, per caller.
CREATE TABLE consent.idempotency (
  actor         text        NOT NULL,
  key           text        NOT NULL,
  request_hash  text        NOT NULL,
  status        integer     NOT NULL,
  response      jsonb       NOT NULL,
  created_at    timestamptz NOT NULL,
  PRIMARY KEY (actor, key)
);

-- Receipt signing keys (Ed25519); the private JWK is sealed (AES-256-GCM) at rest.
CREATE TABLE consent.signing_keys (
  kid             text        PRIMARY KEY,
  public_jwk      jsonb       NOT NULL,
  sealed_private  text        NOT NULL,
  created_at      timestamptz NOT NULL
);

-- Where each partner service wants consent status records (webhooks), secret sealed.
CREATE TABLE consent.webhooks (
  service_id     text        PRIMARY KEY,
  url            text        NOT NULL,
  sealed_secret  text        NOT NULL,
  updated_at     timestamptz NOT NULL
);

-- Consent status records waiting for delivery: written in the same transaction as the change.
CREATE TABLE consent.outbox (
  id               bigserial   PRIMARY KEY,
  service_id       text        NOT NULL,
  resident         text        NOT NULL,
  payload          jsonb       NOT NULL,
  created_at       timestamptz NOT NULL,
  attempts         integer     NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL,
  delivered_at     timestamptz,
  last_status      integer,
  last_error       text
);
CREATE INDEX outbox_due ON consent.outbox (next_attempt_at) WHERE delivered_at IS NULL;
`;

// Service link records (MyData): a resident's account at a partner service, linked to their common
// ID by a one-time code the partner showed them. Never deleted; unlinking sets unlinked_at once.
const SQL_004 = `
CREATE TABLE consent.link_codes (
  code_hash    text        PRIMARY KEY,
  service_id   text        NOT NULL,
  account_ref  text        NOT NULL,
  created_at   timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL,
  used_at      timestamptz
);
CREATE TABLE consent.service_links (
  id           uuid        PRIMARY KEY,
  resident     text        NOT NULL,
  service_id   text        NOT NULL,
  account_ref  text        NOT NULL,
  method       text        NOT NULL CHECK (method IN ('link-code')),
  linked_at    timestamptz NOT NULL,
  unlinked_at  timestamptz,
  unlinked_by  text,
  CHECK ((unlinked_at IS NULL) = (unlinked_by IS NULL))
);
CREATE UNIQUE INDEX service_links_live_resident ON consent.service_links (resident, service_id)
  WHERE unlinked_at IS NULL;
CREATE UNIQUE INDEX service_links_live_account ON consent.service_links (service_id, account_ref)
  WHERE unlinked_at IS NULL;
CREATE INDEX service_links_by_resident ON consent.service_links (resident, linked_at);

CREATE FUNCTION consent.check_link_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.unlinked_at IS NOT NULL
     OR (NEW.id, NEW.resident, NEW.service_id, NEW.account_ref, NEW.method, NEW.linked_at)
        IS DISTINCT FROM (OLD.id, OLD.resident, OLD.service_id, OLD.account_ref, OLD.method, OLD.linked_at) THEN
    RAISE EXCEPTION 'service link %: only unlinking, once, may change it', OLD.id
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER service_links_guard BEFORE UPDATE ON consent.service_links
  FOR EACH ROW EXECUTE FUNCTION consent.check_link_update();
CREATE TRIGGER service_links_never_deleted BEFORE DELETE OR TRUNCATE ON consent.service_links
  FOR EACH STATEMENT EXECUTE FUNCTION consent.forbid_change();
`;

export const consentMigrations: ModuleMigrations = {
  module: 'consent',
  schema: 'consent',
  migrations: [
    { id: '001_consent_records', sql: SQL_001 },
    // The decision reads every record of a key (live or ended) with one index probe.
    {
      id: '002_decision_index',
      sql: `CREATE INDEX records_by_key ON consent.records
              (resident, recipient_service, data_item, purpose, coalesce(source_service, ''));`,
    },
    // Events written at the same instant (one transaction, or a frozen clock) keep their order.
    { id: '003_event_order', sql: 'ALTER TABLE consent.events ADD COLUMN seq bigserial;' },
    { id: '004_service_links', sql: SQL_004 },
    // A resident may also link by signing in at the partner (OAuth/OIDC redirect, portal/consent).
    {
      id: '005_link_by_redirect',
      sql: `ALTER TABLE consent.service_links DROP CONSTRAINT service_links_method_check;
            ALTER TABLE consent.service_links ADD CONSTRAINT service_links_method_check
              CHECK (method IN ('link-code', 'oauth-redirect'));`,
    },
  ],
};
