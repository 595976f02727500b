/**
 * npm run bench:dashboards — prints, in one run:
 *   (1) seeding: BENCH_PAYMENTS (default 10000) payments by 2000 residents at 50 merchants over
 *       BENCH_DAYS (default 30) JST days, through the points service (8 in flight);
 *   (2) refresh: the incremental refresh of those days through the points service (ms per day);
 *   (3) dashboard queries over HTTP, 200 each, sequential: the analysts' query API (use per merchant
 *       for a month), the operator dashboard page and a published (suppressed) chart — p50 / p95 ms;
 *   (4) the same query API on a large aggregate table: BENCH_FLOW_ROWS (default 1000000) synthetic
 *       rows added to analytics.points_flow_daily (3 years × merchants × types), p50 / p95 ms;
 *       first rebuilding its monthly rollup (analytics.points_flow_monthly), which queries without
 *       single-day filters read;
 *   (5) CSV, Arrow IPC and Parquet export of that whole table, streamed: rows/s and peak RSS.
 * Targets (issue 10): dashboard query p95 ≤ 300 ms; a 1M-row export under 300 MB peak memory.
 */
import { createBrokerModule } from '../broker/index.ts';
import { createCoreModule } from '../core/index.ts';
import { createDashboardsModule, type DashboardsServices } from '../dashboards/index.ts';
import { createPlatform } from '../platform.ts';
import { createPointsModule, type PointsService } from '../points/index.ts';
import { staticTokens } from '../test/support/platform.ts';
import { throwawayPostgres } from './support.ts';

const PAYMENTS = Number(process.env['BENCH_PAYMENTS'] ?? 10_000);
const DAYS = Number(process.env['BENCH_DAYS'] ?? 30);
const FLOW_ROWS = Number(process.env['BENCH_FLOW_ROWS'] ?? 1_000_000);
const RESIDENTS = 2000;
const MERCHANTS = 50;
const CURRENCY = 'bench-lsp';
const STAFF = 'staff:bench';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function timed(n: number, fn: () => Promise<void>): Promise<string> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return `p50 ${percentile(times, 50).toFixed(1)} ms, p95 ${percentile(times, 95).toFixed(1)} ms`;
}

