/**
 * The SDGs adapter's tables in schema `adapters` (migration set `adapters/sdgs`): point rules per
 * activity, every activity acted on, and the SDGs meter per resident and per city per goal. The
 * meter rows are sums kept in the same transaction as the activity row that changes them.
 */
import type { ModuleMigrations } from '../../core/index.ts';

export const sdgsMigrations: ModuleMigrations = {
  module: 'adapters/sdgs',
  schema: 'adapters',
  migrations: [
    {
      id: '001_sdgs',
      sql: `
        CREATE TABLE adapters.sdgs_rule (
          activity             text        PRIMARY KEY CHECK (activity ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
          name                 text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
          municipality         text        NOT NULL,
          -- the goals this activity serves; an event may name some of them
          goals                smallint[]  NOT NULL CHECK (cardinality(goals) BETWEEN 1 AND 17
                                                          AND goals <@ '{1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17}'),
          currency             text        NOT NULL,
          pool                 text        NOT NULL,
          point_type           text        NOT NULL,
          -- points = floor(amount × points_per_unit), then the caps
          points_per_unit      integer     NOT NULL CHECK (points_per_unit >= 0),
          max_points_per_event integer     CHECK (max_points_per_event > 0),
          daily_cap            integer     CHECK (daily_cap > 0),
          active               boolean     NOT NULL DEFAULT true,
          updated_at           timestamptz NOT NULL
        );

        CREATE TABLE adapters.sdgs_activity (
          id            bigserial   PRIMARY KEY,
          source        text        NOT NULL,
          event_id      text        NOT NULL,
          resident      text        NOT NULL,
          activity      text        NOT NULL REFERENCES adapters.sdgs_rule,
          municipality  text        NOT NULL,
          goals         smallint[]  NOT NULL,
          amount        numeric(14, 2) NOT NULL CHECK (amount >= 0),
          points        integer     NOT NULL CHECK (points >= 0),
          journal_id    text,
          -- why fewer points than the rule gives: 'daily-cap', 'pool-exhausted'
          limited_by    text,
          occurred_at   timestamptz NOT NULL,
          jst_day       date        NOT NULL,
          received_at   timestamptz NOT NULL,
          UNIQUE (source, event_id)
        );
        CREATE INDEX sdgs_activity_resident ON adapters.sdgs_activity (resident, occurred_at DESC, id DESC);
        CREATE INDEX sdgs_activity_day ON adapters.sdgs_activity (resident, activity, jst_day);

        CREATE TABLE adapters.sdgs_meter_resident (
          resident    text     NOT NULL,
          goal        smallint NOT NULL CHECK (goal BETWEEN 1 AND 17),
          points      bigint   NOT NULL DEFAULT 0 CHECK (points >= 0),
          activities  integer  NOT NULL DEFAULT 0 CHECK (activities >= 0),
          PRIMARY KEY (resident, goal)
        );

        CREATE TABLE adapters.sdgs_meter_city (
          municipality text     NOT NULL,
          goal         smallint NOT NULL CHECK (goal BETWEEN 1 AND 17),
          points       bigint   NOT NULL DEFAULT 0 CHECK (points >= 0),
          activities   integer  NOT NULL DEFAULT 0 CHECK (activities >= 0),
          PRIMARY KEY (municipality, goal)
        );
      `,
    },
  ],
};
