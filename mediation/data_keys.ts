/**
 * The key hierarchy for personal data at rest. Each municipality has its own data keys (DEKs,
 * 32 random bytes, AES-256-GCM); each DEK is stored wrapped by a key-encryption key (KEK) derived
 * with HKDF from MASTER_KEY. A row names the DEK version that sealed it, so rotation never stops
 * reads:
 *   - `rotate(municipality)` makes a fresh DEK the one new writes use; `reencrypt()` then moves old
 *     rows to it in small batches while both versions stay readable;
 *   - a new MASTER_KEY (the old one kept in MEDIATION_PREVIOUS_MASTER_KEYS meanwhile): `rewrap()`
 *     re-wraps every DEK under the new KEK; until then each DEK opens with the KEK its row names.
 *
 * @example
 *   const keys = createDataKeys({ db, keks: keksFromConfig(config, env), now });
 *   const { version, key } = await keys.active('131016');
 *   const sealed = sealWith(key, 'aad', 'value');
 */
import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import { type Config, type Database, masterKey, openWith, type Queryable, sealWith } from '../core/index.ts';

export interface Kek {
  id: string;
  key: Buffer;
}

export interface DataKeyStatus {
  municipality: string;
  version: number;
  state: 'active' | 'retired';
  kekId: string;
  rows: number;
}

export interface DataKeys {
  /** The DEK new values are sealed with (created on first use for a municipality). */
  active(municipality: string, tx?: Queryable): Promise<{ version: number; key: Buffer }>;
  /** The DEK a stored value names. */
  get(municipality: string, version: number): Promise<Buffer>;
  /** A fresh DEK for new writes; the previous one is retired (still readable). Returns the new version. */
  rotate(municipality: string): Promise<number>;
  /** Re-wraps every DEK not wrapped by the current KEK; returns how many. */
  rewrap(): Promise<number>;
  status(): Promise<DataKeyStatus[]>;
  /** The current KEK's id. */
  kekId: string;
}

const KEK_PURPOSE = 'tsunagu/mediation/kek';

function kekFrom(master: Buffer): Kek {
  const key = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), KEK_PURPOSE, 32));
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 16), key };
}

/**
 * The current KEK first, then those of previous master keys (MEDIATION_PREVIOUS_MASTER_KEYS,
 * comma-separated base64), which only open DEKs not yet re-wrapped.
 */
export function keksFromConfig(config: Config, env: Record<string, string | undefined>): Kek[] {
  return [kekFrom(masterKey(config)), ...previousMasterKeys(env).map(kekFrom)];
}

/** The old master keys kept while a master-key change completes (MEDIATION_PREVIOUS_MASTER_KEYS). */
export function previousMasterKeys(env: Record<string, string | undefined>): Buffer[] {
  const previous = (env['MEDIATION_PREVIOUS_MASTER_KEYS'] ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean)
    .map((k) => Buffer.from(k, 'base64'));
  for (const k of previous) {
    if (k.length !== 32) throw new Error('MEDIATION_PREVIOUS_MASTER_KEYS: each key must be 32 bytes, base64');
  }
  return previous;
}

const wrapAad = (municipality: string, version: number) => `tsunagu/mediation/dek/${municipality}/${version}`;

interface KeyRow {
  municipality: string;
  version: number;
  wrapped: string;
  kek_id: string;
}

