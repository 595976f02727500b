/**
 * The residents staff can address by attributes (municipality, gender, age), without keeping the
 * attributes readable: each resident row holds keyed hashes (HMAC-SHA256 under a key derived from
 * MASTER_KEY) of `municipality=…`, `gender=…` and `birth_year=…`, so a search is an array match over
 * a GIN index and a stolen table reveals only which residents share a value, never the value.
 *
 * A resident's row is written from the identity provider's verified profile when it is recorded
 * (`accounts.onProfile`, inside the enrolment transaction), and refreshed (also from an e-mail
 * sign-up profile) when the resident opens a notices or services page, at most daily. Residents
 * enrolled before the portal followed the provider appear once they open such a page. Municipality comes from the address: the prefecture (when given) and the
 * first city, ward, town or village (`鳥取県鳥取市…` → `鳥取県鳥取市`, `鳥取市` and `鳥取県`); without a list
 * of municipality names a few are misread (東村山市, and 伊勢崎市市場町 as 伊勢崎市市). Age is counted by
 * birth year (this year minus the birth year).
 *
 * @example
 *   await directory.refresh(commonId);
 *   const ids = await directory.search({ municipality: '鳥取市', ageMin: 65 });
 */
import { createHmac } from 'node:crypto';
import {
  type Database,
  deriveKey,
  type Migration,
  type ModuleContext,
  type Queryable,
} from '../../core/index.ts';
import type { IdpServices } from '../../idp/index.ts';

export const DIRECTORY_MIGRATIONS: Migration[] = [
  {
    id: '001_resident_directory',
    sql: `
      -- Residents staff may target by attribute: keyed hashes of the attributes, never the values.
      CREATE TABLE portal.resident_directory (
        common_id     text        PRIMARY KEY,
        tokens        text[]      NOT NULL,
        refreshed_at  timestamptz NOT NULL
      );
      CREATE INDEX resident_directory_tokens ON portal.resident_directory USING gin (tokens);`,
  },
];

export const GENDERS = ['male', 'female', 'other'] as const;

export interface ResidentAttributes {
  /** As written in the address; see `municipalitiesOf`. */
  address?: string;
  gender?: string;
  /** YYYY-MM-DD */
  birthdate?: string;
}

/** Whom to address; every given criterion must hold. */
export interface AudienceCriteria {
  municipality?: string;
  gender?: (typeof GENDERS)[number];
  ageMin?: number;
  ageMax?: number;
}

export interface ResidentDirectory {
  /** Re-reads the resident's verified profile from the identity provider. */
  refresh(commonId: string): Promise<void>;
  /** `refresh` when the resident's row is missing or older than a day (resident pages call it). */
  touch(commonId: string): Promise<void>;
  /** Records attributes directly (imports, tests), inside `tx` when given. */
  record(commonId: string, attributes: ResidentAttributes, tx?: Queryable): Promise<void>;
  /** Keeps the directory current from the identity provider's verified profiles (enrolment, updates). */
  follow(idp: IdpServices): void;
  /** Common IDs matching the criteria (all residents in the directory when none is given). */
  search(criteria: AudienceCriteria, limit?: number): Promise<string[]>;
  count(criteria: AudienceCriteria): Promise<number>;
}

const PREFECTURE = /^(東京都|北海道|京都府|大阪府|[^\s都道府県]{2,3}県)/;
const LOCALITY = /^(.+?郡)?(.+?[市区町村])/;

/**
 * The names an address can be addressed by, longest first: `鳥取県鳥取市…` → ['鳥取県鳥取市', '鳥取市',
 * '鳥取県'] (the prefecture too, for a prefecture-wide deployment's notices).
 */
export function municipalitiesOf(address: string): string[] {
  const a = address.normalize('NFKC').replace(/\s+/g, '');
  const pref = PREFECTURE.exec(a)?.[1] ?? '';
  const rest = a.slice(pref.length);
  const m = LOCALITY.exec(rest);
  if (!m) return pref ? [pref] : [];
  let city = m[2]!;
  // The shortest match can stop one character early: 四日市市, 大町市 (cities are never in a 郡), and
  // 余市郡余市町 (what is in a 郡 is a town or village). Without a list of names, 伊勢崎市市場町 is misread.
  const next = rest.charAt((m[1]?.length ?? 0) + city.length);
  if (m[1] ? /市$/.test(city) && /[町村]/.test(next) : /[市町]$/.test(city) && next === '市') city += next;
  return pref ? [`${pref}${city}`, city, pref] : [city];
}

