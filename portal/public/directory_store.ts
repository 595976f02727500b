/**
 * The merchant directory: public shop profiles keyed by the points module's merchant id, their
 * search, and the change workflow (the merchant submits, staff approve or reject). Who is a
 * merchant (id, municipality, ledger name, active) comes from `points.directory()`, reloaded at most
 * once per TTL and written into `portal.shops` as a read model, so search is one indexed query.
 *
 * @example
 *   const store = createDirectoryStore({ ctx, points, ttlMs: 30_000 });
 *   const { total, shops } = await store.search({ q: 'カフェ', category: 'cafe', area: 'saijo/駅前' });
 *   const change = await store.submitChange('m1', profile, 'merchant-account:7');
 *   await store.decide(change.id, 'approve', 'staff:alice');
 */
import { createHash } from 'node:crypto';
import { type ModuleContext, ProblemError } from '../../core/index.ts';
import type { Directory, PointsService } from '../../points/index.ts';
import { isCategory } from './categories.ts';
import { defineDirectoryProblems } from './problems.ts';

defineDirectoryProblems();

/** What a shop says about itself: the fields a merchant edits and staff approve. */
export interface ShopProfile {
  name: string | null;
  nameKana: string | null;
  nameEn: string | null;
  category: string | null;
  area: string | null;
  postalCode: string | null;
  address: string | null;
  hours: string | null;
  phone: string | null;
  url: string | null;
  description: string | null;
  lat: number | null;
  lon: number | null;
}

export interface Shop extends ShopProfile {
  merchantId: string;
  municipality: string;
  ledgerName: string;
  active: boolean;
  version: number;
  approvedAt: string | null;
}

/** What a result list and the map show of a shop. */
export type ShopSummary = Pick<
  Shop,
  | 'merchantId'
  | 'municipality'
  | 'ledgerName'
  | 'name'
  | 'nameKana'
  | 'nameEn'
  | 'category'
  | 'area'
  | 'address'
  | 'hours'
  | 'lat'
  | 'lon'
>;

export interface ShopChange {
  id: string;
  merchantId: string;
  baseVersion: number;
  profile: ShopProfile;
  status: 'pending' | 'approved' | 'rejected' | 'superseded';
  submittedBy: string;
  submittedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  reason: string | null;
}

export interface SearchQuery {
  q?: string;
  category?: string;
  /** `<municipality>` or `<municipality>/<area>`. */
  area?: string;
  page?: number;
  pageSize?: number;
}

const PROFILE_FIELDS: ReadonlyArray<[keyof ShopProfile, string]> = [
  ['name', 'name'],
  ['nameKana', 'name_kana'],
  ['nameEn', 'name_en'],
  ['category', 'category'],
  ['area', 'area'],
  ['postalCode', 'postal_code'],
  ['address', 'address'],
  ['hours', 'hours'],
  ['phone', 'phone'],
  ['url', 'url'],
  ['description', 'description'],
  ['lat', 'lat'],
  ['lon', 'lon'],
];

const SHOP_COLUMNS = `merchant_id AS "merchantId", municipality, ledger_name AS "ledgerName", active, version,
  to_char(approved_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "approvedAt",
  ${PROFILE_FIELDS.map(([key, column]) => `${column} AS "${key}"`).join(', ')}`;

const SUMMARY_COLUMNS = `merchant_id AS "merchantId", municipality, ledger_name AS "ledgerName", name,
  name_kana AS "nameKana", name_en AS "nameEn", category, area, address, hours, lat, lon`;

const CHANGE_COLUMNS = `id::text, merchant_id AS "merchantId", base_version AS "baseVersion", profile, status,
  submitted_by AS "submittedBy", to_char(submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "submittedAt",
  decided_by AS "decidedBy", to_char(decided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "decidedAt", reason`;

const LIMITS: Partial<Record<keyof ShopProfile, number>> = {
  name: 100,
  nameKana: 100,
  nameEn: 100,
  area: 50,
  address: 200,
  hours: 500,
  description: 2000,
};

interface FieldError {
  pointer: string;
  message: string;
}

/**
 * Checks and normalises a submitted profile (from a form or JSON): trims text, empty → null, NFKC
 * for postal codes and phone numbers. Throws `validation-failed` with one error per bad field.
 */
