import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  databaseFromUrl,
  MigrationError,
  type ModuleMigrations,
  migrate,
  pendingMigrations,
} from '../../core/index.ts';
import { createTestDatabase } from '../support/database.ts';

const shop: ModuleMigrations = {
  module: 'shop',
  schema: 'shop',
  migrations: [
    { id: '001_items', sql: 'CREATE TABLE shop.items (id serial PRIMARY KEY, name text NOT NULL)' },
    { id: '002_price', sql: 'ALTER TABLE shop.items ADD COLUMN price integer NOT NULL DEFAULT 0' },
  ],
};

async function fresh() {
  return databaseFromUrl(await createTestDatabase('mig'));
}

describe('migrations', () => {
  it('applies each migration once and is idempotent', async () => {
    const db = await fresh();
    try {
      assert.deepEqual(await pendingMigrations(db, [shop]), ['shop/001_items', 'shop/002_price']);
      assert.deepEqual(await migrate(db, [shop]), ['shop/001_items', 'shop/002_price']);
      assert.deepEqual(await migrate(db, [shop]), []);
      assert.deepEqual(await pendingMigrations(db, [shop]), []);
      const { rows } = await db.query(
        `SELECT count(*)::int AS n FROM core.schema_migrations WHERE module = 'shop'`,
      );
      assert.equal(rows[0]?.['n'], 2);
    } finally {
      await db.close();
    }
  });

  it('lets two instances race on an empty database: both succeed, each migration runs once', async () => {
    const url = await createTestDatabase('race');
    const a = databaseFromUrl(url);
    const b = databaseFromUrl(url);
    try {
      const [first, second] = await Promise.all([migrate(a, [shop]), migrate(b, [shop])]);
      assert.deepEqual([...first, ...second].sort(), ['shop/001_items', 'shop/002_price']);
      const { rows } = await a.query(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = 'shop' AND table_name = 'items' ORDER BY ordinal_position`,
      );
      assert.deepEqual(
        rows.map((r) => r['column_name']),
        ['id', 'name', 'price'],
      );
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('refuses a migration whose text changed after it was applied', async () => {
    const db = await fresh();
    try {
      await migrate(db, [shop]);
      const edited = { ...shop, migrations: [shop.migrations[0]!, { id: '002_price', sql: 'SELECT 1' }] };
      await assert.rejects(migrate(db, [edited]), (error: Error) => {
        assert.ok(error instanceof MigrationError);
        assert.match(error.message, /^migration shop\/002_price was changed after it was applied/);
        return true;
      });
    } finally {
      await db.close();
    }
  });

  it('refuses to run on a database migrated by a newer version', async () => {
    const db = await fresh();
    try {
      await migrate(db, [shop]);
      const older = { ...shop, migrations: [shop.migrations[0]!] };
      await assert.rejects(
        migrate(db, [older]),
        /database has migration shop\/002_price, unknown to this version/,
      );
    } finally {
      await db.close();
    }
  });

  it('rolls back a failing migration completely and records nothing', async () => {
    const db = await fresh();
    try {
      const broken: ModuleMigrations = {
        module: 'broken',
        schema: 'broken',
        migrations: [
          { id: '001_half', sql: 'CREATE TABLE broken.a (id int); CREATE TABLE broken.a (id int);' },
        ],
      };
      await assert.rejects(
        migrate(db, [broken]),
        /migration broken\/001_half failed: relation "a" already exists/,
      );
      const { rows } = await db.query(
        `SELECT to_regclass('broken.a') AS t, (SELECT count(*)::int FROM core.schema_migrations WHERE module = 'broken') AS n`,
      );
      assert.deepEqual(rows[0], { t: null, n: 0 });
    } finally {
      await db.close();
    }
  });

  it('rejects migration lists out of id order', async () => {
    const db = await fresh();
    try {
      const shuffled = { ...shop, migrations: [...shop.migrations].reverse() };
      await assert.rejects(migrate(db, [shuffled]), /shop: migrations must be listed in id order/);
    } finally {
      await db.close();
    }
  });
});