export function createResidentDirectory(
  ctx: ModuleContext,
  idp: () => IdpServices | undefined,
): ResidentDirectory {
  const db: Database = ctx.db;
  const key = deriveKey(ctx.config, 'tsunagu/portal/resident-directory');
  const token = (name: string, value: string) =>
    createHmac('sha256', key)
      .update(`${name}=${value.normalize('NFKC')}`)
      .digest('base64url')
      .slice(0, 22);

  const tokensOf = (a: ResidentAttributes): string[] => {
    const out = ['all'];
    for (const m of a.address ? municipalitiesOf(a.address) : []) out.push(token('municipality', m));
    if (a.gender) out.push(token('gender', a.gender));
    const year = /^(\d{4})-\d{2}-\d{2}$/.exec(a.birthdate ?? '')?.[1];
    if (year) out.push(token('birth_year', year));
    return out;
  };

  const record = async (commonId: string, attributes: ResidentAttributes, tx: Queryable = db) => {
    await tx.query(
      `INSERT INTO portal.resident_directory (common_id, tokens, refreshed_at) VALUES ($1, $2, $3)
       ON CONFLICT (common_id) DO UPDATE SET tokens = EXCLUDED.tokens, refreshed_at = EXCLUDED.refreshed_at`,
      [commonId, tokensOf(attributes), ctx.now()],
    );
  };

  /** `tokens @> all` and, for age, `tokens && any birth year in range`. */
  const where = (c: AudienceCriteria): { sql: string; params: unknown[] } => {
    const all: string[] = ['all'];
    if (c.municipality?.trim()) all.push(token('municipality', c.municipality.trim().replace(/\s+/g, '')));
    if (c.gender) all.push(token('gender', c.gender));
    const params: unknown[] = [all];
    let sql = 'tokens @> $1::text[]';
    if (c.ageMin !== undefined || c.ageMax !== undefined) {
      const year = Number(
        new Intl.DateTimeFormat('en', { timeZone: 'Asia/Tokyo', year: 'numeric' }).format(ctx.now()),
      );
      const from = year - Math.min(c.ageMax ?? 120, 130);
      const to = year - Math.max(c.ageMin ?? 0, 0);
      const years: string[] = [];
      for (let y = from; y <= to; y += 1) years.push(token('birth_year', String(y)));
      params.push(years);
      sql += ' AND tokens && $2::text[]';
    }
    return { sql, params };
  };

  return {
    async refresh(commonId) {
      const services = idp();
      if (!services) return;
      const account = await services.accounts.find(commonId);
      if (account?.status !== 'active') return;
      await ctx.audit.record({
        actor: 'system:portal',
        action: 'portal.directory.refresh',
        target: `resident:${commonId}`,
        details: { source: account.profile ? 'verified-profile' : 'signup-profile' },
      });
      if (account.profile) {
        const p = account.profile;
        return record(commonId, { address: p.address, gender: p.gender, birthdate: p.birthdate });
      }
      const login = await services.residents?.find(commonId).catch(() => undefined);
      const p = login?.profile ?? {};
      return record(commonId, {
        ...(p['address'] ? { address: p['address'] } : {}),
        ...(p['gender'] ? { gender: p['gender'] } : {}),
        ...(p['birthdate'] ? { birthdate: p['birthdate'] } : {}),
      });
    },
    record,
    follow(services) {
      // In the enrolment transaction: the resident is addressable the moment their ID exists.
      services.accounts.onProfile?.((tx, commonId, p) =>
        record(commonId, { address: p.address, gender: p.gender, birthdate: p.birthdate }, tx),
      );
    },
    async touch(commonId) {
      const { rows } = await db.query<{ fresh: boolean }>(
        `SELECT refreshed_at > $2::timestamptz - interval '1 day' AS fresh FROM portal.resident_directory WHERE common_id = $1`,
        [commonId, ctx.now()],
      );
      if (!rows[0]?.fresh) await this.refresh(commonId);
    },
    async search(criteria, limit = 100_000) {
      const w = where(criteria);
      const { rows } = await db.query<{ common_id: string }>(
        `SELECT common_id FROM portal.resident_directory WHERE ${w.sql} ORDER BY common_id LIMIT ${Math.floor(limit)}`,
        w.params,
      );
      return rows.map((r) => r.common_id);
    },
    async count(criteria) {
      const w = where(criteria);
      const { rows } = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM portal.resident_directory WHERE ${w.sql}`,
        w.params,
      );
      return Number(rows[0]!.n);
    },
  };
}
