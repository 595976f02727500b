/**
 * npm run bench:public — the merchant directory's search over HTTP with 5,000 shops.
 *
 * The platform runs as `npm start` assembles it (every module, embedded PostgreSQL) with 5,000
 * merchants in the points ledger, each with an approved directory entry (name, kana, category,
 * district, address, coordinates) in two municipalities. A separate process sends `GET /shops?…`
 * at a fixed 200 req/s (BENCH_RATE) for BENCH_SECONDS (default 20): a mix of name keywords,
 * categories, districts and combinations, each rendered as the full HTML page. Latency is measured
 * from each request's scheduled send time (no coordinated omission). Target: p95 ≤ 50 ms.
 *
 * The per-client rate limit is raised for the run (one client address sends everything).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { createPlatform } from '../platform.ts';
import { throwawayPostgres } from './support.ts';

const SHOPS = Number(process.env['BENCH_SHOPS'] ?? 5000);
const RATE = Number(process.env['BENCH_RATE'] ?? 200);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 20);

const PREFIX = [
  ['さくら', 'さくら'],
  ['みどり', 'みどり'],
  ['ひまわり', 'ひまわり'],
  ['駅前', 'えきまえ'],
  ['中央', 'ちゅうおう'],
  ['港', 'みなと'],
  ['山手', 'やまて'],
  ['川端', 'かわばた'],
  ['本町', 'ほんまち'],
  ['栄', 'さかえ'],
  ['石鎚', 'いしづち'],
  ['朝日', 'あさひ'],
] as const;
const KINDS = [
  ['珈琲', 'こーひー', 'cafe'],
  ['食堂', 'しょくどう', 'restaurant'],
  ['青果', 'せいか', 'grocery'],
  ['書店', 'しょてん', 'retail'],
  ['薬局', 'やっきょく', 'health'],
  ['美容室', 'びようしつ', 'beauty'],
  ['商店', 'しょうてん', 'retail'],
  ['ベーカリー', 'べーかりー', 'grocery'],
  ['酒店', 'さかてん', 'retail'],
  ['クリーニング', 'くりーにんぐ', 'services'],
  ['旅館', 'りょかん', 'lodging'],
  ['洋品店', 'ようひんてん', 'clothing'],
] as const;
const TOWNS = ['saijo', 'niihama'] as const;
const AREAS = ['駅前', '中央', '港', '山手', '川端', '本町', '栄町', '丹原', '小松', '東予'] as const;

function pick<T>(list: readonly T[], n: number): T {
  return list[n % list.length]!;
}

/** The request mix: what people type and choose in the search form. */
function queries(): string[] {
  const out: string[] = [];
  for (let i = 0; i < 400; i++) {
    const p = pick(PREFIX, i * 7);
    const k = pick(KINDS, i * 5);
    const town = pick(TOWNS, i);
    const area = pick(AREAS, i * 3);
    const q = new URLSearchParams();
    switch (i % 5) {
      case 0:
        q.set('q', p[0]);
        break;
      case 1:
        q.set('q', k[1]);
        break;
      case 2:
        q.set('category', k[2]);
        break;
      case 3:
        q.set('area', `${town}/${area}`);
        break;
      default:
        q.set('q', k[0]);
        q.set('category', k[2]);
        q.set('area', town);
    }
    if (i % 11 === 0) q.set('page', '2');
    out.push(`/shops?${q}`);
  }
  return out;
}

async function load(base: string): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const paths = queries();
  const latencies: number[] = [];
  let failures = 0;
  const total = RATE * SECONDS;
  const start = performance.now() + 50;
  const done: Promise<void>[] = [];
  const get = (p: string) =>
    new Promise<number>((resolve, reject) => {
      const req = http.get(`${base}${p}`, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
    });
  for (let i = 0; i < total; i++) {
    const at = start + (i * 1000) / RATE;
    const wait = at - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    done.push(
      get(paths[i % paths.length]!).then(
        (status) => {
          if (status !== 200) failures++;
          latencies.push(performance.now() - at);
        },
        () => {
          failures++;
        },
      ),
    );
  }
  await Promise.all(done);
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  process.stdout.write(
    JSON.stringify({
      requests: latencies.length,
      failures,
      rate: latencies.length / elapsed,
      p50: q(0.5),
      p95: q(0.95),
      p99: q(0.99),
      max: latencies[latencies.length - 1],
    }),
  );
  agent.destroy();
}