export function createDataKeys(options: { db: Database; keks: Kek[]; now: () => Date }): DataKeys {
  const { db, keks, now } = options;
  const current = keks[0]!;
  const byId = new Map(keks.map((k) => [k.id, k]));
  // Unwrapped DEKs by "municipality/version"; a DEK never changes once created.
  const cache = new Map<string, Buffer>();

  function unwrap(row: KeyRow): Buffer {
    const cached = cache.get(`${row.municipality}/${row.version}`);
    if (cached) return cached;
    const kek = byId.get(row.kek_id);
    if (!kek) throw new Error(`data key ${row.municipality}/${row.version} is wrapped by an unknown KEK`);
    const key = Buffer.from(openWith(kek.key, wrapAad(row.municipality, row.version), row.wrapped), 'base64');
    cache.set(`${row.municipality}/${row.version}`, key);
    return key;
  }

  async function insertKey(tx: Queryable, municipality: string, version: number): Promise<void> {
    const wrapped = sealWith(current.key, wrapAad(municipality, version), randomBytes(32).toString('base64'));
    await tx.query(
      `INSERT INTO mediation.data_keys (municipality, version, wrapped, kek_id, state, created_at)
       VALUES ($1, $2, $3, $4, 'active', $5) ON CONFLICT DO NOTHING`,
      [municipality, version, wrapped, current.id, now()],
    );
  }

  const keys: DataKeys = {
    kekId: current.id,
    async active(municipality, tx = db) {
      for (let attempt = 0; attempt < 2; attempt++) {
        const { rows } = await tx.query<KeyRow>(
          `SELECT municipality, version, wrapped, kek_id FROM mediation.data_keys
            WHERE municipality = $1 AND state = 'active'`,
          [municipality],
        );
        if (rows[0]) return { version: rows[0].version, key: unwrap(rows[0]) };
        await insertKey(tx, municipality, 1);
      }
      throw new Error(`no active data key for ${municipality}`);
    },
    async get(municipality, version) {
      const cached = cache.get(`${municipality}/${version}`);
      if (cached) return cached;
      const { rows } = await db.query<KeyRow>(
        `SELECT municipality, version, wrapped, kek_id FROM mediation.data_keys
          WHERE municipality = $1 AND version = $2`,
        [municipality, version],
      );
      if (!rows[0]) throw new Error(`no data key ${municipality}/${version}`);
      return unwrap(rows[0]);
    },
    rotate(municipality) {
      return db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`mediation.dek.${municipality}`]);
        const { rows } = await tx.query<{ v: number | null }>(
          'SELECT max(version) AS v FROM mediation.data_keys WHERE municipality = $1',
          [municipality],
        );
        const version = (rows[0]?.v ?? 0) + 1;
        await tx.query(
          `UPDATE mediation.data_keys SET state = 'retired' WHERE municipality = $1 AND state = 'active'`,
          [municipality],
        );
        await insertKey(tx, municipality, version);
        return version;
      });
    },
    async rewrap() {
      const { rows } = await db.query<KeyRow>(
        'SELECT municipality, version, wrapped, kek_id FROM mediation.data_keys WHERE kek_id <> $1',
        [current.id],
      );
      let done = 0;
      for (const row of rows) {
        const key = unwrap(row);
        const wrapped = sealWith(current.key, wrapAad(row.municipality, row.version), key.toString('base64'));
        // Only if nobody re-wrapped it meanwhile: readers see the old or the new wrapping, both open.
        const result = await db.query(
          `UPDATE mediation.data_keys SET wrapped = $3, kek_id = $4, rewrapped_at = $5
            WHERE municipality = $1 AND version = $2 AND kek_id = $6`,
          [row.municipality, row.version, wrapped, current.id, now(), row.kek_id],
        );
        done += result.rowCount ?? 0;
      }
      return done;
    },
    async status() {
      const { rows } = await db.query<{
        municipality: string;
        version: number;
        state: 'active' | 'retired';
        kek_id: string;
        rows: string;
      }>(
        `SELECT k.municipality, k.version, k.state, k.kek_id,
                (SELECT count(*) FROM mediation.personal_data p
                  WHERE p.municipality = k.municipality AND p.key_version = k.version) AS rows
           FROM mediation.data_keys k ORDER BY k.municipality, k.version`,
      );
      return rows.map((r) => ({
        municipality: r.municipality,
        version: r.version,
        state: r.state,
        kekId: r.kek_id,
        rows: Number(r.rows),
      }));
    },
  };
  return keys;
}
