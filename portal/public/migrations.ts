/**
 * The directory's tables (schema `portal`, migration set `portal/public`).
 *
 * `portal.shops` is the public profile of each merchant the points module registered, keyed by its
 * merchant id. The points module stays the owner of who is a merchant (id, municipality, ledger
 * name, active); those columns are a read model refreshed from `points.directory()`. Everything a
 * shop says about itself (name shown, category, address, hours, …) is owned here and changes only
 * through `portal.shop_changes`: the merchant submits, staff approve or reject.
 *
 * Search runs on `search_text` (NFKC, lower case; kept by a trigger) with a pg_trgm GIN index when
 * the extension can be created (it ships with PostgreSQL; an external database may refuse it, and
 * search then scans, which is still fast for a city's few thousand shops).
 */
import type { Migration } from '../../core/index.ts';

export const PUBLIC_MIGRATIONS: Migration[] = [
  {
    id: '001_directory',
    sql: `
      CREATE TABLE portal.shops (
        merchant_id   text PRIMARY KEY,
        municipality  text NOT NULL,
        ledger_name   text NOT NULL,
        active        boolean NOT NULL,
        synced_at     timestamptz NOT NULL,
        name          text,
        name_kana     text,
        name_en       text,
        category      text,
        area          text,
        postal_code   text,
        address       text,
        hours         text,
        phone         text,
        url           text,
        description   text,
        lat           double precision CHECK (lat BETWEEN -90 AND 90),
        lon           double precision CHECK (lon BETWEEN -180 AND 180),
        version       integer NOT NULL DEFAULT 0,
        approved_at   timestamptz,
        approved_by   text,
        search_text   text NOT NULL DEFAULT ''
      );
      CREATE INDEX shops_filter ON portal.shops (municipality, category, area) WHERE active;
      CREATE INDEX shops_order ON portal.shops (lower(coalesce(name_kana, name, ledger_name)), merchant_id) WHERE active;

      CREATE FUNCTION portal.shops_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.search_text := lower(normalize(concat_ws(' ', NEW.name, NEW.ledger_name, NEW.name_kana, NEW.name_en), NFKC));
        RETURN NEW;
      END $$;
      CREATE TRIGGER shops_search_text BEFORE INSERT OR UPDATE ON portal.shops
        FOR EACH ROW EXECUTE FUNCTION portal.shops_search_text();

      DO $$
      BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
      EXCEPTION WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
        RAISE NOTICE 'pg_trgm unavailable: shop search scans';
      END $$;
      DO $$
      DECLARE s text;
      BEGIN
        SELECT n.nspname INTO s FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
         WHERE e.extname = 'pg_trgm';
        IF s IS NOT NULL THEN
          EXECUTE format('CREATE INDEX shops_search ON portal.shops USING gin (search_text %I.gin_trgm_ops)', s);
        END IF;
      END $$;

      CREATE TABLE portal.shop_changes (
        id            bigserial PRIMARY KEY,
        merchant_id   text NOT NULL REFERENCES portal.shops,
        base_version  integer NOT NULL,
        profile       jsonb NOT NULL,
        status        text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'superseded')),
        submitted_by  text NOT NULL,
        submitted_at  timestamptz NOT NULL,
        decided_by    text,
        decided_at    timestamptz,
        reason        text,
        CHECK ((status = 'pending') = (decided_at IS NULL))
      );
      CREATE UNIQUE INDEX shop_changes_one_pending ON portal.shop_changes (merchant_id) WHERE status = 'pending';
      CREATE INDEX shop_changes_by_merchant ON portal.shop_changes (merchant_id, id DESC);

      CREATE TABLE portal.earn_activities (
        id            bigserial PRIMARY KEY,
        municipality  text NOT NULL,
        kind          text NOT NULL,
        title         text NOT NULL,
        title_en      text,
        description   text,
        starts_at     timestamptz NOT NULL,
        ends_at       timestamptz CHECK (ends_at >= starts_at),
        place_name    text,
        address       text,
        lat           double precision CHECK (lat BETWEEN -90 AND 90),
        lon           double precision CHECK (lon BETWEEN -180 AND 180),
        reward        text,
        url           text,
        published     boolean NOT NULL DEFAULT true,
        created_by    text NOT NULL,
        created_at    timestamptz NOT NULL,
        updated_at    timestamptz NOT NULL
      );
      CREATE INDEX earn_upcoming ON portal.earn_activities (coalesce(ends_at, starts_at)) WHERE published;
    `,
  },
];