export function parseProfile(input: Record<string, unknown>): ShopProfile {
  const errors: FieldError[] = [];
  const text = (key: keyof ShopProfile): string | null => {
    const raw = input[key];
    if (raw === undefined || raw === null) return null;
    if (typeof raw !== 'string') {
      errors.push({ pointer: `/${key}`, message: 'must be text' });
      return null;
    }
    const value = raw.replace(/\r\n/g, '\n').trim();
    if (value === '') return null;
    const limit = LIMITS[key];
    if (limit !== undefined && value.length > limit)
      errors.push({ pointer: `/${key}`, message: `must be at most ${limit} characters` });
    return value;
  };
  const number = (key: 'lat' | 'lon', min: number, max: number): number | null => {
    const raw = input[key];
    if (raw === undefined || raw === null || raw === '') return null;
    const n = typeof raw === 'number' ? raw : Number(String(raw).normalize('NFKC').trim());
    if (!Number.isFinite(n) || n < min || n > max) {
      errors.push({ pointer: `/${key}`, message: `must be a number from ${min} to ${max}` });
      return null;
    }
    return n;
  };
  const profile: ShopProfile = {
    name: text('name'),
    nameKana: text('nameKana'),
    nameEn: text('nameEn'),
    category: text('category'),
    area: text('area'),
    postalCode: digitsAndDashes(text('postalCode')),
    address: text('address'),
    hours: text('hours'),
    phone: digitsAndDashes(text('phone')),
    url: text('url'),
    description: text('description'),
    lat: number('lat', -90, 90),
    lon: number('lon', -180, 180),
  };
  if (profile.category !== null && !isCategory(profile.category))
    errors.push({ pointer: '/category', message: 'is not a known category' });
  if (profile.area?.includes('/')) errors.push({ pointer: '/area', message: 'must not contain /' });
  if (profile.postalCode !== null && !/^\d{3}-?\d{4}$/.test(profile.postalCode))
    errors.push({ pointer: '/postalCode', message: 'must look like 123-4567' });
  if (profile.phone !== null && !/^[0-9+][0-9()\- ]{5,19}$/.test(profile.phone))
    errors.push({ pointer: '/phone', message: 'must be a phone number' });
  if (profile.url !== null) {
    let ok: boolean;
    try {
      const u = new URL(profile.url);
      ok = (u.protocol === 'https:' || u.protocol === 'http:') && profile.url.length <= 300;
    } catch {
      ok = false;
    }
    if (!ok) errors.push({ pointer: '/url', message: 'must be an http(s) address' });
  }
  if ((profile.lat === null) !== (profile.lon === null))
    errors.push({
      pointer: profile.lat === null ? '/lat' : '/lon',
      message: 'give both latitude and longitude',
    });
  if (errors.length > 0)
    throw new ProblemError('validation-failed', {
      detail: `${errors[0]!.pointer.slice(1)} ${errors[0]!.message}`,
      errors: errors.map((e) => ({ location: 'body', ...e })),
    });
  return profile;
}

/** NFKC plus the dashes Japanese keyboards produce (ー, −, ‐ …) as ASCII hyphens: postal codes, phones. */
function digitsAndDashes(value: string | null): string | null {
  return value === null ? null : value.normalize('NFKC').replace(/[\u2010-\u2015\u2212\u30fc\uff70]/g, '-');
}

