/**
 * npm run bench:points — payments/s through the points service at concurrency 32 with 10k residents
 * and 300 merchants: (1) payments spread over all merchants, (2) half of all payments to one hot
 * merchant, and, as the limit, (3) the raw PostgreSQL rate of a minimal transaction doing the same
 * row changes (two balance updates, one lot update, two posting inserts) on plain tables, spread and
 * hot. Ends with the ledger's invariant check. Targets: ≥ 3,000/s spread, ≥ 2,000/s hot, ≥ 50% of raw.
 * BENCH_SECONDS (default 10) sets the length of each phase.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createCoreModule } from '../core/index.ts';
import { createPlatform } from '../platform.ts';
import { type PointsService, pointsModule } from '../points/index.ts';
import { throwawayPostgres } from './support.ts';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const CONCURRENCY = 32;
const RESIDENTS = 10_000;
const MERCHANTS = 300;
const STAFF = 'staff:bench';

const pg = await throwawayPostgres();
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tsunagu-bench-points-'));
const platform = await createPlatform({
  env: {
    NODE_ENV: 'development',
    DATABASE_URL: pg.url,
    TSUNAGU_DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    DB_POOL_MAX: String(CONCURRENCY),
  },
  modules: [createCoreModule, pointsModule()],
});
const points = platform.services['points'] as PointsService;
const db = platform.db;
let cleaned: Promise<void> | undefined;
const cleanup = () =>
  (cleaned ??= (async () => {
    await platform.stop();
    await pg.stop();
    rmSync(dataDir, { recursive: true, force: true });
  })());
// A timeout or Ctrl-C must not leave the throwaway PostgreSQL running.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    void cleanup().finally(() => process.exit(130));
  });

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

/** Runs `op` from CONCURRENCY workers for SECONDS; returns completed ops/s and latency percentiles. */
async function load(op: (n: number) => Promise<void>, seconds = SECONDS) {
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) {
        const n = next++;
        const t0 = performance.now();
        try {
          await op(n);
          latencies.push(performance.now() - t0);
        } catch (error) {
          failures += 1;
          if (failures === 1) console.error(error);
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    rate: latencies.length / elapsed,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    failures,
  };
}