const pg = await throwawayPostgres();
const clock = { now: new Date('2026-04-01T01:00:00Z') };
const platform = await createPlatform({
  env: { DATABASE_URL: pg.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', NODE_ENV: 'test' },
  modules: [createCoreModule, createPointsModule, createBrokerModule, createDashboardsModule],
  tokenVerifier: staticTokens({
    bench: { clientId: 'bench', scopes: ['dashboards:read', 'dashboards:write'] },
  }),
  now: () => clock.now,
});
const { url } = await platform.listen();
const auth = { authorization: 'Bearer bench', 'content-type': 'application/json' };
try {
  const points = platform.services['points'] as PointsService;
  const dashboards = platform.services['dashboards'] as DashboardsServices;
  await points.createCurrency({ code: CURRENCY, municipality: 'bench', name: 'Bench' }, STAFF);
  await points.createPointType(
    { currency: CURRENCY, code: 'event', name: 'E', validityDays: 365, issuer: 'city' },
    STAFF,
  );
  for (let m = 0; m < MERCHANTS; m++)
    await points.registerMerchant(
      { id: `m${m}`, municipality: 'bench', name: `M${m}`, place: `p${m % 10}` },
      STAFF,
    );
  await points.createPool({ currency: CURRENCY, pool: 'city' }, STAFF);
  let key = 0;
  const idem = () => ({ scope: 'bench', key: `b-${++key}` });
  await points.fundPool({
    currency: CURRENCY,
    pool: 'city',
    amount: 1e12,
    idempotency: idem(),
    actor: STAFF,
  });
  const seedStart = performance.now();
  for (let r = 0; r < RESIDENTS; r += 8)
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        points.grant({
          currency: CURRENCY,
          pool: 'city',
          resident: `r${r + i}`,
          amount: 1_000_000,
          pointType: 'event',
          idempotency: idem(),
          actor: STAFF,
        }),
      ),
    );
  const perDay = Math.ceil(PAYMENTS / DAYS);
  let done = 0;
  for (let d = 0; d < DAYS && done < PAYMENTS; d++) {
    clock.now = new Date(Date.parse('2026-04-01T01:00:00Z') + d * 86_400_000);
    const today = Math.min(perDay, PAYMENTS - done);
    for (let i = 0; i < today; i += 8)
      await Promise.all(
        Array.from({ length: Math.min(8, today - i) }, (_, j) => {
          const n = done + i + j;
          return points.pay({
            currency: CURRENCY,
            resident: `r${(n * 7919) % RESIDENTS}`,
            merchant: `m${n % MERCHANTS}`,
            amount: 1 + (n % 500),
            idempotency: idem(),
            actor: 'client:bench',
          });
        }),
      );
    done += today;
  }
  const seedSeconds = (performance.now() - seedStart) / 1000;
  console.log(
    `(1) seeded ${done} payments over ${DAYS} days in ${seedSeconds.toFixed(1)} s (${(done / seedSeconds).toFixed(0)}/s)`,
  );

  const lastDay = new Date(Date.parse('2026-04-01T00:00:00Z') + (DAYS - 1) * 86_400_000)
    .toISOString()
    .slice(0, 10);
  const refreshStart = performance.now();
  await dashboards.refresher.refreshPoints({ currency: CURRENCY, from: '2026-04-01', to: lastDay }, STAFF);
  const refreshMs = performance.now() - refreshStart;
  console.log(
    `(2) refresh through the points service: ${DAYS} days in ${refreshMs.toFixed(0)} ms (${(refreshMs / DAYS).toFixed(1)} ms/day)`,
  );

  const query = {
    chartType: 'bar',
    dimensions: ['merchant'],
    measures: [{ column: 'amount' }],
    filters: [
      { column: 'currency', op: 'eq', value: CURRENCY },
      { column: 'flow', op: 'eq', value: 'used' },
      { column: 'day', op: 'gte', value: '2026-04-01' },
      { column: 'day', op: 'lte', value: lastDay },
    ],
  };
  const runQuery = async () => {
    const res = await fetch(`${url}/api/dashboards/views/points_flow_daily/query`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify(query),
    });
    if (res.status !== 200) throw new Error(`query answered ${res.status}`);
    await res.arrayBuffer();
  };
  console.log(`(3) query API, use per merchant over ${DAYS} days: ${await timed(200, runQuery)}`);
  console.log(
    `    operator page: ${await timed(200, async () => {
      const res = await fetch(`${url}/admin/dashboards?currency=${CURRENCY}&from=2026-04-01&to=${lastDay}`);
      if (res.status !== 200) throw new Error(`page answered ${res.status}`);
      await res.arrayBuffer();
    })}`,
  );
  const chart = (await (
    await fetch(`${url}/api/dashboards/charts`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        title: 'Active residents',
        definition: {
          view: 'points_kpi_daily',
          chartType: 'line',
          dimensions: ['day'],
          measures: [{ column: 'active_residents' }],
        },
      }),
    })
  ).json()) as { id: number };
  const pub = (await (
    await fetch(`${url}/api/dashboards/charts/${chart.id}/publications`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ audience: 'residents' }),
    })
  ).json()) as { url: string };
  console.log(
    `    published chart: ${await timed(200, async () => {
      const res = await fetch(`${url}${pub.url}`);
      if (res.status !== 200) throw new Error(`published chart answered ${res.status}`);
      await res.arrayBuffer();
    })}`,
  );

  const insertStart = performance.now();
  await platform.db.query(
    `INSERT INTO analytics.points_flow_daily (day, currency, point_type, issuer, flow, merchant, place, amount)
     SELECT date '2023-04-01' + (g / 900), $1, 't' || (g % 3), 'city', 'used', 'm' || (g / 3 % 300), 'p' || (g % 10), g % 1000
       FROM generate_series(0, $2::int - 1) g`,
    [CURRENCY, FLOW_ROWS],
  );
  await platform.db.query('ANALYZE analytics.points_flow_daily');
  console.log(
    `(4) added ${FLOW_ROWS} synthetic flow rows in ${((performance.now() - insertStart) / 1000).toFixed(1)} s`,
  );
  const rollupStart = performance.now();
  const months = await dashboards.refresher.rollUpMonths(CURRENCY);
  await platform.db.query('ANALYZE analytics.points_flow_monthly');
  const { rows: rollupRows } = await platform.db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM analytics.points_flow_monthly',
  );
  console.log(
    `    monthly rollup of ${months} months: ${rollupRows[0]!.n} rows in ${((performance.now() - rollupStart) / 1000).toFixed(1)} s (${((performance.now() - rollupStart) / months).toFixed(0)} ms per month, as a nightly refresh rebuilds one)`,
  );
  query.filters[2]!.value = '2025-04-01';
  query.filters[3]!.value = '2025-04-30';
  console.log(`    query API, use per merchant for one month: ${await timed(200, runQuery)}`);
  query.filters.splice(2, 2);
  console.log(`    query API, use per merchant over all rows: ${await timed(20, runQuery)}`);

  console.log(
    `    same, minimum per merchant (daily table, no rollup): ${await timed(5, async () => {
      const res = await fetch(`${url}/api/dashboards/views/points_flow_daily/query`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ ...query, measures: [{ column: 'amount', aggregate: 'min' }] }),
      });
      if (res.status !== 200) throw new Error(`query answered ${res.status}`);
      await res.arrayBuffer();
    })}`,
  );

  for (const format of ['csv', 'arrows', 'parquet']) {
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const exportStart = performance.now();
    const res = await fetch(`${url}/api/dashboards/views/points_flow_daily/export.${format}`, {
      headers: auth,
    });
    if (res.status !== 200) throw new Error(`export answered ${res.status}`);
    let bytes = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.length;
    clearInterval(sampler);
    const exportSeconds = (performance.now() - exportStart) / 1000;
    const { rows: total } = await platform.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM analytics.points_flow_daily',
    );
    console.log(
      `(5) ${format} export: ${total[0]!.n} rows, ${(bytes / 1e6).toFixed(0)} MB in ${exportSeconds.toFixed(1)} s (${(total[0]!.n / exportSeconds).toFixed(0)} rows/s); peak RSS ${(peak / 1e6).toFixed(0)} MB (before: ${(before / 1e6).toFixed(0)} MB; server and client in one process)`,
    );
  }
} finally {
  await platform.stop();
  await pg.stop();
}