function likePattern(word: string): string {
  return `%${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export function createDirectoryStore(deps: { ctx: ModuleContext; points: PointsService; ttlMs: number }) {
  const { ctx, points, ttlMs } = deps;
  const db = ctx.db;
  let cached: { at: number; directory: Directory; areas: AreaCount[] } | undefined;
  let loading: Promise<{ directory: Directory; areas: AreaCount[] }> | undefined;

  interface AreaCount {
    municipality: string;
    area: string | null;
    shops: number;
  }

  /** Writes the ledger's merchants into `portal.shops` (only rows whose ledger facts changed). */
  async function sync(directory: Directory): Promise<void> {
    const m = directory.merchants;
    if (m.length === 0) return;
    await db.query(
      `INSERT INTO portal.shops (merchant_id, municipality, ledger_name, active, synced_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[]) AS t(id, municipality, name, active),
              (SELECT $5::timestamptz) AS at
       ON CONFLICT (merchant_id) DO UPDATE
          SET municipality = EXCLUDED.municipality, ledger_name = EXCLUDED.ledger_name,
              active = EXCLUDED.active, synced_at = EXCLUDED.synced_at
        WHERE (portal.shops.municipality, portal.shops.ledger_name, portal.shops.active)
              IS DISTINCT FROM (EXCLUDED.municipality, EXCLUDED.ledger_name, EXCLUDED.active)`,
      [
        m.map((x) => x.id),
        m.map((x) => x.municipality),
        m.map((x) => x.name),
        m.map((x) => x.active),
        ctx.now(),
      ],
    );
  }

  async function load() {
    const directory = await points.directory(ctx.now());
    await sync(directory);
    const { rows } = await db.query<AreaCount>(
      `SELECT municipality, area, count(*)::int AS shops FROM portal.shops WHERE active
        GROUP BY 1, 2 ORDER BY 1, 2 NULLS LAST`,
    );
    return { directory, areas: rows };
  }

  /**
   * The points directory and area counts, reloaded when older than the TTL (one load at a time).
   * Once loaded, a stale copy is answered while the reload runs, so no request waits for it; with a
   * TTL of 0 (tests) every call waits for a fresh load.
   */
  async function facts(): Promise<{ directory: Directory; areas: AreaCount[] }> {
    if (cached && Date.now() - cached.at < ttlMs) return cached;
    const reload = (loading ??= load()
      .then((loaded) => {
        cached = { at: Date.now(), ...loaded };
        return loaded;
      })
      .finally(() => {
        loading = undefined;
      }));
    if (cached && ttlMs > 0) {
      reload.catch((err: unknown) => ctx.logger.warn({ err }, 'directory reload failed'));
      return cached;
    }
    return reload;
  }

  function forget(): void {
    cached = undefined;
  }

  async function shop(
    merchantId: string,
    opts: { includeInactive?: boolean } = {},
  ): Promise<Shop | undefined> {
    await facts();
    const { rows } = await db.query<Shop>(
      `SELECT ${SHOP_COLUMNS} FROM portal.shops WHERE merchant_id = $1 ${opts.includeInactive ? '' : 'AND active'}`,
      [merchantId],
    );
    return rows[0];
  }

  return {
    facts,
    shop,
    parseProfile,

    async search(
      query: SearchQuery,
    ): Promise<{ total: number; page: number; pageSize: number; shops: ShopSummary[] }> {
      await facts();
      const pageSize = Math.min(Math.max(query.pageSize ?? 20, 1), 5000);
      const page = Math.max(query.page ?? 1, 1);
      const where = ['active'];
      const params: unknown[] = [];
      const add = (sql: string, value: unknown) => {
        params.push(value);
        where.push(sql.replace('?', `$${params.length}`));
      };
      for (const word of (query.q ?? '')
        .normalize('NFKC')
        .toLowerCase()
        .split(/\s+/)
        .filter(Boolean)
        .slice(0, 5))
        add(`search_text LIKE ?`, likePattern(word));
      if (query.category) add('category = ?', query.category);
      if (query.area) {
        const [municipality, ...rest] = query.area.split('/');
        add('municipality = ?', municipality);
        if (rest.length > 0) add('area = ?', rest.join('/'));
      }
      params.push(pageSize, (page - 1) * pageSize);
      const text = `SELECT ${SUMMARY_COLUMNS}, count(*) OVER ()::int AS total FROM portal.shops WHERE ${where.join(' AND ')}
          ORDER BY lower(coalesce(name_kana, name, ledger_name)), merchant_id
          LIMIT $${params.length - 1} OFFSET $${params.length}`;
      // A named statement per filter shape (a handful): each connection parses it once.
      const { rows } = await db.pool.query<ShopSummary & { total: number }>({
        name: `portal-shops-${createHash('sha1').update(text).digest('hex').slice(0, 16)}`,
        text,
        values: params,
      });
      const total = rows[0]?.total ?? 0;
      return { total, page, pageSize, shops: rows.map(({ total: _t, ...s }) => s) };
    },

    /** The names the public sees (approved name, else the ledger's), by merchant id. */
    async displayNames(ids: string[]): Promise<Map<string, string>> {
      if (ids.length === 0) return new Map();
      const { rows } = await db.query<{ id: string; name: string }>(
        `SELECT merchant_id AS id, coalesce(name, ledger_name) AS name FROM portal.shops WHERE merchant_id = ANY($1)`,
        [ids],
      );
      return new Map(rows.map((r) => [r.id, r.name]));
    },

    /** Every active shop, for the sitemap. */
    async allActiveIds(): Promise<Array<{ merchantId: string; approvedAt: string | null }>> {
      await facts();
      const { rows } = await db.query<{ merchantId: string; approvedAt: string | null }>(
        `SELECT merchant_id AS "merchantId",
                to_char(approved_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "approvedAt"
           FROM portal.shops WHERE active ORDER BY merchant_id`,
      );
      return rows;
    },

    /** Replaces the merchant's pending change (if any) with a new one; staff see it in `changes()`. */
    async submitChange(
      merchantId: string,
      input: Record<string, unknown>,
      actor: string,
    ): Promise<ShopChange> {
      const profile = parseProfile(input);
      const current = await shop(merchantId, { includeInactive: true });
      if (!current) throw new ProblemError('shop-not-found', { detail: `No merchant ${merchantId}.` });
      return db.transaction(async (tx) => {
        await tx.query(
          `UPDATE portal.shop_changes SET status = 'superseded', decided_by = $2, decided_at = $3
            WHERE merchant_id = $1 AND status = 'pending'`,
          [merchantId, actor, ctx.now()],
        );
        const { rows } = await tx.query<ShopChange>(
          `INSERT INTO portal.shop_changes (merchant_id, base_version, profile, status, submitted_by, submitted_at)
           VALUES ($1, $2, $3, 'pending', $4, $5) RETURNING ${CHANGE_COLUMNS}`,
          [merchantId, current.version, JSON.stringify(profile), actor, ctx.now()],
        );
        const change = rows[0]!;
        await ctx.audit.recordInTransaction(tx, {
          actor,
          action: 'portal.shop.change-submitted',
          target: `portal.shop:${merchantId}`,
          details: { change: change.id, baseVersion: current.version },
        });
        return change;
      });
    },

    async changes(filter: { status?: ShopChange['status']; merchantId?: string; limit?: number } = {}) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.status) where.push(`status = $${params.push(filter.status)}`);
      if (filter.merchantId) where.push(`merchant_id = $${params.push(filter.merchantId)}`);
      params.push(Math.min(filter.limit ?? 100, 500));
      const { rows } = await db.query<ShopChange>(
        `SELECT ${CHANGE_COLUMNS} FROM portal.shop_changes ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
          ORDER BY id DESC LIMIT $${params.length}`,
        params,
      );
      return rows;
    },

    async change(id: string): Promise<ShopChange> {
      const { rows } = await db.query<ShopChange>(
        `SELECT ${CHANGE_COLUMNS} FROM portal.shop_changes WHERE id = $1`,
        [id],
      );
      if (!rows[0]) throw new ProblemError('change-not-found', { detail: `No change ${id}.` });
      return rows[0];
    },

    /**
     * Staff approve (the profile becomes public, version + 1) or reject (with a reason the merchant
     * sees). Only a pending change can be decided; approving a change made against an older
     * version is refused (`change-stale`), so a later approval never silently overwrites another.
     */
    async decide(
      id: string,
      decision: 'approve' | 'reject',
      actor: string,
      reason?: string,
    ): Promise<ShopChange> {
      if (!/^\d{1,18}$/.test(id)) throw new ProblemError('change-not-found', { detail: `No change ${id}.` });
      const decided = await db.transaction(async (tx) => {
        const { rows } = await tx.query<ShopChange>(
          `SELECT ${CHANGE_COLUMNS} FROM portal.shop_changes WHERE id = $1 FOR UPDATE`,
          [id],
        );
        const change = rows[0];
        if (!change) throw new ProblemError('change-not-found', { detail: `No change ${id}.` });
        if (change.status !== 'pending')
          throw new ProblemError('change-not-pending', { detail: `Change ${id} is ${change.status}.` });
        if (decision === 'approve') {
          const p = change.profile;
          const { rowCount } = await tx.query(
            `UPDATE portal.shops SET ${PROFILE_FIELDS.map(([, c], i) => `${c} = $${i + 3}`).join(', ')},
                    version = version + 1, approved_at = $${PROFILE_FIELDS.length + 3}, approved_by = $${PROFILE_FIELDS.length + 4}
              WHERE merchant_id = $1 AND version = $2`,
            [
              change.merchantId,
              change.baseVersion,
              ...PROFILE_FIELDS.map(([key]) => p[key]),
              ctx.now(),
              actor,
            ],
          );
          if (rowCount !== 1)
            throw new ProblemError('change-stale', {
              detail: `The shop changed after change ${id} was made; ask the merchant to submit again.`,
            });
        }
        const { rows: updated } = await tx.query<ShopChange>(
          `UPDATE portal.shop_changes SET status = $2, decided_by = $3, decided_at = $4, reason = $5
            WHERE id = $1 RETURNING ${CHANGE_COLUMNS}`,
          [id, decision === 'approve' ? 'approved' : 'rejected', actor, ctx.now(), reason ?? null],
        );
        await ctx.audit.recordInTransaction(tx, {
          actor,
          action: decision === 'approve' ? 'portal.shop.change-approved' : 'portal.shop.change-rejected',
          target: `portal.shop:${change.merchantId}`,
          details: { change: id, baseVersion: change.baseVersion },
        });
        return updated[0]!;
      });
      forget();
      return decided;
    },
  };
}

export type DirectoryStore = ReturnType<typeof createDirectoryStore>;

const stores = new WeakMap<ModuleContext, DirectoryStore>();

/**
 * The directory store of this portal (one per module context), shared by the public pages, the
 * merchant console and the staff pages, so they share one cache and one reload of the ledger facts.
 */
export function directoryFor(ctx: ModuleContext, ttlMs: number): DirectoryStore {
  let store = stores.get(ctx);
  if (!store) {
    const points = ctx.services['points'] as PointsService | undefined;
    if (!points) throw new Error('the directory needs the points module before the portal');
    store = createDirectoryStore({ ctx, points, ttlMs });
    stores.set(ctx, store);
  }
  return store;
}
