/**
 * npm run bench:broker — the NGSIv2 broker (standalone `broker/main.ts`, its own process) against
 * the PostgreSQL it runs on, in one run:
 *
 *   1. entity upserts/s (POST /v2/entities?options=upsert) and reads/s (GET /v2/entities/{id})
 *      through HTTP at concurrency 1, 8 and 32, next to the raw rate of the equivalent single-row
 *      upsert through `pg` at the same concurrency.            target: upserts ≥ 40% of raw
 *   2. GET /v2/entities/{id} latency at a fixed 200 req/s with BENCH_ENTITIES (default 1,000,000)
 *      entities stored.                                          target: p99 ≤ 10 ms
 *   3. notification latency (update sent → notification received) at a fixed 500 updates/s with
 *      10 subscriptions, each matching a tenth of the entities.  target: p99 ≤ 50 ms
 *
 * BENCH_SECONDS (default 5) sets the length of each measured phase; BENCH_WORKERS the broker
 * processes (default one per core); BENCH_SYNC=on|off synchronous_commit on both sides (default off).
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { throwawayPostgres } from './support.ts';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const ENTITIES = Number(process.env['BENCH_ENTITIES'] ?? 1_000_000);
const KEYS = 10_000;
/**
 * synchronous_commit for the broker and the raw comparison alike (BENCH_SYNC, default off: Orion's
 * MongoDB default acknowledges writes before the journal flush).
 */
const SYNC = process.env['BENCH_SYNC'] === 'on' ? 'on' : 'off';
/** Broker processes (BROKER_WORKERS); default one per core. */
const WORKERS = Number(process.env['BENCH_WORKERS'] ?? (await import('node:os')).availableParallelism());

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function send(base: string, method: string, path: string, body?: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = payload
      ? { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) }
      : {};
    const req = http.request(`${base}${path}`, { method, agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

/** Closed loop: `concurrency` workers repeat `op` for SECONDS; returns operations per second. */
async function closedLoop(concurrency: number, op: (i: number) => Promise<void>): Promise<number> {
  const until = performance.now() + SECONDS * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        await op(done);
        done += 1;
      }
    }),
  );
  return done / SECONDS;
}

/** Open loop: starts `rate` operations per second for SECONDS regardless of answers; latencies in ms. */
async function openLoop(rate: number, op: (i: number) => Promise<void>): Promise<number[]> {
  const latencies: number[] = [];
  const inFlight: Promise<void>[] = [];
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < SECONDS * 1000) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    while (sent < due) {
      const i = sent++;
      const t0 = performance.now();
      inFlight.push(op(i).then(() => void latencies.push(performance.now() - t0)));
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inFlight);
  return latencies;
}

const pgServer = await throwawayPostgres();
const child = spawn(process.execPath, ['broker/main.ts'], {
  env: {
    ...process.env,
    DATABASE_URL: pgServer.url,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    DB_POOL_MAX: '32',
    BROKER_MULTISERVICE: 'false',
    BROKER_WORKERS: String(WORKERS),
    BROKER_SYNCHRONOUS_COMMIT: SYNC,
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const base = await new Promise<string>((resolve) => {
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const m = /listening on (http:\/\/\S+)/.exec(line);
    if (m) resolve(m[1]!);
  });
});
// The raw rate is measured with the same durability as the broker.
const rawUrl = new URL(pgServer.url);
rawUrl.searchParams.set('options', `-c synchronous_commit=${SYNC}`);
const pool = new pg.Pool({ connectionString: rawUrl.toString(), max: 32 });
// Interrupted runs still stop the broker and the throwaway PostgreSQL.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    child.kill('SIGTERM');
    child.once('exit', () => void pgServer.stop().finally(() => process.exit(130)));
  });
}
const receiver = http.createServer();

