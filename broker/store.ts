/**
 * PostgreSQL storage of entities. Writes are optimistic: a change reads the row with its `version`
 * and writes only if nobody changed it meanwhile (callers retry), so one update costs two round
 * trips and needs no explicit transaction.
 */
import { createHash } from 'node:crypto';
import type { Database } from '../core/index.ts';
import { badRequest } from './errors.ts';
import { parseJson } from './json.ts';
import type { Entity, StoredAttr } from './model.ts';
import { distanceTo, type Geometry, type GeoQuery, geoMatches, type Position } from './query/geo.ts';
import { type Item, Params, toSql } from './query/simple_query.ts';
import type { PathScope } from './tenancy.ts';

const COLUMNS = `e.tenant, e.id, e.type, e.service_path, e.attrs::text AS attrs, e.attr_names, e.created_at, e.modified_at,
  e.expires_at, e.version, e.geo, e.geo_min_lon, e.geo_min_lat, e.geo_max_lon, e.geo_max_lat`;

interface Row {
  tenant: string;
  id: string;
  type: string;
  service_path: string;
  /** jsonb as text, parsed with parseJson so big integers stay exact */
  attrs: string;
  attr_names: string[];
  created_at: Date;
  modified_at: Date;
  expires_at: Date | null;
  geo: Geometry | null;
  geo_min_lon: number | null;
  geo_min_lat: number | null;
  geo_max_lon: number | null;
  geo_max_lat: number | null;
  version: number;
}

function toEntity(row: Row): Entity {
  return {
    tenant: row.tenant,
    id: row.id,
    type: row.type,
    servicePath: row.service_path,
    attrs: parseJson(row.attrs) as Record<string, StoredAttr>,
    attrNames: row.attr_names,
    created: row.created_at.getTime(),
    modified: row.modified_at.getTime(),
    expires: row.expires_at ? row.expires_at.getTime() : null,
    location: row.geo
      ? { geometry: row.geo, bbox: [row.geo_min_lon!, row.geo_min_lat!, row.geo_max_lon!, row.geo_max_lat!] }
      : null,
    version: row.version,
  };
}

export interface OrderToken {
  name: string;
  descending: boolean;
}

export interface Selector {
  id?: string | undefined;
  idPattern?: string | undefined;
  type?: string | undefined;
  typePattern?: string | undefined;
}

