/**
 * Consistent logical backup of every module schema, without `pg_dump` (the embedded PostgreSQL ships
 * none): one REPEATABLE READ, READ ONLY transaction copies each table with `COPY … TO STDOUT`
 * (PostgreSQL's own text format), gzip-compressed and optionally AES-256-GCM-encrypted, into a tar
 * file with a manifest naming every table, its row count and the SHA-256 of its stored bytes, the
 * applied migrations and the sequence values. Table definitions come from the migrations, which
 * restore re-applies, so a backup restores only into the same Tsunagu version.
 *
 * @example
 *   const { file } = await createBackup({ db, schemas: ['core', 'points'], dir: '/var/backups/tsunagu' });
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { to as copyTo } from 'pg-copy-streams';
import * as tar from 'tar';
import type { Database } from '../database.ts';
import {
  BACKUP_FORMAT,
  type BackupManifest,
  keyCheck,
  manifestChecksum,
  type TableEntry,
} from './manifest.ts';

export interface BackupOptions {
  db: Database;
  /** The schemas to include (every module's, `core` first). */
  schemas: readonly string[];
  dir: string;
  /** 32-byte key; when given every table file is encrypted. */
  key?: Buffer;
  now?: () => Date;
}

export interface BackupResult {
  file: string;
  manifest: BackupManifest;
}

function hashing(onDone: (digest: string, bytes: number) => void): Transform {
  const hash = createHash('sha256');
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, next) {
      hash.update(chunk);
      bytes += chunk.length;
      next(null, chunk);
    },
    flush(next) {
      onDone(hash.digest('hex'), bytes);
      next();
    },
  });
}

function counting(onDone: (rows: number) => void): Transform {
  let rows = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, next) {
      for (const byte of chunk) if (byte === 0x0a) rows++;
      next(null, chunk);
    },
    flush(next) {
      onDone(rows);
      next();
    },
  });
}

export function backupFileName(at: Date): string {
  return `tsunagu-backup-${at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}.tar`;
}

export async function createBackup(options: BackupOptions): Promise<BackupResult> {
  const now = options.now ?? (() => new Date());
  const createdAt = now();
  mkdirSync(options.dir, { recursive: true });
  const work = mkdtempSync(path.join(options.dir, '.partial-'));
  const client = await options.db.pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows: tables } = await client.query<{ schema: string; table: string }>(
      `SELECT table_schema AS schema, table_name AS table FROM information_schema.tables
        WHERE table_type = 'BASE TABLE' AND table_schema = ANY($1) ORDER BY array_position($1, table_schema::text), table_name`,
      [options.schemas],
    );
    const { rows: sequences } = await client.query<{
      schema: string;
      name: string;
      last_value: string | null;
    }>(
      `SELECT schemaname AS schema, sequencename AS name, last_value::text FROM pg_sequences
        WHERE schemaname = ANY($1) ORDER BY schemaname, sequencename`,
      [options.schemas],
    );
    const { rows: migrations } = await client.query<{ module: string; id: string; checksum: string }>(
      'SELECT module, id, checksum FROM core.schema_migrations ORDER BY module, id',
    );
    const { rows: version } = await client.query<{ v: string }>('SHOW server_version');

    const entries: TableEntry[] = [];
    for (const { schema, table } of tables) {
      const file = `${schema}.${table}.copy.gz${options.key ? '.enc' : ''}`;
      const entry: TableEntry = { schema, table, file, rows: 0, bytes: 0, sha256: '' };
      const stages: NodeJS.ReadWriteStream[] = [counting((n) => (entry.rows = n)), createGzip()];
      if (options.key) {
        const iv = randomBytes(12);
        const cipher = createCipheriv('aes-256-gcm', options.key, iv);
        cipher.setAAD(Buffer.from(file));
        stages.push(cipher);
        entry.iv = iv.toString('base64');
        cipher.once('end', () => (entry.tag = cipher.getAuthTag().toString('base64')));
      }
      const source = client.query(
        copyTo(`COPY ${client.escapeIdentifier(schema)}.${client.escapeIdentifier(table)} TO STDOUT`),
      );
      await pipeline(
        source,
        ...(stages as [NodeJS.ReadWriteStream]),
        hashing((digest, bytes) => {
          entry.sha256 = digest;
          entry.bytes = bytes;
        }),
        createWriteStream(path.join(work, file)),
      );
      entries.push(entry);
    }
    await client.query('COMMIT');

    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      createdAt: createdAt.toISOString(),
      serverVersion: version[0]?.v ?? 'unknown',
      schemas: [...options.schemas],
      encrypted: Boolean(options.key),
      ...(options.key ? { keyCheck: keyCheck(options.key) } : {}),
      migrations,
      sequences: sequences.map((s) => ({ schema: s.schema, name: s.name, lastValue: s.last_value })),
      tables: entries,
    };
    writeFileSync(path.join(work, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    writeFileSync(path.join(work, 'manifest.sha256'), `${manifestChecksum(manifest)}  manifest.json\n`);
    const file = path.join(options.dir, backupFileName(createdAt));
    await tar.create({ file: `${file}.tmp`, cwd: work, portable: true }, [
      'manifest.json',
      'manifest.sha256',
      ...entries.map((e) => e.file),
    ]);
    // The rename makes a backup appear whole or not at all.
    const { renameSync } = await import('node:fs');
    renameSync(`${file}.tmp`, file);
    return { file, manifest };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
    rmSync(work, { recursive: true, force: true });
  }
}