try {
  await pool.query(`CREATE SCHEMA bench;
    CREATE TABLE bench.raw_entities (LIKE broker.entities INCLUDING ALL);`);
  const check = (status: number, expected: number) => {
    if (status !== expected) throw new Error(`unexpected status ${status}`);
  };
  const key = () => Math.floor(Math.random() * KEYS);
  const upsert = async (i: number) =>
    check(
      await send(base, 'POST', '/v2/entities?options=upsert', {
        id: `urn:up:${key()}`,
        type: 'Up',
        n: { value: i },
      }),
      204,
    );
  const rawUpsert = async (i: number) => {
    const attrs = JSON.stringify({
      n: { type: 'Number', value: i, metadata: {}, created: Date.now(), modified: Date.now() },
    });
    await pool.query(
      `INSERT INTO bench.raw_entities (tenant, id, type, service_path, attrs, attr_names, created_at, modified_at)
       VALUES ('', $1, 'Up', '/', $2, ARRAY['n'], now(), now())
       ON CONFLICT (tenant, id, type, service_path) DO UPDATE SET attrs = EXCLUDED.attrs, modified_at = now(),
         version = bench.raw_entities.version + 1`,
      [`urn:up:${key()}`, attrs],
    );
  };
  const read = async () => check(await send(base, 'GET', `/v2/entities/urn:up:${key()}?type=Up`), 200);

  // warm-up, and every key exists before reads
  for (let k = 0; k < KEYS; k += 500) {
    await send(base, 'POST', '/v2/op/update', {
      actionType: 'append',
      entities: Array.from({ length: 500 }, (_, j) => ({
        id: `urn:up:${k + j}`,
        type: 'Up',
        n: { value: 0 },
      })),
    });
  }
  await closedLoop(8, upsert);

  console.log(
    `broker: standalone, ${WORKERS} process(es), synchronous_commit ${SYNC}, ${SECONDS} s per phase, ${KEYS} keys, ${(await import('node:os')).cpus().length} cores, load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)} at start`,
  );
  console.log('  concurrency  upserts/s  raw pg upserts/s  ratio   reads/s (GET by id)');
  const ratios: number[] = [];
  for (const c of [1, 8, 32]) {
    const ups = await closedLoop(c, upsert);
    const raw = await closedLoop(c, rawUpsert);
    const reads = await closedLoop(c, read);
    ratios.push(ups / raw);
    console.log(
      `  ${String(c).padStart(11)}  ${ups.toFixed(0).padStart(9)}  ${raw.toFixed(0).padStart(16)}  ${((ups / raw) * 100).toFixed(0).padStart(4)}%  ${reads.toFixed(0).padStart(9)}`,
    );
  }
  const worst = Math.min(...ratios);
  console.log(
    `  upserts vs raw pg: worst ${(worst * 100).toFixed(0)}%   target ≥ 40%  ${worst >= 0.4 ? 'MET' : 'MISSED'}`,
  );

  // 2. reads at 200 req/s over ENTITIES stored entities
  const loadStart = performance.now();
  for (let from = 1; from <= ENTITIES; from += 250_000) {
    const to = Math.min(ENTITIES, from + 249_999);
    await pool.query(
      `INSERT INTO broker.entities (tenant, id, type, service_path, attrs, attr_names, created_at, modified_at)
       SELECT '', 'urn:big:' || g, 'Big', '/', jsonb_build_object('n', jsonb_build_object('type', 'Number', 'value', g,
              'metadata', '{}'::jsonb, 'created', 0, 'modified', 0)), ARRAY['n'], now(), now()
         FROM generate_series($1::int, $2::int) g`,
      [from, to],
    );
  }
  await pool.query('ANALYZE broker.entities');
  const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM broker.entities');
  console.log(
    `  stored ${Number(rows[0]!.n).toLocaleString('en')} entities in ${((performance.now() - loadStart) / 1000).toFixed(0)} s`,
  );
  const readBig = async () =>
    check(await send(base, 'GET', `/v2/entities/urn:big:${1 + Math.floor(Math.random() * ENTITIES)}`), 200);
  await openLoop(200, readBig);
  const readLatency = await openLoop(200, readBig);
  const p99 = percentile(readLatency, 99);
  console.log(
    `  GET /v2/entities/{id} at 200 req/s: p50 ${percentile(readLatency, 50).toFixed(2)} ms  p99 ${p99.toFixed(2)} ms   target ≤ 10 ms  ${p99 <= 10 ? 'MET' : 'MISSED'}`,
  );
  const list = await closedLoop(8, async () =>
    check(
      await send(base, 'GET', `/v2/entities?type=Big&limit=20&offset=${Math.floor(Math.random() * 1000)}`),
      200,
    ),
  );
  const q = await closedLoop(8, async () =>
    check(
      await send(base, 'GET', `/v2/entities?type=Big&q=n<${1 + Math.floor(Math.random() * 1000)}&limit=20`),
      200,
    ),
  );
  console.log(
    `  list queries (type, limit 20) at concurrency 8: ${list.toFixed(0)}/s; with q (n<x): ${q.toFixed(0)}/s`,
  );

  // 3. notification latency at 500 updates/s, 10 subscriptions
  const latencies: number[] = [];
  receiver.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.timeOrigin + performance.now();
      const body = JSON.parse(Buffer.concat(chunks).toString());
      latencies.push(at - body.data[0].sent);
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const rx = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  for (let s = 0; s < 10; s++) {
    check(
      await send(base, 'POST', '/v2/subscriptions', {
        subject: { entities: [{ idPattern: `^urn:n:${s}:`, type: 'N' }] },
        notification: { http: { url: `${rx}/s${s}` }, attrs: ['sent'], attrsFormat: 'keyValues' },
      }),
      201,
    );
  }
  const notifyIds = Array.from({ length: 1000 }, (_, i) => `urn:n:${i % 10}:${i}`);
  await send(base, 'POST', '/v2/op/update', {
    actionType: 'append',
    entities: notifyIds.map((id) => ({ id, type: 'N', sent: { value: 0 } })),
  });
  await new Promise((r) => setTimeout(r, 500));
  const update = async (i: number) =>
    check(
      await send(base, 'PATCH', `/v2/entities/${notifyIds[i % notifyIds.length]}/attrs?type=N`, {
        sent: { value: performance.timeOrigin + performance.now() },
      }),
      204,
    );
  // 100 updates/s shows the latency of an unsaturated broker; 500 updates/s is the target.
  for (const rate of [100, 500]) {
    latencies.length = 0;
    const updateLatency = await openLoop(rate, update);
    const until = Date.now() + 10_000;
    while (latencies.length < updateLatency.length && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    const np99 = percentile(latencies, 99);
    const verdict = np99 <= 50 && latencies.length === updateLatency.length ? 'MET' : 'MISSED';
    console.log(
      `  notifications at ${rate} updates/s, 10 subscriptions: ${latencies.length}/${updateLatency.length} received, p50 ${percentile(latencies, 50).toFixed(1)} ms  p99 ${np99.toFixed(1)} ms${rate === 500 ? `   target ≤ 50 ms  ${verdict}` : ''}`,
    );
    console.log(
      `    (PATCH latency at ${rate}/s: p50 ${percentile(updateLatency, 50).toFixed(1)} ms  p99 ${percentile(updateLatency, 99).toFixed(1)} ms)`,
    );
  }
} finally {
  receiver.close();
  agent.destroy();
  await pool.end();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await pgServer.stop();
}
