/**
 * The `analytics` schema: aggregate tables filled from the other modules' services (never from their
 * tables), the analysts' saved charts (versioned), dashboards, publications, and the read-only role
 * BI tools (Apache Superset) log in with. The role sees the aggregate tables only, never the
 * catalogue tables.
 */
import type { ModuleMigrations } from '../core/index.ts';

/** The read-only role for BI tools; a deployment gives it LOGIN and a password (see README). */
export const BI_ROLE = 'tsunagu_analytics_ro';

/** The aggregate tables the BI role may read (one Superset dataset each). */
export const BI_TABLES = [
  'points_flow_daily',
  'points_flow_monthly',
  'points_kpi_daily',
  'broker_entity_types',
  'broker_entities_area',
  'visits_daily',
] as const;

const AGGREGATES = `
CREATE TABLE analytics.points_flow_daily (
  day date NOT NULL,
  currency text NOT NULL,
  point_type text NOT NULL,
  issuer text NOT NULL,
  flow text NOT NULL CHECK (flow IN ('issued', 'used', 'expired')),
  merchant text NOT NULL DEFAULT '',
  place text NOT NULL DEFAULT '',
  amount numeric NOT NULL
);
CREATE INDEX points_flow_daily_key ON analytics.points_flow_daily (currency, day);
COMMENT ON TABLE analytics.points_flow_daily IS 'Points issued, used and expired per JST day, point type, issuer, merchant and place (amounts only).';

CREATE TABLE analytics.points_kpi_daily (
  day date NOT NULL,
  currency text NOT NULL,
  active_residents integer NOT NULL,
  active_merchants integer NOT NULL,
  payments integer NOT NULL,
  issued numeric NOT NULL,
  used numeric NOT NULL,
  expired numeric NOT NULL,
  PRIMARY KEY (currency, day)
);
COMMENT ON TABLE analytics.points_kpi_daily IS 'Daily KPIs per currency; active_residents counts the individuals behind a row.';

CREATE TABLE analytics.broker_entity_types (
  service text NOT NULL,
  entity_type text NOT NULL,
  entities integer NOT NULL,
  PRIMARY KEY (service, entity_type)
);
COMMENT ON TABLE analytics.broker_entity_types IS 'NGSIv2 entities per tenant (Fiware-Service) and type.';

CREATE TABLE analytics.refresh (
  source text NOT NULL,
  scope text NOT NULL,
  refreshed_at timestamptz NOT NULL,
  PRIMARY KEY (source, scope)
);
`;

const CATALOGUE = `
CREATE TABLE analytics.chart (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  title text NOT NULL,
  current_version integer NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE TABLE analytics.chart_version (
  chart_id bigint NOT NULL REFERENCES analytics.chart (id),
  version integer NOT NULL,
  title text NOT NULL,
  definition jsonb NOT NULL,
  vega_lite jsonb NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (chart_id, version)
);
CREATE TABLE analytics.dashboard (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  slug text NOT NULL UNIQUE,
  title text NOT NULL,
  layout jsonb NOT NULL,
  version integer NOT NULL,
  created_by text NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE TABLE analytics.publication (
  token text PRIMARY KEY,
  chart_id bigint NOT NULL REFERENCES analytics.chart (id),
  chart_version integer NOT NULL,
  k integer NOT NULL CHECK (k >= 2),
  audience text NOT NULL CHECK (audience IN ('residents', 'partners')),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  revoked_at timestamptz,
  FOREIGN KEY (chart_id, chart_version) REFERENCES analytics.chart_version (chart_id, version)
);
`;

