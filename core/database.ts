/**
 * The platform's PostgreSQL: an external server from `DATABASE_URL`, or the embedded one.
 *
 * @example
 *   const db = await openDatabase(config, logger);
 *   await db.transaction(async (tx) => { await tx.query('INSERT …'); });
 *   await db.close();
 */
import pg from 'pg';
import type { Config } from './config.ts';
import { startEmbeddedPostgres } from './embedded_postgres.ts';
import type { Logger } from './logger.ts';

/** A connection usable inside or outside a transaction: the pool, the database or a transaction client. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
}

export interface Database {
  readonly pool: pg.Pool;
  /** True when the platform runs the embedded PostgreSQL. */
  readonly embedded: boolean;
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
  /** Runs `fn` in one transaction; rolls back when it throws. */
  transaction<T>(fn: (tx: pg.PoolClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

// timestamptz and bigint come back as-is: Date objects and decimal strings (no silent precision loss).
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => value);

export interface DatabaseOptions {
  max?: number;
  embedded?: boolean;
  /** Runs after the pool has ended (stops the embedded cluster). */
  onClose?: () => Promise<void>;
}

export function databaseFromUrl(url: string, options: DatabaseOptions = {}): Database {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10 });
  // A client losing its server (restart, failover) must not crash the process: idle clients report
  // through the pool, checked-out ones through their own listener; the query in flight (if any)
  // rejects, and the pool discards the broken client.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return {
    pool,
    embedded: options.embedded ?? false,
    query: (text, values) => pool.query(text, values),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
      await options.onClose?.();
    },
  };
}

/** Opens `DATABASE_URL`, or starts the embedded PostgreSQL in `TSUNAGU_DATA_DIR` and opens that. */
export async function openDatabase(config: Config, logger: Logger): Promise<Database> {
  if (config.databaseUrl) {
    const db = databaseFromUrl(config.databaseUrl, { max: config.dbPoolMax });
    await assertServerVersion(db);
    return db;
  }
  const embedded = await startEmbeddedPostgres({
    dataDir: config.dataDir,
    port: config.embeddedPgPort,
    logger,
  });
  return databaseFromUrl(embedded.url, { max: config.dbPoolMax, embedded: true, onClose: embedded.stop });
}

async function assertServerVersion(db: Database): Promise<void> {
  const { rows } = await db.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`);
  const version = Number(rows[0]?.v ?? 0);
  if (version < 150000) {
    await db.close();
    throw new Error(`PostgreSQL 15 or later is required (DATABASE_URL server reports ${version})`);
  }
}
