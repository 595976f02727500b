/**
 * npm run bench:adapters — (1) health-app CSV import of 100k rows end to end (file in the drop
 * folder → parse → match by e-mail → claim rows → points grant → file moved), rows/s, for 100k
 * residents × 1 day and 20k residents × 5 days; (2) the LINE webhook at 200 events/s (signed
 * deliveries of one event each, balance and history requests from linked users, replies delivered
 * by the outbox to the LINE Platform double meanwhile): p50/p99 answer time.
 * Targets: ≥ 10,000 rows/s; p99 ≤ 50 ms. BENCH_SECONDS (default 10) sets the webhook phase length.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { adaptersModule, type AdaptersServices, createAdapterPortsModule } from '../adapters/index.ts';
import { type FolderPoller, healthAdapter } from '../adapters/health/index.ts';
import { lineAdapter } from '../adapters/line/index.ts';
import { createCoreModule } from '../core/index.ts';
import { createPlatform } from '../platform.ts';
import { createPointsModule, type PointsService } from '../points/index.ts';
import { LinePlatformDouble, lineUserId } from '../test/adapters/line/line_platform_double.ts';
import { throwawayPostgres } from './support.ts';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
/** BENCH_ONLY=health or line runs one part. */
const ONLY = process.env['BENCH_ONLY'];
const RATE = 200;
const ROWS = 100_000;
const LINE_USERS = 1000;
const CURRENCY = 'bench-pt';

const pg = await throwawayPostgres();
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tsunagu-bench-adapters-'));
const dropDir = path.join(dataDir, 'health-drop');
mkdirSync(dropDir, { recursive: true });
const line = await new LinePlatformDouble().start();
const platform = await createPlatform({
  env: {
    NODE_ENV: 'development',
    DATABASE_URL: pg.url,
    TSUNAGU_DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    PORT: '0',
    HOST: '127.0.0.1',
    DB_POOL_MAX: '20',
    RATE_LIMIT_PER_MINUTE: '1000000',
  },
  modules: [
    createCoreModule,
    createPointsModule,
    adaptersModule({
      env: {
        HEALTH_IMPORT_DIR: dropDir,
        HEALTH_POLL_MS: '0',
        HEALTH_SETTLE_MS: '0',
        HEALTH_CURRENCY: CURRENCY,
        HEALTH_POOL: 'health',
        HEALTH_POINT_TYPE: 'health',
        HEALTH_RATE: '100:1',
        LINE_CHANNEL_SECRET: line.channelSecret,
        LINE_CHANNEL_ACCESS_TOKEN: line.channelAccessToken,
        LINE_API_BASE_URL: line.url,
        LINE_ACCESS_BASE_URL: line.url,
        LINE_CURRENCIES: CURRENCY,
        ADAPTERS_OUTBOX_POLL_MS: '200',
      },
      adapters: [lineAdapter, healthAdapter],
    }),
    createAdapterPortsModule,
  ],
});
const { url } = await platform.listen();
line.webhookUrl = `${url}/api/adapters/line/webhook`;
let cleaned: Promise<void> | undefined;
const cleanup = () =>
  (cleaned ??= (async () => {
    await platform.stop();
    await line.stop();
    await pg.stop();
    rmSync(dataDir, { recursive: true, force: true });
  })());
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    void cleanup().finally(() => process.exit(130));
  });

const points = platform.services['points'] as PointsService;
const adapters = platform.services['adapters'] as AdaptersServices;
const poller = (adapters.adapters['health'] as { poller: FolderPoller }).poller;
const db = platform.db;
const STAFF = 'staff:bench';

await points.createCurrency({ code: CURRENCY, municipality: 'bench', name: 'Bench points' }, STAFF);
await points.createPointType(
  { currency: CURRENCY, code: 'health', name: '健康', validityDays: 365, issuer: 'city' },
  STAFF,
);
await points.createPool({ currency: CURRENCY, pool: 'health' }, STAFF);
await points.fundPool({
  currency: CURRENCY,
  pool: 'health',
  amount: 1_000_000_000,
  idempotency: { scope: 'bench', key: 'fund' },
  actor: STAFF,
});

const residentOf = (i: number) => `bench${String(i).padStart(21, '0')}`;
const emailOf = (i: number) => `resident${i}@example.jp`;

/** Seeds the e-mail mapping the way staff or link pages would, in bulk (not measured). */
async function seedHealthAccounts(n: number) {
  const sealer = adapters.kit.sealer('health-email');
  for (let start = 0; start < n; start += 10_000) {
    const ids = Array.from({ length: Math.min(10_000, n - start) }, (_, k) => start + k);
    const index = ids.map((i) => sealer.blindIndex(emailOf(i)));
    await db.query(
      `INSERT INTO adapters.health_account (email_index, email_sealed, common_id, via, linked_at)
       SELECT i, s, c, 'staff', now() FROM unnest($1::text[], $2::text[], $3::text[]) AS u(i, s, c)`,
      [index, ids.map((i, k) => sealer.seal(index[k]!, emailOf(i))), ids.map(residentOf)],
    );
  }
}