// Roles are cluster-wide (the table list is frozen: the migration's checksum must not change; later
// migrations grant their own tables): the first database to migrate creates and configures the role; another
// database migrating at the same moment tolerates losing that race.
const BI_ROLE_SQL = `
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${BI_ROLE}') THEN
    CREATE ROLE ${BI_ROLE} NOLOGIN;
    ALTER ROLE ${BI_ROLE} SET default_transaction_read_only = on;
    ALTER ROLE ${BI_ROLE} SET search_path = analytics;
    ALTER ROLE ${BI_ROLE} SET statement_timeout = '30s';
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO ${BI_ROLE}', current_database()); END $$;
GRANT USAGE ON SCHEMA analytics TO ${BI_ROLE};
${['points_flow_daily', 'points_kpi_daily', 'broker_entity_types'].map((t) => `GRANT SELECT ON analytics.${t} TO ${BI_ROLE};`).join('\n')}
`;

// The monthly rollup of points_flow_daily: rebuilt per (currency, month) whenever a day of that
// month is refreshed, so a query over years reads a few thousand rows instead of millions.
const ROLLUP = `
CREATE TABLE analytics.points_flow_monthly (
  month date NOT NULL CHECK (extract(day FROM month) = 1),
  currency text NOT NULL,
  point_type text NOT NULL,
  issuer text NOT NULL,
  flow text NOT NULL,
  merchant text NOT NULL,
  place text NOT NULL,
  amount numeric NOT NULL,
  PRIMARY KEY (currency, month, point_type, issuer, flow, merchant, place)
);
COMMENT ON TABLE analytics.points_flow_monthly IS 'points_flow_daily summed per JST month (maintained incrementally).';
GRANT SELECT ON analytics.points_flow_monthly TO ${BI_ROLE};
`;

// Maps and breakdowns per area and age band: GeoJSON boundary layers (no tile server needed),
// NGSIv2 entities counted per boundary area, facility visits (aggregates only, from the visits
// port), KPI targets for the operator dashboard's tiles.
const GEO_VISITS = `
CREATE TABLE analytics.boundary_layer (
  name text PRIMARY KEY,
  title text NOT NULL,
  area_property text NOT NULL,
  geojson jsonb NOT NULL,
  areas integer NOT NULL,
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE TABLE analytics.broker_entities_area (
  layer text NOT NULL,
  area text NOT NULL,
  service text NOT NULL,
  entity_type text NOT NULL,
  entities integer NOT NULL,
  PRIMARY KEY (layer, area, service, entity_type)
);
COMMENT ON TABLE analytics.broker_entities_area IS 'NGSIv2 entities with a location per boundary area (layer), tenant and type.';
CREATE TABLE analytics.visits_daily (
  day date NOT NULL,
  facility text NOT NULL,
  facility_kind text NOT NULL,
  area text NOT NULL DEFAULT '',
  age_band text NOT NULL DEFAULT '',
  visitors integer NOT NULL,
  visits integer NOT NULL,
  PRIMARY KEY (day, facility, facility_kind, area, age_band)
);
COMMENT ON TABLE analytics.visits_daily IS 'Facility visits per JST day, facility, area and age band; visitors counts the individuals behind a row.';
CREATE TABLE analytics.kpi_target (
  currency text NOT NULL,
  kpi text NOT NULL CHECK (kpi IN ('issued', 'used', 'payments', 'circulation', 'expired')),
  month date NOT NULL CHECK (extract(day FROM month) = 1),
  target numeric NOT NULL CHECK (target >= 0),
  PRIMARY KEY (currency, kpi, month)
);
GRANT SELECT ON analytics.broker_entities_area, analytics.visits_daily TO ${BI_ROLE};
`;

export const dashboardsMigrations: ModuleMigrations = {
  module: 'dashboards',
  schema: 'analytics',
  migrations: [
    { id: '001_aggregates', sql: AGGREGATES },
    { id: '002_catalogue', sql: CATALOGUE },
    { id: '003_bi_role', sql: BI_ROLE_SQL },
    { id: '004_monthly_rollup', sql: ROLLUP },
    { id: '005_geo_visits_targets', sql: GEO_VISITS },
  ],
};
