import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import {
  type BackupResult,
  createBackup,
  type ModuleFactory,
  nextRunAt,
  pruneBackups,
  RestoreError,
  restoreBackup,
  scheduleBackups,
} from '../../core/index.ts';
import { MODULES } from '../../modules.ts';
import { createPlatform } from '../../platform.ts';
import { createTestDatabase } from '../support/database.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';

const run = promisify(execFile);

/** A module with a sequence, a foreign key and a trigger, to prove the restore keeps all three. */
const ordersModule: ModuleFactory = () => ({
  name: 'orders',
  migrations: {
    module: 'orders',
    schema: 'orders',
    migrations: [
      {
        id: '001_orders',
        sql: `
          CREATE TABLE orders.customers (id serial PRIMARY KEY, name text NOT NULL);
          CREATE TABLE orders.orders (id bigserial PRIMARY KEY, customer int NOT NULL REFERENCES orders.customers,
            note text, placed timestamptz NOT NULL DEFAULT now(), updated int NOT NULL DEFAULT 0);
          CREATE FUNCTION orders.bump() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN NEW.updated := NEW.updated + 1; RETURN NEW; END $$;
          CREATE TRIGGER bump BEFORE INSERT ON orders.orders FOR EACH ROW EXECUTE FUNCTION orders.bump();
          INSERT INTO orders.customers (name) VALUES ('seeded by the migration');`,
      },
    ],
  },
  routers: [],
  services: {},
});

const modules = [...MODULES, ordersModule];

async function snapshot(
  url: string,
  tables: Array<{ schema: string; table: string }>,
): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const out: Record<string, string> = {};
    for (const { schema, table } of tables) {
      const { rows } = await client.query(
        `SELECT count(*)::text || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') AS h FROM "${schema}"."${table}" t`,
      );
      out[`${schema}.${table}`] = rows[0].h;
    }
    const seq = await client.query(`SELECT nextval('orders.orders_id_seq')::int AS n`);
    out['orders.orders_id_seq'] = String(seq.rows[0].n);
    return out;
  } finally {
    await client.end();
  }
}

/** Entries in the audit log: the seeded ones and whatever the modules audited while starting. */
async function auditEntries(t: TestPlatform): Promise<number> {
  const { rows } = await t.platform.db.query<{ n: number }>('SELECT count(*)::int AS n FROM core.audit_log');
  return rows[0]!.n;
}

