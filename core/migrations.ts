/**
 * Forward-only schema migrations with checksums, one PostgreSQL schema per module.
 *
 * Migrations run at start and by `npm run migrate`, under a session advisory lock, so two instances
 * starting together do not both migrate: the second waits, then finds nothing left to do. Each
 * migration runs in its own transaction with its bookkeeping row. An applied migration whose text
 * changed, or one the database has but this code does not know, stops the start with a clear error.
 */
import { createHash } from 'node:crypto';
import type { Database } from './database.ts';
import type { Logger } from './logger.ts';

export interface Migration {
  /** Sortable, unique within the module, never renamed: `001_create_accounts`. */
  id: string;
  sql: string;
}

export interface ModuleMigrations {
  module: string;
  /** The PostgreSQL schema the module owns; created before its first migration. */
  schema: string;
  migrations: readonly Migration[];
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Arbitrary constant identifying the migration lock ("tsunagu" in ASCII, truncated). */
const MIGRATION_LOCK = 0x7473756e;

export function checksum(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

const BOOKKEEPING = `
  CREATE SCHEMA IF NOT EXISTS core;
  CREATE TABLE IF NOT EXISTS core.schema_migrations (
    module      text        NOT NULL,
    id          text        NOT NULL,
    checksum    text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (module, id)
  );`;

function validate(sets: readonly ModuleMigrations[]): void {
  for (const set of sets) {
    const ids = set.migrations.map((m) => m.id);
    const sorted = [...ids].sort();
    if (new Set(ids).size !== ids.length) throw new MigrationError(`${set.module}: duplicate migration id`);
    if (ids.join() !== sorted.join())
      throw new MigrationError(`${set.module}: migrations must be listed in id order`);
    if (!/^[a-z_][a-z0-9_]*$/.test(set.schema)) throw new MigrationError(`${set.module}: bad schema name`);
  }
}

/** Applies what is pending; returns the `module/id` of each migration it applied. */
export async function migrate(
  db: Database,
  sets: readonly ModuleMigrations[],
  logger?: Logger,
): Promise<string[]> {
  validate(sets);
  const client = await db.pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(BOOKKEEPING);
    const { rows } = await client.query<{ module: string; id: string; checksum: string }>(
      'SELECT module, id, checksum FROM core.schema_migrations',
    );
    const done = new Map(rows.map((r) => [`${r.module}/${r.id}`, r.checksum]));
    const known = new Set(sets.flatMap((s) => s.migrations.map((m) => `${s.module}/${m.id}`)));
    const modules = new Set(sets.map((s) => s.module));
    for (const key of done.keys()) {
      if (modules.has(key.split('/')[0] ?? '') && !known.has(key)) {
        throw new MigrationError(
          `database has migration ${key}, unknown to this version (was it downgraded?)`,
        );
      }
    }
    for (const set of sets) {
      for (const migration of set.migrations) {
        const key = `${set.module}/${migration.id}`;
        const sum = checksum(migration.sql);
        const recorded = done.get(key);
        if (recorded !== undefined) {
          if (recorded !== sum) {
            throw new MigrationError(
              `migration ${key} was changed after it was applied (checksum ${recorded.slice(0, 12)}… ≠ ${sum.slice(0, 12)}…); add a new migration instead`,
            );
          }
          continue;
        }
        await client.query('BEGIN');
        try {
          await client.query(`CREATE SCHEMA IF NOT EXISTS ${set.schema}`);
          await client.query(migration.sql);
          await client.query(
            'INSERT INTO core.schema_migrations (module, id, checksum) VALUES ($1, $2, $3)',
            [set.module, migration.id, sum],
          );
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw new MigrationError(`migration ${key} failed: ${(error as Error).message}`);
        }
        applied.push(key);
        logger?.info({ migration: key }, 'migration applied');
      }
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
    client.release();
  }
}

/** Migrations the code knows that the database has not applied (empty when up to date). */
export async function pendingMigrations(db: Database, sets: readonly ModuleMigrations[]): Promise<string[]> {
  const exists = await db.query<{ t: string | null }>(`SELECT to_regclass('core.schema_migrations') AS t`);
  const expected = sets.flatMap((s) => s.migrations.map((m) => `${s.module}/${m.id}`));
  if (!exists.rows[0]?.t) return expected;
  const { rows } = await db.query<{ key: string }>(
    `SELECT module || '/' || id AS key FROM core.schema_migrations`,
  );
  const done = new Set(rows.map((r) => r.key));
  return expected.filter((key) => !done.has(key));
}
