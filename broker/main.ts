/**
 * `npm run broker`: only the NGSIv2 broker, on PORT (default 1026, like Orion). Stores in
 * DATABASE_URL when set (creating the `broker` schema if missing), else in the embedded
 * PostgreSQL under TSUNAGU_DATA_DIR. Answers with exactly Orion's headers (no platform middleware).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, loadConfig, migrate, openDatabase } from '../core/index.ts';
import { brokerSettings, createBroker } from './broker.ts';
import { brokerMigrations } from './migrations.ts';

const started = Date.now();
const env = { ...process.env, PORT: process.env['PORT'] ?? '1026' };
const config = loadConfig(env);
const logger = createLogger({ level: config.logLevel });
const db = await openDatabase(config, logger);
await migrate(db, [brokerMigrations], logger);
const broker = createBroker({ db, logger, now: () => new Date(), settings: brokerSettings(env) });
await broker.start();

const server = createServer(broker.nodeHandler);
server.keepAliveTimeout = 5000;
await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
const port = (server.address() as AddressInfo).port;
const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
process.stdout.write(
  `Tsunagu NGSIv2 broker listening on http://${host}:${port} (ready in ${Date.now() - started} ms, ${db.embedded ? 'embedded' : 'external'} PostgreSQL)\n`,
);

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs).unref();
  await closed;
  await broker.stop();
  await db.close();
}
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());