async function tableCount(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`,
    );
    return rows[0].n;
  } finally {
    await client.end();
  }
}

function cli(args: string[], env: Record<string, string>) {
  return run(process.execPath, ['main.ts', ...args], { env: { ...process.env, ...env } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }),
  );
}

/** Restores in-process (the test module is not part of `npm start`) into a fresh database. */
async function restoreInto(t: TestPlatform, file: string, extraEnv: Record<string, string> = {}) {
  const url = await createTestDatabase('restore');
  const platform = await createPlatform({
    env: { ...t.env, DATABASE_URL: url, ...extraEnv },
    modules,
    migrate: false,
    start: false,
  });
  try {
    const key = platform.config.backupKey;
    await restoreBackup({
      db: platform.db,
      file,
      migrations: platform.migrations,
      ...(key ? { key: Buffer.from(key, 'base64') } : {}),
    });
    return { url, error: undefined, report: await platform.audit.verify() };
  } catch (error) {
    return { url, error: error as Error, report: undefined };
  } finally {
    await platform.stop();
  }
}

describe('backup and restore', () => {
  let t: TestPlatform;
  let backup: BackupResult;

  before(async () => {
    t = await startTestPlatform({ modules });
    const db = t.platform.db;
    await db.query(
      `INSERT INTO orders.customers (name) VALUES ('株式会社つなぐ'), ('line\nbreak and tab\t and \\ backslash')`,
    );
    for (let i = 0; i < 50; i++) {
      await db.query('INSERT INTO orders.orders (customer, note) VALUES ($1, $2)', [
        1 + (i % 3),
        i % 7 === 0 ? null : `注文 ${i}`,
      ]);
    }
    for (let i = 0; i < 30; i++)
      await t.platform.audit.record({ actor: 'staff:1', action: 'orders.create', target: `order:${i}` });
    await t.platform.audit.checkpoint();
    backup = (await t.platform.backups.runOnce())!;
  });
  after(() => t.stop());

  it('writes one tar file with a checksummed manifest of every module table', async () => {
    assert.ok(existsSync(backup.file));
    assert.match(path.basename(backup.file), /^tsunagu-backup-\d{8}T\d{6}Z\.tar$/);
    const names = backup.manifest.tables.map((e) => `${e.schema}.${e.table}`);
    for (const name of [
      'core.audit_log',
      'core.audit_checkpoints',
      'core.schema_migrations',
      'orders.orders',
      'orders.customers',
    ]) {
      assert.ok(names.includes(name), `${name} is in the backup`);
    }
    const orders = backup.manifest.tables.find((e) => e.table === 'orders');
    assert.equal(orders?.rows, 50);
    assert.equal(
      backup.manifest.tables.find((e) => e.schema === 'core' && e.table === 'audit_log')?.rows,
      await auditEntries(t),
    );
    assert.equal(backup.manifest.encrypted, false);
  });

  it('restores into an empty database: every table identical, sequences continued, audit chain verified', async () => {
    const { url, error, report } = await restoreInto(t, backup.file);
    assert.equal(error, undefined);
    assert.deepEqual(report, { ok: true, entries: await auditEntries(t), checkpoints: 1 });
    const tables = backup.manifest.tables.map(({ schema, table }) => ({ schema, table }));
    assert.deepEqual(await snapshot(url, tables), await snapshot(t.databaseUrl, tables));
    // Triggers were not re-fired by the restore: the `updated` counters are the original ones.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query('SELECT max(updated)::int AS m FROM orders.orders');
    await client.end();
    assert.equal(rows[0].m, 1);
  });

  it('refuses a database that is not empty, and changes nothing there', async () => {
    const before = await snapshot(t.databaseUrl, [{ schema: 'orders', table: 'orders' }]);
    await assert.rejects(
      restoreBackup({ db: t.platform.db, file: backup.file, migrations: t.platform.migrations }),
      new RestoreError('the target database is not empty: restore only into a new, empty database'),
    );
    const afterwards = await snapshot(t.databaseUrl, [{ schema: 'orders', table: 'orders' }]);
    // snapshot() consumed one sequence value each time; compare the table contents only.
    assert.equal(afterwards['orders.orders'], before['orders.orders']);
  });

  it('refuses a damaged backup before touching the database', async () => {
    const damaged = path.join(t.dataDir, 'damaged.tar');
    const bytes = readFileSync(backup.file);
    // Inside the table file's stored bytes: its tar header (512 bytes) starts with its name.
    const at = bytes.indexOf(Buffer.from('orders.orders.copy.gz')) + 512 + 5;
    bytes[at] = (bytes[at] ?? 0) ^ 0xff;
    writeFileSync(damaged, bytes);
    const { url, error } = await restoreInto(t, damaged);
    assert.ok(error instanceof RestoreError, String(error));
    assert.match(error.message, /checksum mismatch|the backup is damaged|cannot read backup/);
    assert.equal(await tableCount(url), 0);
  });

  it('encrypts with BACKUP_KEY and restores only with the right key', async () => {
    const key = randomBytes(32).toString('base64');
    const encrypted = await createBackup({
      db: t.platform.db,
      schemas: t.platform.schemas,
      dir: path.join(t.dataDir, 'encrypted'),
      key: Buffer.from(key, 'base64'),
    });
    assert.equal(encrypted.manifest.encrypted, true);
    assert.ok(!readFileSync(encrypted.file).includes(Buffer.from('株式会社つなぐ')));

    const noKey = await restoreInto(t, encrypted.file);
    assert.equal(noKey.error?.message, 'the backup is encrypted: set BACKUP_KEY');
    assert.equal(await tableCount(noKey.url), 0);

    const wrong = await restoreInto(t, encrypted.file, { BACKUP_KEY: randomBytes(32).toString('base64') });
    assert.match(wrong.error?.message ?? '', /^cannot decrypt the backup: wrong BACKUP_KEY\?$/);
    assert.equal(await tableCount(wrong.url), 0, 'a refused restore touches nothing');

    const right = await restoreInto(t, encrypted.file, { BACKUP_KEY: key });
    assert.equal(right.error, undefined);
    const tables = backup.manifest.tables.map(({ schema, table }) => ({ schema, table }));
    const restored = await snapshot(right.url, tables);
    assert.equal(restored['orders.orders'], (await snapshot(t.databaseUrl, tables))['orders.orders']);
  });
});

describe('npm run tsunagu -- backup / restore', () => {
  it('backs up and restores the platform from the command line', async () => {
    const t = await startTestPlatform();
    try {
      for (let i = 0; i < 5; i++)
        await t.platform.audit.record({ actor: 'staff:1', action: 'x', target: `t:${i}` });
      const made = await cli(['backup'], t.env);
      assert.equal(made.code, 0, made.stderr);
      assert.match(
        made.stdout,
        /^backup written: .+tsunagu-backup-\d{8}T\d{6}Z\.tar\n {2}\d+ tables, \d+ rows; keeping 7 generations\n$/,
      );
      const file = made.stdout.split('\n')[0]!.replace('backup written: ', '');
      const url = await createTestDatabase('clirestore');
      const restored = await cli(['restore', file], { ...t.env, DATABASE_URL: url });
      assert.equal(restored.code, 0, restored.stderr);
      assert.match(
        restored.stdout,
        new RegExp(
          `^restored backup of .+: \\d+ tables, \\d+ rows\naudit chain OK: ${await auditEntries(t)} entries, 0 checkpoint\\(s\\) verified\n$`,
        ),
      );
      const again = await cli(['restore', file], { ...t.env, DATABASE_URL: url });
      assert.equal(again.code, 1);
      assert.match(again.stderr, /the target database is not empty/);
    } finally {
      await t.stop();
    }
  });
});

describe('backup schedule', () => {
  it('runs daily at the configured JST time, outside 06:00–24:00 JST', () => {
    // 2026-11-23 02:00 JST = 2026-11-22 17:00 UTC → today 03:00 JST = 18:00 UTC
    assert.equal(
      nextRunAt(new Date('2026-11-22T17:00:00Z'), '03:00').toISOString(),
      '2026-11-22T18:00:00.000Z',
    );
    // 10:00 JST → tomorrow 03:00 JST
    assert.equal(
      nextRunAt(new Date('2026-11-23T01:00:00Z'), '03:00').toISOString(),
      '2026-11-23T18:00:00.000Z',
    );
    // exactly at the time → the next day
    assert.equal(
      nextRunAt(new Date('2026-11-22T18:00:00Z'), '03:00').toISOString(),
      '2026-11-23T18:00:00.000Z',
    );
  });

  it('keeps the newest generations only', async () => {
    const t = await startTestPlatform();
    try {
      const dir = path.join(t.dataDir, 'gen');
      mkdirSync(dir, { recursive: true });
      for (let day = 1; day <= 9; day++)
        writeFileSync(path.join(dir, `tsunagu-backup-202611${String(day).padStart(2, '0')}T180000Z.tar`), '');
      writeFileSync(path.join(dir, 'notes.txt'), 'not a backup');
      assert.deepEqual(pruneBackups(dir, 7), [
        'tsunagu-backup-20261102T180000Z.tar',
        'tsunagu-backup-20261101T180000Z.tar',
      ]);
      assert.equal(readdirSync(dir).length, 8);
    } finally {
      await t.stop();
    }
  });

  it('fires on its own when the time comes', async () => {
    const t = await startTestPlatform();
    // A clock 200 ms before 03:00 JST that advances in real time.
    const base = new Date('2026-11-22T17:59:59.800Z').getTime();
    const started = Date.now();
    const dir = path.join(t.dataDir, 'scheduled');
    const scheduler = scheduleBackups({
      db: t.platform.db,
      schemas: () => t.platform.schemas,
      dir,
      key: undefined,
      generations: 7,
      atJst: '03:00',
      logger: t.platform.logger,
      now: () => new Date(base + (Date.now() - started)),
    });
    try {
      for (
        let i = 0;
        i < 100 && !(existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('Z.tar')));
        i++
      ) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(
        readdirSync(dir).filter((f) => f.endsWith('.tar')),
        ['tsunagu-backup-20261122T180000Z.tar'],
      );
    } finally {
      scheduler.stop();
      await t.stop();
    }
  });
});
