/**
 * The personal-data store the mediation API serves from: the basic 4 info (氏名, 住所, 生年月日,
 * 性別) and contact data (e-mail, phone), one sealed row per resident and item. Values are sealed
 * (AES-256-GCM) under the resident's municipality's data key and bound to resident and item.
 * The identity provider feeds the basic 4 on enrolment (`accounts.onProfile`); contact data comes
 * through `put`. Values never reach a log.
 */
import type { Database, Queryable } from '../core/index.ts';
import { openWith, sealWith } from '../core/index.ts';
import type { DataKeys } from './data_keys.ts';

/** Items this store holds; other consent items (points history, …) live with their modules. */
export const STORED_ITEMS = ['name', 'address', 'birthdate', 'gender', 'email', 'phone'] as const;
export type StoredItem = (typeof STORED_ITEMS)[number];

export function isStoredItem(item: string): item is StoredItem {
  return (STORED_ITEMS as readonly string[]).includes(item);
}

export interface PersonalData {
  /** Stores (or replaces) values; `municipality` picks the data key. */
  put(
    input: {
      resident: string;
      municipality: string;
      values: Partial<Record<StoredItem, string>>;
      source: string;
    },
    tx?: Queryable,
  ): Promise<void>;
  /** The stored values among `items` (missing items are absent). */
  get(resident: string, items: readonly string[]): Promise<Partial<Record<StoredItem, string>>>;
  /** Moves up to `batch` rows sealed under retired data keys to the active ones; returns how many. */
  reencrypt(batch?: number): Promise<number>;
}

const aad = (resident: string, item: string) => `tsunagu/mediation/pd/${resident}/${item}`;

interface Row {
  resident: string;
  item: string;
  municipality: string;
  key_version: number;
  sealed: string;
}

export function createPersonalData(options: { db: Database; keys: DataKeys; now: () => Date }): PersonalData {
  const { db, keys, now } = options;
  return {
    async put(input, tx = db) {
      const entries = Object.entries(input.values).filter(([item]) => isStoredItem(item));
      if (entries.length === 0) return;
      const { version, key } = await keys.active(input.municipality, tx);
      await tx.query(
        `INSERT INTO mediation.personal_data (resident, item, municipality, key_version, sealed, source, updated_at)
         SELECT $1, i, $2, $3, s, $4, $5 FROM unnest($6::text[], $7::text[]) AS t(i, s)
         ON CONFLICT (resident, item) DO UPDATE SET municipality = EXCLUDED.municipality,
           key_version = EXCLUDED.key_version, sealed = EXCLUDED.sealed, source = EXCLUDED.source,
           updated_at = EXCLUDED.updated_at`,
        [
          input.resident,
          input.municipality,
          version,
          input.source,
          now(),
          entries.map(([item]) => item),
          entries.map(([item, value]) => sealWith(key, aad(input.resident, item), String(value))),
        ],
      );
    },
    async get(resident, items) {
      const { rows } = await db.pool.query<Row>({
        name: 'mediation-pd-get',
        text: `SELECT resident, item, municipality, key_version, sealed FROM mediation.personal_data
                WHERE resident = $1 AND item = ANY($2::text[])`,
        values: [resident, items],
      });
      const out: Partial<Record<StoredItem, string>> = {};
      for (const r of rows) {
        const key = await keys.get(r.municipality, r.key_version);
        out[r.item as StoredItem] = openWith(key, aad(r.resident, r.item), r.sealed);
      }
      return out;
    },
    async reencrypt(batch = 500) {
      const { rows } = await db.query<Row>(
        `SELECT p.resident, p.item, p.municipality, p.key_version, p.sealed
           FROM mediation.personal_data p JOIN mediation.data_keys k
             ON k.municipality = p.municipality AND k.version = p.key_version
          WHERE k.state = 'retired' LIMIT $1`,
        [batch],
      );
      let moved = 0;
      for (const r of rows) {
        const value = openWith(
          await keys.get(r.municipality, r.key_version),
          aad(r.resident, r.item),
          r.sealed,
        );
        const active = await keys.active(r.municipality);
        // Only if the row is unchanged since it was read: a concurrent put wins.
        const result = await db.query(
          `UPDATE mediation.personal_data SET key_version = $3, sealed = $4
            WHERE resident = $1 AND item = $2 AND sealed = $5`,
          [
            r.resident,
            r.item,
            active.version,
            sealWith(active.key, aad(r.resident, r.item), value),
            r.sealed,
          ],
        );
        moved += result.rowCount ?? 0;
      }
      return moved;
    },
  };
}