const TICK_MS = 10; // USER_HZ = 100 on Linux

/** CPU milliseconds (user + system) the PostgreSQL server on `port` and its backends have used. */
function postgresCpuMs(port: string): number {
  const procs = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  const stat = (pid: string) => {
    try {
      const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      return { ppid: f[1]!, cpu: (Number(f[11]) + Number(f[12])) * TICK_MS };
    } catch {
      return undefined;
    }
  };
  const postmaster = procs.find((pid) => {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return args.some((a) => a.endsWith('/postgres')) && args[args.indexOf('-p') + 1] === port;
    } catch {
      return false;
    }
  });
  if (!postmaster) return NaN;
  let total = stat(postmaster)?.cpu ?? 0;
  for (const pid of procs) {
    const st = stat(pid);
    if (st?.ppid === postmaster) total += st.cpu;
  }
  return total;
}

async function seed(platform: Awaited<ReturnType<typeof createPlatform>>, url: string): Promise<void> {
  const db = platform.db;
  await db.query(
    `INSERT INTO points.currency (code, municipality, name, service, created_at)
     VALUES ('saijo-lsp', 'saijo', 'LOVESAIJO ポイント', 'saijo-lsp', now()), ('niihama-p', 'niihama', 'にいはまポイント', 'niihama-p', now())`,
  );
  await db.query(
    `INSERT INTO points.point_type (currency_id, code, name, issuer)
     SELECT id, 'basic', '通常ポイント', 'city' FROM points.currency`,
  );
  const ids = Array.from({ length: SHOPS }, (_, i) => `m${String(i + 1).padStart(5, '0')}`);
  await db.query(
    `INSERT INTO points.merchant (id, municipality, name, created_at)
     SELECT id, CASE WHEN n % 3 = 0 THEN 'niihama' ELSE 'saijo' END, 'ledger ' || id, now()
       FROM unnest($1::text[]) WITH ORDINALITY AS t(id, n)`,
    [ids],
  );
  // The directory reads the ledger's merchants on its next reload (PUBLIC_DIRECTORY_TTL_SECONDS, 30 s).
  for (let waited = 0; ; waited++) {
    await fetch(`${url}/shops`);
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM portal.shops');
    if (rows[0]!.n === SHOPS) break;
    if (waited > 60) throw new Error('the directory did not read the merchants');
    await new Promise((r) => setTimeout(r, 1000));
  }
  const rows = ids.map((id, i) => {
    const p = pick(PREFIX, i);
    const k = pick(KINDS, Math.floor(i / PREFIX.length));
    const town = (i + 1) % 3 === 0 ? 'niihama' : 'saijo';
    return {
      id,
      name: `${p[0]}${k[0]} ${i + 1}号店`,
      kana: `${p[1]}${k[1]}`,
      category: k[2],
      area: pick(AREAS, i * 7),
      address: `愛媛県${town === 'saijo' ? '西条市' : '新居浜市'}${pick(AREAS, i)}${(i % 50) + 1}-${(i % 9) + 1}`,
      lat: 33.85 + ((i * 37) % 1000) / 10_000,
      lon: 133.05 + ((i * 53) % 2000) / 10_000,
    };
  });
  await db.query(
    `UPDATE portal.shops s SET name = r.name, name_kana = r.kana, category = r.category, area = r.area,
            address = r.address, hours = '10:00〜19:00', lat = r.lat, lon = r.lon, version = 1,
            approved_at = now(), approved_by = 'staff:bench'
       FROM jsonb_to_recordset($1::jsonb) AS r(id text, name text, kana text, category text, area text,
            address text, lat float8, lon float8)
      WHERE s.merchant_id = r.id`,
    [JSON.stringify(rows)],
  );
  await db.query('ANALYZE portal.shops');
}

