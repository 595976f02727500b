/**
 * `npm run broker`: only the NGSIv2 broker, on PORT (default 1026, like Orion). Stores in
 * DATABASE_URL when set (creating the `broker` schema if missing), else in the embedded
 * PostgreSQL under TSUNAGU_DATA_DIR. Answers with exactly Orion's headers (no platform middleware).
 *
 * BROKER_WORKERS=n (with DATABASE_URL) runs n broker processes sharing the port; they keep their
 * subscription caches in step through PostgreSQL (see subscriptions/service.ts).
 */
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, loadConfig, migrate, openDatabase } from '../core/index.ts';
import { brokerSettings, createBroker } from './broker.ts';
import { brokerMigrations } from './migrations.ts';

const started = Date.now();
const env: Record<string, string | undefined> = { ...process.env, PORT: process.env['PORT'] ?? '1026' };
// Orion's MongoDB acknowledges a write before its journal is flushed; synchronous_commit=off is the
// PostgreSQL equivalent (a crash may lose the last moments of updates, never corrupts). Set per
// connection of the broker's own pool, so nothing else is affected.
const asyncCommit = env['BROKER_SYNCHRONOUS_COMMIT'] === 'off';
if (asyncCommit && env['DATABASE_URL']) {
  const url = new URL(env['DATABASE_URL']);
  url.searchParams.set('options', '-c synchronous_commit=off');
  env['DATABASE_URL'] = url.toString();
}
const config = loadConfig(env);
const logger = createLogger({ level: config.logLevel });
const requested = Number(env['BROKER_WORKERS'] ?? 1);
if (!Number.isInteger(requested) || requested < 1)
  throw new Error('BROKER_WORKERS must be a positive integer');
const workers = config.databaseUrl ? requested : 1;
if (requested > 1 && !config.databaseUrl)
  logger.warn('BROKER_WORKERS needs DATABASE_URL; running one process');

function announce(port: number, embedded: boolean): void {
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  process.stdout.write(
    `Tsunagu NGSIv2 broker listening on http://${host}:${port} (ready in ${Date.now() - started} ms, ${embedded ? 'embedded' : 'external'} PostgreSQL, ${workers} process${workers > 1 ? 'es' : ''})\n`,
  );
}

if (workers > 1 && cluster.isPrimary) {
  // The primary migrates once, then forks the workers and reports when all of them listen.
  const db = await openDatabase(config, logger);
  await migrate(db, [brokerMigrations], logger);
  await db.close();
  let listening = 0;
  for (let i = 0; i < workers; i++) {
    const worker = cluster.fork();
    worker.on('message', (message: { port?: number }) => {
      if (typeof message.port === 'number' && ++listening === workers) announce(message.port, false);
    });
  }
  let stopping = false;
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  cluster.on('exit', (worker, code) => {
    if (!stopping) logger.error({ pid: worker.process.pid, code }, 'broker worker exited');
  });
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} else {
  const db = await openDatabase(config, logger);
  if (asyncCommit && !config.databaseUrl) {
    db.pool.on('connect', (client) => {
      client.query('SET synchronous_commit TO off').catch(() => {});
    });
  }
  if (workers === 1) await migrate(db, [brokerMigrations], logger);
  const broker = createBroker({ db, logger, now: () => new Date(), settings: brokerSettings(env) });
  await broker.start();

  const server = createServer(broker.nodeHandler);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const port = (server.address() as AddressInfo).port;
  if (cluster.isWorker) process.send?.({ port });
  else announce(port, db.embedded);

  let stopping = false;
  const shutdown = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs).unref();
    await closed;
    await broker.stop();
    await db.close();
    if (cluster.isWorker) process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}