async function importRows(label: string, residents: number, days: number) {
  const lines = ['email,date,steps'];
  for (let d = 0; d < days; d++)
    for (let i = 0; i < residents; i++)
      lines.push(
        `${emailOf(i)},2026-11-${String(10 + d + (label === 'b' ? 10 : 0)).padStart(2, '0')},${3000 + ((i * 7919) % 9000)}`,
      );
  writeFileSync(path.join(dropDir, `bench-${label}.csv`), `${lines.join('\n')}\n`);
  const t0 = performance.now();
  const [report] = await poller.pollOnce();
  const seconds = (performance.now() - t0) / 1000;
  if (report?.status !== 'done' || report.grantedRows !== residents * days)
    throw new Error(`import ${label} did not finish as expected: ${JSON.stringify(report)}`);
  return { seconds, rowsPerSecond: (residents * days) / seconds, timings: report.timingsMs };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

async function seedLineUsers(n: number): Promise<string[]> {
  const sealer = adapters.kit.sealer('line-user');
  const users = Array.from({ length: n }, () => lineUserId());
  const index = users.map((u) => sealer.blindIndex(u));
  await db.query(
    `INSERT INTO adapters.line_user (user_index, user_sealed, common_id, followed, notices, linked_at, updated_at)
     SELECT i, s, c, true, false, now(), now() FROM unnest($1::text[], $2::text[], $3::text[]) AS u(i, s, c)`,
    [index, users.map((u, k) => sealer.seal(index[k]!, u)), users.map((_, k) => residentOf(k))],
  );
  return users;
}

async function webhookLoad(users: string[]) {
  const latencies: number[] = [];
  let failures = 0;
  const total = SECONDS * RATE;
  const started = performance.now();
  const inflight: Promise<void>[] = [];
  for (let n = 0; n < total; n++) {
    const due = started + (n * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const user = users[n % users.length]!;
    const event = n % 10 === 9 ? line.postback(user, 'action=history') : line.textMessage(user, '残高');
    const { body, signature } = line.delivery([event]);
    const t0 = performance.now();
    inflight.push(
      fetch(line.webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-line-signature': signature },
        body,
      }).then(
        async (res) => {
          await res.arrayBuffer();
          if (res.status === 200) latencies.push(performance.now() - t0);
          else if (failures++ === 0) console.error(`webhook answered ${res.status}`);
        },
        (error: unknown) => {
          if (failures++ === 0) console.error(error);
        },
      ),
    );
  }
  await Promise.all(inflight);
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    sent: total,
    rate: total / elapsed,
    failures,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    max: latencies.at(-1) ?? 0,
  };
}

try {
  if (ONLY !== 'line') {
    console.log(`seeding ${ROWS.toLocaleString()} e-mail mappings …`);
    await seedHealthAccounts(ROWS);
    const a = await importRows('a', ROWS, 1);
    console.log(
      `health import, 100k rows × 100k residents: ${a.seconds.toFixed(2)} s, ${Math.round(a.rowsPerSecond).toLocaleString()} rows/s (target ≥ 10,000); steps ms ${JSON.stringify(a.timings)}`,
    );
    const b = await importRows('b', ROWS / 5, 5);
    console.log(
      `health import, 100k rows = 20k residents × 5 days: ${b.seconds.toFixed(2)} s, ${Math.round(b.rowsPerSecond).toLocaleString()} rows/s; steps ms ${JSON.stringify(b.timings)}`,
    );
  }
  if (ONLY === 'health') process.exitCode = 0;
  else {
    const users = await seedLineUsers(LINE_USERS);
    // Warm-up: connections, prepared paths.
    for (let i = 0; i < 20; i++) await line.deliver([line.textMessage(users[i]!, '残高')]);
    const w = await webhookLoad(users);
    await adapters.kit.outbox.runOnce();
    const { rows } = await db.query<{ status: string; n: string }>(
      `SELECT status, count(*)::text AS n FROM adapters.outbox WHERE adapter = 'line' GROUP BY status`,
    );
    console.log(
      `LINE webhook at ${RATE} events/s for ${SECONDS} s: ${w.sent} sent (${w.rate.toFixed(0)}/s achieved), ${w.failures} failed, ` +
        `p50 ${w.p50.toFixed(1)} ms, p99 ${w.p99.toFixed(1)} ms (target ≤ 50), max ${w.max.toFixed(1)} ms`,
    );
    console.log(
      `replies: ${rows.map((r) => `${r.status} ${r.n}`).join(', ')}; LINE double received ${line.replies.length} replies`,
    );
  }
  const invariants = Object.values(await points.invariants()).reduce((s, v) => s + v, 0);
  console.log(`ledger invariant violations: ${invariants}`);
} finally {
  await cleanup();
}
