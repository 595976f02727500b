/**
 * npm run bench:consent — the consent decision with 100k residents and 1M consent records.
 *   in-process: `services.consent.decide()` called one after another (p50/p99 per call)
 *   over HTTP:  POST /api/consent/decisions at a fixed 300 req/s (autocannon in its own process)
 * Targets: p99 ≤ 2 ms in-process, ≤ 10 ms over HTTP.
 *
 * The directory port maps a service's subject to the common ID one-to-one (no idp round trip), so
 * the figures are the consent module's own cost. Seeding bypasses triggers (replica mode) for speed;
 * the rows are the shape the module writes. BENCH_RESIDENTS / BENCH_SECONDS shrink a run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { type ConsentServices, consentModule, DATA_ITEMS, type ResidentDirectory } from '../consent/index.ts';
import { createCoreModule } from '../core/index.ts';
import { createPlatform } from '../platform.ts';
import { throwawayPostgres } from './support.ts';

const RESIDENTS = Number(process.env['BENCH_RESIDENTS'] ?? 100_000);
const PER_RESIDENT = 10;
const SERVICES = 5;
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 20);
const CALLS = 20_000;
const ITEMS = Object.keys(DATA_ITEMS);

const directory: ResidentDirectory = {
  residentActive: async () => true,
  serviceExists: async () => true,
  commonIdForSubject: async (_service, sub) => sub,
  subjectFor: async (commonId) => commonId,
};

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
    TSUNAGU_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'tsunagu-bench-consent-')),
  },
  modules: [createCoreModule, consentModule({ directory, deliveryIntervalMs: 0, expiryIntervalMs: 0 })],
  tokenVerifier: {
    async verify(token) {
      const m = /^svc-(\d)$/.exec(token);
      return m ? { subject: token, clientId: token, scopes: ['consent:decide'] } : null;
    },
  },
});
const consent = platform.services['consent'] as ConsentServices;

function residentId(n: number): string {
  return `r${String(n).padStart(7, '0')}`;
}

try {
  const seedStart = performance.now();
  for (let s = 0; s < SERVICES; s++) {
    await consent.publishNotice(
      {
        noticeId: `n-svc-${s}`,
        service: `svc-${s}`,
        purposes: ['bench'],
        titleJa: 'ベンチ',
        titleEn: 'Bench',
        bodyJa: 'ベンチ',
        bodyEn: 'Bench',
        material: true,
      },
      'bench',
    );
  }
  await platform.db.transaction(async (tx) => {
    await tx.query('SET LOCAL session_replication_role = replica');
    await tx.query(
      `INSERT INTO consent.records (id, pair_id, side, resident, data_item, source_service, recipient_service,
         purpose, notice_id, notice_version, legal_basis, language, collection_method, withdrawal_method,
         valid_from, valid_until, state, version, created_at, updated_at)
       SELECT gen_random_uuid(), NULL, 'direct', 'r' || lpad(r::text, 7, '0'), ($3::text[])[1 + (k % 9)],
              NULL, 'svc-' || (k % $2), 'bench', 'n-svc-' || (k % $2), 1, 'consent', 'ja', 'api', 'portal',
              now() - interval '1 day', CASE WHEN r % 10 = 0 THEN now() + interval '1 year' END,
              CASE WHEN r % 20 = 1 THEN 'paused' WHEN r % 20 = 2 THEN 'withdrawn' ELSE 'given' END,
              1, now() - interval '1 day', now() - interval '1 day'
         FROM generate_series(0, $1 - 1) r, generate_series(0, ${PER_RESIDENT - 1}) k`,
      [RESIDENTS, SERVICES, ITEMS],
    );
    await tx.query(
      `INSERT INTO consent.events (record_id, version, event_type, state, notice_version, valid_until, at, actor)
       SELECT id, 1, 'given', state, 1, valid_until, created_at, 'resident' FROM consent.records`,
    );
  });
  await platform.db.query('ANALYZE consent.records');
  await platform.db.query('ANALYZE consent.notices');
  const { rows } = await platform.db.query<{ n: string }>('SELECT count(*) AS n FROM consent.records');
  console.log(
    `consent: ${RESIDENTS} residents, ${rows[0]!.n} records, seeded in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`,
  );

  // A query mix: mostly existing consents (allow, paused, withdrawn), some with no record at all.
  const query = (i: number) => {
    const r = (i * 7919) % RESIDENTS;
    const k = i % PER_RESIDENT;
    const miss = i % 10 === 9;
    return {
      resident: residentId(r),
      service: `svc-${k % SERVICES}`,
      item: ITEMS[(k + (miss ? 1 : 0)) % 9]!,
      purpose: 'bench',
    };
  };
  for (let i = 0; i < 2000; i++) await consent.decide(query(i)); // warm-up
  const times: number[] = [];
  const outcomes = { allow: 0, deny: 0 };
  for (let i = 0; i < CALLS; i++) {
    const start = performance.now();
    const d = await consent.decide(query(i + 5000));
    times.push(performance.now() - start);
    outcomes[d.decision] += 1;
  }
  times.sort((a, b) => a - b);
  const p = (q: number) => times[Math.min(times.length - 1, Math.floor(times.length * q))]!;
  const p99 = p(0.99);
  console.log(
    `  in-process decide(): ${CALLS} sequential calls  p50 ${p(0.5).toFixed(3)} ms  p99 ${p99.toFixed(3)} ms  (allow ${outcomes.allow}, deny ${outcomes.deny})  target p99 ≤ 2 ms  ${p99 <= 2 ? 'MET' : 'MISSED'}`,
  );

  const { url } = await platform.listen();
  const load = spawn(process.execPath, ['bench/consent_load.ts'], {
    env: {
      ...process.env,
      URL: `${url}/api/consent/decisions`,
      RESIDENTS: String(RESIDENTS),
      SECONDS: String(SECONDS),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  load.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  await new Promise((resolve) => load.once('exit', resolve));
  const http = JSON.parse(out) as { rps: number; p50: number; p99: number; non2xx: number; errors: number };
  console.log(
    `  HTTP POST /api/consent/decisions at 300 req/s for ${SECONDS} s: ${http.rps.toFixed(0)} req/s  p50 ${http.p50} ms  p99 ${http.p99} ms  non-2xx ${http.non2xx}  errors ${http.errors}  target p99 ≤ 10 ms  ${http.p99 <= 10 && http.non2xx === 0 ? 'MET' : 'MISSED'}`,
  );
} finally {
  await platform.stop();
  await pg.stop();
}