const rand = (n: number) => Math.floor(Math.random() * n);
const started = performance.now();
const progress = (step: string) =>
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${step}\n`);
const resident = () => `r${rand(RESIDENTS)}`;
const spreadMerchant = () => `m${rand(MERCHANTS)}`;
const hotMerchant = () => (Math.random() < 0.5 ? 'm0' : `m${1 + rand(MERCHANTS - 1)}`);

try {
  // ---- setup: one currency, 10k residents with a grant each, 300 merchants
  await points.createCurrency({ code: 'bench', municipality: 'bench-city', name: 'Bench points' }, STAFF);
  await points.createPointType(
    { currency: 'bench', code: 'event', name: 'Event', spendPriority: 10, validityDays: 365, issuer: 'city' },
    STAFF,
  );
  for (let m = 0; m < MERCHANTS; m++)
    await points.registerMerchant({ id: `m${m}`, municipality: 'bench-city', name: `Shop ${m}` }, STAFF);
  await points.createPool({ currency: 'bench', pool: 'city' }, STAFF);
  await points.fundPool({
    currency: 'bench',
    pool: 'city',
    amount: 1e12,
    idempotency: { scope: 'staff', key: 'fund' },
    actor: STAFF,
  });
  progress('merchants registered');
  const csv = ['resident,amount', ...Array.from({ length: RESIDENTS }, (_, i) => `r${i},10000000`)].join(
    '\n',
  );
  const t0 = performance.now();
  await points.grantBulk({
    currency: 'bench',
    pool: 'city',
    pointType: 'event',
    csv,
    idempotency: { scope: 'staff', key: 'bulk' },
    actor: STAFF,
  });
  const bulkMs = performance.now() - t0;
  // the issue's bulk size: one CSV of 100k grants, one journal, capped by the pool
  const big = [
    'resident,amount',
    ...Array.from({ length: 100_000 }, (_, i) => `b${i},${1 + (i % 500)}`),
  ].join('\n');
  progress('10k bulk grant done');
  const t1 = performance.now();
  await points.grantBulk({
    currency: 'bench',
    pool: 'city',
    pointType: 'event',
    csv: big,
    idempotency: { scope: 'staff', key: 'bulk-100k' },
    actor: STAFF,
  });
  const bulk100kMs = performance.now() - t1;
  progress('100k bulk grant done');
  // merchant accounts exist from their first payment; create them all up front
  for (let m = 0; m < MERCHANTS; m++)
    await points.pay({
      currency: 'bench',
      resident: 'r0',
      merchant: `m${m}`,
      amount: 1,
      idempotency: { scope: 'bench', key: `open-${m}` },
      actor: 'bench',
    });

  let seq = 0;
  const payment = (merchant: () => string) => async () => {
    seq += 1;
    await points.pay({
      currency: 'bench',
      resident: resident(),
      merchant: merchant(),
      amount: 1,
      idempotency: { scope: 'bench', key: `p-${seq}` },
      actor: 'client:bench',
    });
  };

  // ---- raw PostgreSQL: the same row changes on plain tables, one statement = one transaction
  await db.query(`
    CREATE SCHEMA bench_raw;
    CREATE TABLE bench_raw.account (id bigint PRIMARY KEY, balance bigint NOT NULL);
    CREATE TABLE bench_raw.lot (id bigint PRIMARY KEY, remaining bigint NOT NULL);
    CREATE TABLE bench_raw.posting (id bigserial PRIMARY KEY, account_id bigint, amount bigint);
    INSERT INTO bench_raw.account SELECT g, 10000000 FROM generate_series(0, ${RESIDENTS + MERCHANTS}) g;
    INSERT INTO bench_raw.lot SELECT g, 10000000 FROM generate_series(0, ${RESIDENTS}) g;`);
  const rawSql = `WITH a AS (UPDATE bench_raw.account SET balance = balance - 1 WHERE id = $1),
      b AS (UPDATE bench_raw.account SET balance = balance + 1 WHERE id = $2),
      l AS (UPDATE bench_raw.lot SET remaining = remaining - 1 WHERE id = $1)
    INSERT INTO bench_raw.posting (account_id, amount) VALUES ($1, -1), ($2, 1)`;
  const raw = (merchant: () => string) => async () => {
    await db.query(rawSql, [rand(RESIDENTS), RESIDENTS + 1 + Number(merchant().slice(1))]);
  };

  progress('setup done');
  await load(payment(spreadMerchant), 2); // warm-up
  const spread = await load(payment(spreadMerchant));
  const hot = await load(payment(hotMerchant));
  await load(raw(spreadMerchant), 2);
  const rawSpread = await load(raw(spreadMerchant));
  const rawHot = await load(raw(hotMerchant));
  const violations = await points.invariants();
  const total = Object.values(violations).reduce((s, n) => s + n, 0);

  const line = (name: string, r: { rate: number; p50: number; p99: number; failures: number }) =>
    `  ${name.padEnd(44)} ${r.rate.toFixed(0).padStart(6)} /s   p50 ${r.p50.toFixed(1)} ms   p99 ${r.p99.toFixed(1)} ms${r.failures ? `   ${r.failures} FAILED` : ''}`;
  const verdict = (ok: boolean) => (ok ? 'MET' : 'MISSED');
  console.log(
    `points: ${RESIDENTS} residents, ${MERCHANTS} merchants, concurrency ${CONCURRENCY}, ${SECONDS} s per phase, service in-process`,
  );
  console.log(
    `  bulk CSV grant: ${RESIDENTS} rows in ${bulkMs.toFixed(0)} ms, 100000 rows in ${bulk100kMs.toFixed(0)} ms (one journal each)`,
  );
  console.log(line('payments, spread over merchants', spread));
  console.log(line('payments, half to one hot merchant', hot));
  console.log(line('raw PostgreSQL minimal transaction, spread', rawSpread));
  console.log(line('raw PostgreSQL minimal transaction, hot', rawHot));
  console.log(
    `  spread ≥ 3000/s: ${verdict(spread.rate >= 3000)}   hot ≥ 2000/s: ${verdict(hot.rate >= 2000)}   ` +
      `spread ${((spread.rate / rawSpread.rate) * 100).toFixed(0)}% of raw, hot ${((hot.rate / rawHot.rate) * 100).toFixed(0)}% of raw (≥ 50%): ` +
      verdict(spread.rate >= rawSpread.rate / 2 && hot.rate >= rawHot.rate / 2),
  );
  console.log(`  invariant check: ${total} violation(s) ${JSON.stringify(violations)}`);
  if (total !== 0 || spread.failures || hot.failures) process.exitCode = 1;
} finally {
  await cleanup();
}
