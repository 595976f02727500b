/**
 * Restores a backup made by `createBackup` into an empty database: checks the manifest's checksum and
 * every file's SHA-256 before touching the database, applies this version's migrations (which must be
 * exactly the backup's), then loads every table with `COPY … FROM STDIN` and resets the sequences, all
 * in one transaction with triggers and foreign keys deferred to the copy (session_replication_role =
 * replica, which needs a superuser role, as the embedded PostgreSQL's is). Row counts are checked
 * against the manifest before COMMIT: a restore is whole or nothing.
 */
import { createDecipheriv, createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { from as copyFrom } from 'pg-copy-streams';
import * as tar from 'tar';
import type { Database } from '../database.ts';
import { type ModuleMigrations, migrate } from '../migrations.ts';
import { BACKUP_FORMAT, type BackupManifest, keyCheck, manifestChecksum } from './manifest.ts';

export class RestoreError extends Error {
  override name = 'RestoreError';
}

export interface RestoreOptions {
  db: Database;
  file: string;
  migrations: readonly ModuleMigrations[];
  key?: Buffer;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(
    createReadStream(file),
    new Writable({
      write(chunk, _enc, next) {
        hash.update(chunk);
        next();
      },
    }),
  );
  return hash.digest('hex');
}

/** Reads and checks the archive; returns the manifest and the folder it was unpacked into. */
export async function openBackup(file: string): Promise<{ manifest: BackupManifest; dir: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsunagu-restore-'));
  try {
    await tar.extract({ file, cwd: dir, strict: true });
    const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as BackupManifest;
    if (manifest.format !== BACKUP_FORMAT)
      throw new RestoreError(`not a Tsunagu backup (format ${String(manifest.format)})`);
    const recorded = readFileSync(path.join(dir, 'manifest.sha256'), 'utf8').split(/\s+/)[0];
    if (recorded !== manifestChecksum(manifest))
      throw new RestoreError('manifest checksum mismatch: the backup is damaged');
    for (const table of manifest.tables) {
      if (path.basename(table.file) !== table.file)
        throw new RestoreError(`bad file name in manifest: ${table.file}`);
      if ((await sha256File(path.join(dir, table.file))) !== table.sha256) {
        throw new RestoreError(`checksum mismatch for ${table.file}: the backup is damaged`);
      }
    }
    return { manifest, dir };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    if (error instanceof RestoreError) throw error;
    throw new RestoreError(`cannot read backup ${file}: ${(error as Error).message}`);
  }
}

async function assertEmpty(db: Database, schemas: string[]): Promise<void> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = ANY($1)`,
    [schemas],
  );
  if ((rows[0]?.n ?? 0) > 0) {
    throw new RestoreError('the target database is not empty: restore only into a new, empty database');
  }
}

function sameMigrations(manifest: BackupManifest, sets: readonly ModuleMigrations[]): string | null {
  const ours = new Map(sets.flatMap((s) => s.migrations.map((m) => [`${s.module}/${m.id}`, m] as const)));
  for (const m of manifest.migrations) {
    if (!ours.has(`${m.module}/${m.id}`))
      return `the backup has migration ${m.module}/${m.id}, unknown to this version`;
  }
  if (ours.size !== manifest.migrations.length) return 'this version has migrations the backup does not';
  return null;
}

export async function restoreBackup(options: RestoreOptions): Promise<BackupManifest> {
  const { manifest, dir } = await openBackup(options.file);
  try {
    if (manifest.encrypted && !options.key) throw new RestoreError('the backup is encrypted: set BACKUP_KEY');
    if (manifest.encrypted && manifest.keyCheck !== keyCheck(options.key!)) {
      throw new RestoreError('cannot decrypt the backup: wrong BACKUP_KEY?');
    }
    const mismatch = sameMigrations(manifest, options.migrations);
    if (mismatch) throw new RestoreError(`version mismatch: ${mismatch}`);
    await assertEmpty(options.db, manifest.schemas);
    await migrate(options.db, options.migrations);
    const checksums = new Map(manifest.migrations.map((m) => [`${m.module}/${m.id}`, m.checksum]));
    const { rows: applied } = await options.db.query<{ key: string; checksum: string }>(
      `SELECT module || '/' || id AS key, checksum FROM core.schema_migrations`,
    );
    for (const row of applied) {
      if (checksums.get(row.key) !== row.checksum)
        throw new RestoreError(`version mismatch: migration ${row.key} differs`);
    }

    await options.db.transaction(async (tx) => {
      await tx.query('SET LOCAL session_replication_role = replica');
      const names = manifest.tables.map(
        (t) => `${tx.escapeIdentifier(t.schema)}.${tx.escapeIdentifier(t.table)}`,
      );
      // Migrations may seed rows; the backup's rows replace them.
      if (names.length > 0) await tx.query(`TRUNCATE ${names.join(', ')}`);
      // schema_migrations is rewritten from the backup too, which matched ours above.
      for (const [i, table] of manifest.tables.entries()) {
        const stages: NodeJS.ReadWriteStream[] = [];
        if (manifest.encrypted) {
          const decipher = createDecipheriv(
            'aes-256-gcm',
            options.key!,
            Buffer.from(table.iv ?? '', 'base64'),
          );
          decipher.setAAD(Buffer.from(table.file));
          decipher.setAuthTag(Buffer.from(table.tag ?? '', 'base64'));
          stages.push(decipher);
        }
        stages.push(createGunzip());
        let rows = 0;
        stages.push(
          new Transform({
            transform(chunk: Buffer, _enc, next) {
              for (const byte of chunk) if (byte === 0x0a) rows++;
              next(null, chunk);
            },
          }),
        );
        try {
          await pipeline(
            createReadStream(path.join(dir, table.file)),
            ...(stages as [NodeJS.ReadWriteStream]),
            tx.query(copyFrom(`COPY ${names[i]} FROM STDIN`)),
          );
        } catch (error) {
          const message = (error as Error).message;
          throw new RestoreError(
            /auth|decrypt/i.test(message)
              ? `cannot decrypt ${table.file}: wrong BACKUP_KEY?`
              : `${table.file}: ${message}`,
          );
        }
        if (rows !== table.rows)
          throw new RestoreError(`${table.file}: ${rows} rows read, manifest says ${table.rows}`);
      }
      for (const s of manifest.sequences) {
        const name = `${tx.escapeIdentifier(s.schema)}.${tx.escapeIdentifier(s.name)}`;
        if (s.lastValue === null) await tx.query(`SELECT setval($1::regclass, 1, false)`, [name]);
        else await tx.query(`SELECT setval($1::regclass, $2::bigint, true)`, [name, s.lastValue]);
      }
    });
    return manifest;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
