/**
 * The card-reader adapter's tables in schema `adapters` (migration set `adapters/card_readers`):
 * facilities and their terminals, platform-issued city IDs (stored as keyed hashes only), guardians,
 * community-bus discount eligibility, point rules, visits, the shelter presence behind the live
 * rosters, and the guardians' notice feed.
 */
import type { ModuleMigrations } from '../../core/index.ts';

export const cardReadersMigrations: ModuleMigrations = {
  module: 'adapters/card_readers',
  schema: 'adapters',
  migrations: [
    {
      id: '001_card_readers',
      sql: `
        CREATE TABLE adapters.card_facility (
          code          text        PRIMARY KEY CHECK (code ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
          kind          text        NOT NULL CHECK (kind IN ('nursery', 'library', 'bus', 'children_hall',
                                                   'childcare_support', 'gym', 'hall', 'shelter', 'registration')),
          name          text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
          municipality  text        NOT NULL,
          capacity      integer     CHECK (capacity > 0),
          created_at    timestamptz NOT NULL
        );

        CREATE TABLE adapters.card_terminal (
          id             text        PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
          facility       text        NOT NULL REFERENCES adapters.card_facility,
          -- the HMAC secret, sealed (AES-256-GCM); shown once when issued
          secret_sealed  text        NOT NULL,
          created_at     timestamptz NOT NULL,
          created_by     text        NOT NULL,
          revoked_at     timestamptz,
          revoked_by     text,
          last_seen_at   timestamptz
        );

        -- City IDs written into the card's free area: only a keyed hash (HMAC) is kept.
        CREATE TABLE adapters.card_city_id (
          id_hash     text        PRIMARY KEY,
          resident    text        NOT NULL,
          issued_at   timestamptz NOT NULL,
          revoked_at  timestamptz
        );
        CREATE UNIQUE INDEX card_city_id_active ON adapters.card_city_id (resident) WHERE revoked_at IS NULL;

        CREATE TABLE adapters.card_guardian (
          child       text        NOT NULL,
          guardian    text        NOT NULL,
          -- how notices name the child (e.g. a given name), sealed
          label_sealed text       NOT NULL,
          created_at  timestamptz NOT NULL,
          PRIMARY KEY (child, guardian)
        );

        CREATE TABLE adapters.card_bus_eligibility (
          resident     text        NOT NULL,
          category     text        NOT NULL CHECK (category ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
          valid_from   date        NOT NULL,
          valid_until  date        NOT NULL CHECK (valid_until >= valid_from),
          PRIMARY KEY (resident, category, valid_from)
        );

        CREATE TABLE adapters.card_rule (
          facility_kind  text        NOT NULL,
          action         text        NOT NULL,
          points         integer     NOT NULL CHECK (points > 0),
          currency       text        NOT NULL,
          pool           text        NOT NULL,
          point_type     text        NOT NULL,
          once_per_day   boolean     NOT NULL DEFAULT true,
          active         boolean     NOT NULL DEFAULT true,
          updated_at     timestamptz NOT NULL,
          PRIMARY KEY (facility_kind, action)
        );

        CREATE TABLE adapters.card_visit (
          id           bigserial   PRIMARY KEY,
          terminal     text        NOT NULL,
          touch_id     text        NOT NULL,
          facility     text        NOT NULL REFERENCES adapters.card_facility,
          kind         text        NOT NULL,
          action       text        NOT NULL,
          resident     text        NOT NULL,
          card_type    text        NOT NULL,
          at           timestamptz NOT NULL,
          jst_day      date        NOT NULL,
          points       integer     NOT NULL DEFAULT 0,
          journal_id   text,
          -- community bus: the fare-discount category found, or NULL when not eligible
          discount     text,
          received_at  timestamptz NOT NULL,
          UNIQUE (terminal, touch_id)
        );
        CREATE INDEX card_visit_resident ON adapters.card_visit (resident, at DESC, id DESC);
        CREATE INDEX card_visit_facility_day ON adapters.card_visit (facility, jst_day);

        -- Who is in which shelter now: one open row per resident (checking in elsewhere closes it).
        CREATE TABLE adapters.card_shelter_presence (
          id              bigserial   PRIMARY KEY,
          shelter         text        NOT NULL REFERENCES adapters.card_facility,
          resident        text        NOT NULL,
          checked_in_at   timestamptz NOT NULL,
          checked_out_at  timestamptz
        );
        CREATE UNIQUE INDEX card_shelter_present ON adapters.card_shelter_presence (resident)
          WHERE checked_out_at IS NULL;
        CREATE INDEX card_shelter_roster ON adapters.card_shelter_presence (shelter) WHERE checked_out_at IS NULL;

        -- The guardians' real-time feed (nursery arrival/departure); pushed through the outbox too.
        CREATE TABLE adapters.card_notice (
          id          bigserial   PRIMARY KEY,
          guardian    text        NOT NULL,
          child       text        NOT NULL,
          facility    text        NOT NULL,
          action      text        NOT NULL,
          at          timestamptz NOT NULL,
          visit_id    bigint      NOT NULL REFERENCES adapters.card_visit
        );
        CREATE INDEX card_notice_guardian ON adapters.card_notice (guardian, id DESC);
      `,
    },
  ],
};