if (process.argv[2] === '--load') {
  await load(process.argv[3]!);
} else {
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
      PUBLIC_MUNICIPALITIES: 'saijo=西条市|Saijo City,niihama=新居浜市|Niihama City',
      TSUNAGU_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'tsunagu-bench-public-')),
    },
  });
  const stopAll = async () => {
    await platform.stop();
    await pg.stop();
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  process.once('SIGTERM', () => void stopAll().then(() => process.exit(143)));
  try {
    const { url } = await platform.listen();
    process.stderr.write(`seeding ${SHOPS} shops…\n`);
    await seed(platform, url);
    const { rows } = await platform.db.query<{ n: number; indexed: boolean }>(
      `SELECT count(*)::int AS n, EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'shops_search') AS indexed
         FROM portal.shops WHERE version > 0`,
    );
    const run = (seconds: number) =>
      new Promise<Record<string, number>>((resolve, reject) => {
        const child = spawn(process.execPath, [import.meta.filename, '--load', url], {
          env: { ...process.env, BENCH_SECONDS: String(seconds) },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.on('close', (code) =>
          code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load exited ${code}`)),
        );
      });
    if (process.env['BENCH_EXPLAIN']) {
      const trgm = await platform.db
        .query(`SELECT public.show_trgm('駅前珈琲') AS t`)
        .catch((e: Error) => ({ rows: [{ t: e.message }] }));
      process.stderr.write(`show_trgm('駅前珈琲') = ${JSON.stringify(trgm.rows[0])}\n`);
      for (const where of [
        `search_text LIKE '%えきまえ%'`,
        `search_text LIKE '%珈琲%'`,
        `category = 'cafe'`,
        `municipality = 'saijo' AND area = '駅前'`,
      ]) {
        const plan = await platform.db.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN (ANALYZE, TIMING OFF) SELECT *, count(*) OVER () FROM portal.shops WHERE active AND ${where}
            ORDER BY lower(coalesce(name_kana, name, ledger_name)), merchant_id LIMIT 20`,
        );
        process.stderr.write(`${where}\n${plan.rows.map((r) => `  ${r['QUERY PLAN']}`).join('\n')}\n`);
      }
    }
    // Service time without queueing: one request after another.
    const single: number[] = [];
    const paths = queries();
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      await (await fetch(`${url}${paths[i % paths.length]}`)).text();
      single.push(performance.now() - t0);
    }
    single.sort((a, b) => a - b);
    process.stderr.write('warming up…\n');
    await run(3);
    process.stderr.write(`measuring ${SECONDS} s at ${RATE} req/s…\n`);
    const pgPort = new URL(pg.url).port;
    // BENCH_PROFILE=file.cpuprofile: a V8 CPU profile of the platform process during the measured run.
    const profiler = process.env['BENCH_PROFILE'] ? new Session() : undefined;
    if (profiler) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
    const cpu0 = process.cpuUsage();
    const pg0 = postgresCpuMs(pgPort);
    const r = await run(SECONDS);
    const cpu = process.cpuUsage(cpu0);
    if (profiler) {
      const { profile } = await profiler.post('Profiler.stop');
      writeFileSync(process.env['BENCH_PROFILE']!, JSON.stringify(profile));
      profiler.disconnect();
    }
    const nodeMs = (cpu.user + cpu.system) / 1000 / r['requests']!;
    const pgMs = (postgresCpuMs(pgPort) - pg0) / r['requests']!;
    const f = (n: number) => n.toFixed(1);
    process.stdout.write(
      [
        `public directory search (GET /shops?q|category|area, full HTML page), ${rows[0]!.n} approved shops, pg_trgm index: ${rows[0]!.indexed ? 'yes' : 'no'}`,
        `  ${r['requests']} requests at ${f(r['rate']!)} req/s, ${r['failures']} failed`,
        `  latency p50 ${f(r['p50']!)} ms   p95 ${f(r['p95']!)} ms   p99 ${f(r['p99']!)} ms   max ${f(r['max']!)} ms`,
        `  target p95 ≤ 50 ms: ${r['p95']! <= 50 ? 'MET' : 'MISSED'}`,
        `  one request at a time (service time): p50 ${f(single[100]!)} ms   p95 ${f(single[190]!)} ms`,
        `  CPU per request: platform process ${nodeMs.toFixed(2)} ms + PostgreSQL ${pgMs.toFixed(2)} ms → one idle core serves ≈ ${Math.round(1000 / (nodeMs + pgMs))} req/s`,
        `  load average ${os
          .loadavg()
          .map((x) => x.toFixed(1))
          .join(' ')} (${os.cpus().length} cores)`,
        '',
      ].join('\n'),
    );
  } finally {
    await stopAll();
  }
}