export interface EntityFilter {
  tenant: string;
  scopes: readonly PathScope[];
  ids?: string[] | undefined;
  idPattern?: string | undefined;
  types?: string[] | undefined;
  typePattern?: string | undefined;
  /** Alternatives from `POST /v2/op/query` (any may match). */
  selectors?: Selector[] | undefined;
  q?: Item[] | undefined;
  mq?: Item[] | undefined;
  orderBy?: OrderToken[] | undefined;
  geo?: GeoQuery | undefined;
  limit: number;
  offset: number;
  count: boolean;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function scopeSql(scopes: readonly PathScope[], p: Params): string {
  if (scopes.some((s) => s.subtree && s.path === '/')) return 'true';
  const parts = scopes.map((s) =>
    s.subtree
      ? `(e.service_path = ${p.add(s.path)} OR e.service_path LIKE ${p.add(`${escapeLike(s.path)}/%`)})`
      : `e.service_path = ${p.add(s.path)}`,
  );
  return `(${parts.join(' OR ')})`;
}

const ORDER_COLUMNS: Record<string, string> = {
  id: 'e.id',
  type: 'e.type',
  dateCreated: 'e.created_at',
  dateModified: 'e.modified_at',
  dateExpires: 'e.expires_at',
};

function orderSql(tokens: readonly OrderToken[], p: Params): string {
  const parts: string[] = [];
  for (const t of tokens) {
    const dir = t.descending ? 'DESC' : 'ASC';
    const column = ORDER_COLUMNS[t.name];
    if (column) {
      parts.push(`${column} ${dir}`);
      continue;
    }
    // Orion's order of JSON types: null < number < string < object < array < boolean.
    const v = `(e.attrs->${p.add(t.name)}->'value')`;
    parts.push(
      `(CASE jsonb_typeof(${v}) WHEN 'number' THEN 1 WHEN 'string' THEN 2 WHEN 'object' THEN 3 WHEN 'array' THEN 4 WHEN 'boolean' THEN 5 ELSE 0 END) ${dir}`,
      `${v} ${dir}`,
    );
  }
  parts.push('e.seq');
  return parts.join(', ');
}

export interface Store {
  insert(entity: Entity): Promise<boolean>;
  /**
   * Creates the entity or appends its attributes to the existing one in one statement (Orion's
   * upsert), merging metadata unless `overrideMetadata`. Attributes may carry `typeGiven: false`
   * to keep an existing attribute's type. Used when no subscription needs the previous state.
   */
  upsertMerge(entity: Entity, overrideMetadata: boolean): Promise<void>;
  update(entity: Entity): Promise<boolean>;
  remove(entity: Entity): Promise<boolean>;
  /** Entities with this id (and type) inside the scopes; at most two, enough to detect ambiguity. */
  find(tenant: string, id: string, type: string | undefined, scopes: readonly PathScope[]): Promise<Entity[]>;
  query(filter: EntityFilter): Promise<{ entities: Entity[]; total: number | null }>;
  types(tenant: string, scopes: readonly PathScope[], type?: string): Promise<TypeInfo[]>;
  purgeExpired(): Promise<number>;
}

export interface TypeInfo {
  type: string;
  count: number;
  attrs: Record<string, string[]>;
}

const INSERT_COLUMNS = `tenant, id, type, service_path, attrs, attr_names, created_at, modified_at, expires_at,
  geo, geo_min_lon, geo_min_lat, geo_max_lon, geo_max_lat`;
const INSERT_VALUES = '$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14';
const GEO_SET = `geo = $10, geo_min_lon = $11, geo_min_lat = $12, geo_max_lon = $13, geo_max_lat = $14`;

/** $1…$14 of the statements above. */
function rowValues(e: Entity): unknown[] {
  return [
    e.tenant,
    e.id,
    e.type,
    e.servicePath,
    JSON.stringify(e.attrs),
    e.attrNames,
    new Date(e.created),
    new Date(e.modified),
    e.expires === null ? null : new Date(e.expires),
    e.location ? JSON.stringify(e.location.geometry) : null,
    ...(e.location ? e.location.bbox : [null, null, null, null]),
  ];
}

export function createStore(db: Database, now: () => Date): Store {
  /**
   * The hot single-entity statements run as named prepared statements: PostgreSQL parses and plans
   * them once per connection instead of on every request.
   */
  const names = new Map<string, string>();
  function prepared(text: string, values: unknown[]) {
    let name = names.get(text);
    if (!name) {
      name = `broker_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
      names.set(text, name);
    }
    return db.pool.query({ name, text, values });
  }

  const liveSql = (p: Params) => `(e.expires_at IS NULL OR e.expires_at > ${p.add(now())})`;

  function filterSql(f: EntityFilter, p: Params): string {
    const where = [`e.tenant = ${p.add(f.tenant)}`, scopeSql(f.scopes, p), liveSql(p)];
    if (f.ids) where.push(`e.id = ANY(${p.add(f.ids)}::text[])`);
    if (f.idPattern !== undefined) where.push(`e.id ~ ${p.add(f.idPattern)}`);
    if (f.types) where.push(`e.type = ANY(${p.add(f.types)}::text[])`);
    if (f.typePattern !== undefined) where.push(`e.type ~ ${p.add(f.typePattern)}`);
    if (f.selectors && f.selectors.length > 0) {
      const alternatives = f.selectors.map((s) => {
        const and = ['true'];
        if (s.id !== undefined) and.push(`e.id = ${p.add(s.id)}`);
        if (s.idPattern !== undefined) and.push(`e.id ~ ${p.add(s.idPattern)}`);
        if (s.type !== undefined) and.push(`e.type = ${p.add(s.type)}`);
        if (s.typePattern !== undefined) and.push(`e.type ~ ${p.add(s.typePattern)}`);
        return `(${and.join(' AND ')})`;
      });
      where.push(`(${alternatives.join(' OR ')})`);
    }
    if (f.q && f.q.length > 0) where.push(toSql(f.q, p));
    if (f.mq && f.mq.length > 0) where.push(toSql(f.mq, p, true));
    return where.join(' AND ');
  }

  async function run<R extends object>(sql: string, values: unknown[]): Promise<R[]> {
    try {
      return (await db.query(sql, values)).rows as R[];
    } catch (error) {
      const code = (error as { code?: string }).code;
      // invalid_regular_expression: a bad idPattern, typePattern or `~=` pattern.
      if (code === '2201B') throw badRequest('Invalid regex');
      throw error;
    }
  }

  /** Geo-queries: bounding-box prefilter in SQL, exact relation here, then order and page. */
  async function geoQuery(
    f: EntityFilter,
    geo: GeoQuery,
  ): Promise<{ entities: Entity[]; total: number | null }> {
    const p = new Params();
    let where = `${filterSql(f, p)} AND e.geo IS NOT NULL`;
    if (geo.prefilter) {
      const [minLon, minLat, maxLon, maxLat] = geo.prefilter;
      where += ` AND e.geo_max_lon >= ${p.add(minLon)} AND e.geo_min_lon <= ${p.add(maxLon)}
        AND e.geo_max_lat >= ${p.add(minLat)} AND e.geo_min_lat <= ${p.add(maxLat)}`;
    }
    const tokens = (f.orderBy ?? []).filter((t) => t.name !== 'geo:distance');
    const rows = await run<Row>(
      `SELECT ${COLUMNS} FROM broker.entities e WHERE ${where} ORDER BY ${orderSql(tokens, p)}`,
      p.values,
    );
    let entities = rows.map(toEntity).filter((e) => geoMatches(geo, e.location!.geometry));
    const byDistance = f.orderBy?.find((t) => t.name === 'geo:distance');
    // Orion returns near results closest first unless another order is asked for.
    if (byDistance || (geo.rel === 'near' && !f.orderBy)) {
      const at = geo.geometry.coordinates as Position;
      const d = new Map(entities.map((e) => [e, distanceTo(at, e.location!.geometry)]));
      entities = entities.sort((a, b) => (d.get(a)! - d.get(b)!) * (byDistance?.descending ? -1 : 1));
    }
    return {
      entities: entities.slice(f.offset, f.offset + f.limit),
      total: f.count ? entities.length : null,
    };
  }

  return {
    async insert(e) {
      // One statement: a live entity with the same key wins (0 rows); an expired leftover is replaced.
      const { rowCount } = await prepared(
        `INSERT INTO broker.entities AS old (${INSERT_COLUMNS}) VALUES (${INSERT_VALUES})
         ON CONFLICT (tenant, id, type, service_path) DO UPDATE SET attrs = EXCLUDED.attrs,
           attr_names = EXCLUDED.attr_names, created_at = EXCLUDED.created_at, modified_at = EXCLUDED.modified_at,
           expires_at = EXCLUDED.expires_at, version = old.version + 1, seq = nextval('broker.entities_seq_seq'),
           ${GEO_SET}
         WHERE old.expires_at <= $15`,
        [...rowValues(e), now()],
      );
      return rowCount === 1;
    },
    async upsertMerge(e, overrideMetadata) {
      await prepared(
        `INSERT INTO broker.entities AS old (${INSERT_COLUMNS})
         VALUES (${INSERT_VALUES.replace('$5', 'broker.strip_type_given($5)')})
         ON CONFLICT (tenant, id, type, service_path) DO UPDATE SET
           attrs = CASE WHEN old.expires_at <= $15 THEN EXCLUDED.attrs ELSE broker.merge_attrs(old.attrs, $5, $16) END,
           attr_names = CASE WHEN old.expires_at <= $15 THEN EXCLUDED.attr_names
             ELSE old.attr_names || ARRAY(SELECT n FROM unnest(EXCLUDED.attr_names) n WHERE n <> ALL (old.attr_names)) END,
           created_at = CASE WHEN old.expires_at <= $15 THEN EXCLUDED.created_at ELSE old.created_at END,
           modified_at = EXCLUDED.modified_at,
           expires_at = CASE WHEN $5::jsonb ? 'dateExpires' OR old.expires_at <= $15 THEN EXCLUDED.expires_at ELSE old.expires_at END,
           version = old.version + 1`,
        [...rowValues(e), now(), overrideMetadata],
      );
    },
    async update(e) {
      const { rowCount } = await prepared(
        `UPDATE broker.entities AS old SET attrs = $5, attr_names = $6, created_at = $7, modified_at = $8, expires_at = $9,
           version = version + 1, ${GEO_SET}
         WHERE tenant = $1 AND id = $2 AND type = $3 AND service_path = $4 AND version = $15`,
        [...rowValues(e), e.version],
      );
      return rowCount === 1;
    },
    async remove(e) {
      const { rowCount } = await prepared(
        `DELETE FROM broker.entities WHERE tenant = $1 AND id = $2 AND type = $3 AND service_path = $4 AND version = $5`,
        [e.tenant, e.id, e.type, e.servicePath, e.version],
      );
      return rowCount === 1;
    },
    async find(tenant, id, type, scopes) {
      const p = new Params();
      const where = [`e.tenant = ${p.add(tenant)}`, `e.id = ${p.add(id)}`, scopeSql(scopes, p), liveSql(p)];
      if (type !== undefined) where.push(`e.type = ${p.add(type)}`);
      const { rows } = await prepared(
        // No ORDER BY: the planner would walk the (tenant, type, seq) index instead of the key.
        `SELECT ${COLUMNS} FROM broker.entities e WHERE ${where.join(' AND ')} LIMIT 2`,
        p.values,
      );
      return (rows as Row[]).map(toEntity);
    },
    async query(f) {
      if (f.geo) return geoQuery(f, f.geo);
      const p = new Params();
      const where = filterSql(f, p);
      const order = orderSql(f.orderBy ?? [], p);
      const rows = await run<Row>(
        `SELECT ${COLUMNS} FROM broker.entities e WHERE ${where} ORDER BY ${order}
         LIMIT ${p.add(f.limit)} OFFSET ${p.add(f.offset)}`,
        p.values,
      );
      let total: number | null = null;
      if (f.count) {
        const c = new Params();
        const counted = await run<{ n: string }>(
          `SELECT count(*) AS n FROM broker.entities e WHERE ${filterSql(f, c)}`,
          c.values,
        );
        total = Number(counted[0]?.n ?? 0);
      }
      return { entities: rows.map(toEntity), total };
    },
    async types(tenant, scopes, type) {
      const p = new Params();
      const where = [`e.tenant = ${p.add(tenant)}`, scopeSql(scopes, p), liveSql(p)];
      if (type !== undefined) where.push(`e.type = ${p.add(type)}`);
      const counts = await run<{ type: string; n: string }>(
        `SELECT e.type, count(*) AS n FROM broker.entities e WHERE ${where.join(' AND ')} GROUP BY e.type ORDER BY e.type`,
        p.values,
      );
      const attrs = await run<{ type: string; name: string; types: string[] }>(
        `SELECT e.type, a.key AS name, array_agg(DISTINCT a.value->>'type' ORDER BY a.value->>'type') AS types
           FROM broker.entities e, jsonb_each(e.attrs) a WHERE ${where.join(' AND ')}
          GROUP BY e.type, a.key ORDER BY e.type, a.key`,
        p.values,
      );
      const byType = new Map<string, TypeInfo>(
        counts.map((c) => [c.type, { type: c.type, count: Number(c.n), attrs: {} }]),
      );
      for (const a of attrs) {
        if (a.name === 'dateExpires') continue;
        const info = byType.get(a.type);
        if (info) info.attrs[a.name] = a.types;
      }
      return [...byType.values()];
    },
    async purgeExpired() {
      const { rowCount } = await db.query('DELETE FROM broker.entities WHERE expires_at <= $1', [now()]);
      return rowCount ?? 0;
    },
  };
}
