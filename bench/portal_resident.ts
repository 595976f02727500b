/**
 * npm run bench:portal — the resident portal's figures:
 *
 *   1. QR codes in-process, 32 at a time: issue + verify (AES-256-GCM, one audit entry per verify)
 *      and redeem (one row + one audit entry in a transaction), per second, with p99 of redeem.
 *   2. The home page over HTTP (session cookie, balances of BENCH_CURRENCIES currencies with two
 *      point types each) at a fixed BENCH_RATE req/s (default 50) for BENCH_SECONDS (default 10),
 *      across BENCH_RESIDENTS residents; latency from each request's scheduled send time.
 *
 * The platform runs as `npm start` assembles it on a throwaway embedded PostgreSQL; the per-client
 * rate limit is raised for the run (one client address sends everything).
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { deriveKey } from '../core/index.ts';
import { createPlatform } from '../platform.ts';
import type { PointsService } from '../points/index.ts';
import type { PortalServices } from '../portal/index.ts';
import { throwawayPostgres } from './support.ts';

const RATE = Number(process.env['BENCH_RATE'] ?? 50);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 32);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const RESIDENTS = Number(process.env['BENCH_RESIDENTS'] ?? 1000);
const CURRENCIES = Number(process.env['BENCH_CURRENCIES'] ?? 3);

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
const ms = (n: number) => `${n.toFixed(2)} ms`;

const pg = await throwawayPostgres();
const platform = await createPlatform({
  env: {
    ...process.env,
    NODE_ENV: 'test',
    DATABASE_URL: pg.url,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '100000000',
    TSUNAGU_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'tsunagu-bench-portal-')),
  },
});
try {
  const { url } = await platform.listen();
  const points = platform.services['points'] as PointsService;
  const portal = platform.services['portal'] as PortalServices;
  const residents = Array.from(
    { length: RESIDENTS },
    (_, i) => `BENCHRESIDENT${String(i).padStart(13, '0')}`,
  );

  // --- set-up: currencies with two point types, every resident granted both ---
  let key = 0;
  const k = () => ({ idempotency: { scope: 'bench', key: `b-${++key}` }, actor: 'system:bench' });
  for (let c = 0; c < CURRENCIES; c++) {
    const currency = `town-${c}`;
    await points.createCurrency(
      { code: currency, municipality: `town${c}`, name: `町${c}ポイント` },
      'bench',
    );
    await points.createPointType(
      { currency, code: 'basic', name: '通常', issuer: 'city', validityDays: 180 },
      'bench',
    );
    await points.createPointType({ currency, code: 'bonus', name: 'ボーナス', issuer: 'city' }, 'bench');
    await points.createPool({ currency, pool: 'city' }, 'bench');
    await points.fundPool({ currency, pool: 'city', amount: RESIDENTS * 1000, ...k() });
    const csv = ['resident,amount', ...residents.map((r) => `${r},100`)].join('\n');
    await points.grantBulk({ currency, pool: 'city', pointType: 'basic', csv, ...k() });
    await points.grantBulk({ currency, pool: 'city', pointType: 'bonus', csv, ...k() });
  }

  // --- 1. QR codes in-process, BENCH_CONCURRENCY (default 32) at a time like card readers at once ---
  const inParallel = async (count: number, job: (i: number) => Promise<void>) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < count) await job(next++);
      }),
    );
  };
  const n = 5000;
  let t0 = performance.now();
  await inParallel(n, async (i) => {
    await portal.qr.verify(portal.qr.issue(residents[i % RESIDENTS]!).token, 'system:bench');
  });
  const verifyRate = n / ((performance.now() - t0) / 1000);
  const redeemTimes: number[] = [];
  t0 = performance.now();
  await inParallel(2000, async (i) => {
    const token = portal.qr.issue(residents[i % RESIDENTS]!).token;
    const s = performance.now();
    await portal.qr.redeem(token, { purpose: 'payment', actor: 'system:bench' });
    redeemTimes.push(performance.now() - s);
  });
  const redeemRate = 2000 / ((performance.now() - t0) / 1000);
  redeemTimes.sort((a, b) => a - b);

  // --- 2. the home page over HTTP at a fixed rate ---
  const secret = deriveKey(platform.config, 'tsunagu/portal/resident-session');
  const cookieFor = (cid: string) => {
    const body = Buffer.from(JSON.stringify({ cid, exp: Math.floor(Date.now() / 1000) + 3600 })).toString(
      'base64url',
    );
    return `tsunagu_portal=${body}.${createHmac('sha256', secret).update(`session\u0000${body}`).digest('base64url')}`;
  };
  const cookies = residents.map(cookieFor);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const target = new URL(`${url}/portal`);
  const get = (cookie: string) =>
    new Promise<number>((resolve, reject) => {
      const req = http.get(
        { host: target.hostname, port: target.port, path: '/portal', agent, headers: { cookie } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
    });
  for (let i = 0; i < 50; i++) await get(cookies[i % cookies.length]!); // warm-up
  const total = RATE * SECONDS;
  const latencies: number[] = [];
  let failures = 0;
  const start = performance.now() + 50;
  await Promise.all(
    Array.from({ length: total }, async (_, i) => {
      const scheduled = start + (i * 1000) / RATE;
      const wait = scheduled - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const status = await get(cookies[i % cookies.length]!).catch(() => 0);
      if (status !== 200) failures += 1;
      latencies.push(performance.now() - scheduled);
    }),
  );
  latencies.sort((a, b) => a - b);
  agent.destroy();

  process.stdout.write(
    [
      `resident QR issue + verify (in-process, ${CONCURRENCY} at a time, audited): ${verifyRate.toFixed(0)}/s`,
      `resident QR redeem (${CONCURRENCY} at a time, one row + audit entry per code): ${redeemRate.toFixed(0)}/s, p99 ${ms(pct(redeemTimes, 0.99))}`,
      `home page, ${RESIDENTS} residents × ${CURRENCIES} currencies × 2 point types, ${RATE} req/s for ${SECONDS} s: ` +
        `p50 ${ms(pct(latencies, 0.5))}, p95 ${ms(pct(latencies, 0.95))}, p99 ${ms(pct(latencies, 0.99))}, ${failures} failures`,
      '',
    ].join('\n'),
  );
} finally {
  await platform.stop();
  await pg.stop();
}
