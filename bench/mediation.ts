/**
 * npm run bench:mediation — a consented basic-4-info request (POST /api/mediation/v1/requests: real
 * client-credentials token from our provider, registry, pairwise subject, four consent decisions,
 * four unsealed values, one access-log entry committed before the answer) against a bare Express
 * route returning a fixed JSON, in one run:
 *   1. at a fixed 300 req/s: p50, p99 and req/s of each  (target: mediation p99 ≤ 20 ms)
 *   2. unthrottled (32 connections): req/s of each       (target: mediation ≥ 30% of bare)
 * The server (platform + bare app) and the load generator each run in their own process.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import type { ConsentServices } from '../consent/index.ts';
import type { IdpServices } from '../idp/index.ts';
import type { MediationServices } from '../mediation/index.ts';
import { freePort, throwawayPostgres } from './support.ts';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const BASIC4 = ['name', 'address', 'birthdate', 'gender'];
const RESIDENTS = 200;

interface Target {
  url: string;
  token?: string;
  subjects?: string[];
}

/** The server side: the platform with every module, seeded, plus the bare app. Prints one JSON line. */
async function server(): Promise<void> {
  const { createPlatform } = await import('../platform.ts');
  const port = await freePort();
  const platform = await createPlatform({
    env: {
      ...process.env,
      NODE_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '100000000',
      TSUNAGU_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'tsunagu-bench-mediation-')),
    },
  });
  const { url } = await platform.listen();
  const idp = platform.services['idp'] as IdpServices;
  const consent = platform.services['consent'] as ConsentServices;
  const mediation = platform.services['mediation'] as MediationServices;
  const { client, clientSecret } = await idp.clients.create(
    { name: 'ベンチ健康アプリ', grantTypes: ['client_credentials'], scopes: ['mediation:read'] },
    'bench',
  );
  await mediation.registry.add(
    {
      service: client.clientId,
      name: 'ベンチ健康アプリ',
      items: BASIC4,
      purposes: [{ code: 'age-check', label: '年齢確認' }],
    },
    'bench',
  );
  await consent.publishNotice(
    {
      noticeId: 'bench',
      service: client.clientId,
      purposes: ['age-check'],
      titleJa: 'ベンチ',
      titleEn: 'Bench',
      bodyJa: '本文',
      bodyEn: 'Body',
      material: true,
    },
    'bench',
  );
  const subjects: string[] = [];
  for (let i = 0; i < RESIDENTS; i++) {
    const resident = await platform.db.transaction((tx) =>
      idp.accounts.create(tx, 'bench', {
        name: `住民 ${i}`,
        birthdate: '1990-04-01',
        gender: 'female',
        address: `東京都千代田区霞が関${i}`,
        evidence: { issuer: 'bench', serial: String(i), verifiedAt: new Date().toISOString() },
      }),
    );
    await consent.give({
      resident,
      service: client.clientId,
      items: BASIC4,
      purpose: 'age-check',
      notice: { id: 'bench', version: 1 },
    });
    subjects.push(await idp.accounts.pairwiseSubject(resident, client.clientId));
  }
  const res = await fetch(`${url}/oidc/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(clientSecret ?? '')}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials&scope=mediation%3Aread',
  });
  const token = ((await res.json()) as { access_token: string }).access_token;

  const express = (await import('express')).default;
  const bare = express();
  bare.get('/bare', (_req, r) => {
    r.json({ ok: true });
  });
  const bareServer = bare.listen(0, '127.0.0.1', () => {
    console.log(
      JSON.stringify({
        platform: { url: `${url}/api/mediation/v1/requests`, token, subjects },
        bare: { url: `http://127.0.0.1:${(bareServer.address() as AddressInfo).port}/bare` },
      }),
    );
  });
  process.on('SIGTERM', async () => {
    bareServer.close();
    await platform.stop();
    process.exit(0);
  });
}

/** The load side: one autocannon run against one target. Prints one JSON line. */
async function load(target: Target, rate: number | undefined): Promise<void> {
  let i = 0;
  const options: autocannon.Options = {
    url: target.url,
    connections: rate ? 10 : 32,
    duration: SECONDS,
  };
  if (rate) options.overallRate = rate;
  if (target.token) {
    options.method = 'POST';
    options.requests = [
      {
        setupRequest: (req) => {
          i += 1;
          return {
            ...req,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${target.token}` },
            body: JSON.stringify({
              subject: target.subjects![i % target.subjects!.length],
              items: BASIC4,
              purpose: 'age-check',
            }),
          };
        },
      },
    ];
  }
  const result = await autocannon(options);
  console.log(
    JSON.stringify({
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      non2xx: result.non2xx,
      errors: result.errors,
    }),
  );
}

async function runLoad(target: Target, rate?: number) {
  const child = spawn(
    process.execPath,
    ['bench/mediation.ts', 'load', JSON.stringify(target), String(rate ?? '')],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise((r) => child.once('exit', r));
  const r = JSON.parse(out) as { rps: number; p50: number; p99: number; non2xx: number; errors: number };
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${target.url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return r;
}

async function main(): Promise<void> {
  const pg = await throwawayPostgres();
  const srv = spawn(process.execPath, ['bench/mediation.ts', 'server'], {
    env: { ...process.env, DATABASE_URL: pg.url },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const targets = await new Promise<{ platform: Target; bare: Target }>((resolve, reject) => {
      srv.once('exit', () => reject(new Error('server exited')));
      createInterface({ input: srv.stdout! }).on('line', (line) => {
        if (line.startsWith('{"platform"')) resolve(JSON.parse(line));
      });
    });
    await autocannon({ url: targets.bare.url, connections: 8, duration: 2 }); // warm-up
    await runLoad({ ...targets.platform }, 300).catch(() => undefined); // warm-up
    const fixedBare = await runLoad(targets.bare, 300);
    const fixedMediation = await runLoad(targets.platform, 300);
    const maxBare = await runLoad(targets.bare);
    const maxMediation = await runLoad(targets.platform);
    const ratio = maxMediation.rps / maxBare.rps;
    const row = (label: string, r: { rps: number; p50: number; p99: number }) =>
      `  ${label.padEnd(46)} ${r.rps.toFixed(0).padStart(6)} req/s   p50 ${String(r.p50).padStart(3)} ms   p99 ${String(r.p99).padStart(3)} ms`;
    console.log(
      `mediation: ${RESIDENTS} consenting residents, ${SECONDS} s per run, server and load each in their own process`,
    );
    console.log('at a fixed 300 req/s (10 connections):');
    console.log(row('bare express GET /bare', fixedBare));
    console.log(row('POST /api/mediation/v1/requests (basic 4)', fixedMediation));
    console.log(`  target p99 ≤ 20 ms: ${fixedMediation.p99 <= 20 ? 'MET' : 'MISSED'}`);
    console.log('unthrottled (32 connections):');
    console.log(row('bare express GET /bare', maxBare));
    console.log(row('POST /api/mediation/v1/requests (basic 4)', maxMediation));
    console.log(
      `  ratio ${(ratio * 100).toFixed(0)}% of bare   target ≥ 30%: ${ratio >= 0.3 ? 'MET' : 'MISSED'}`,
    );
  } finally {
    srv.kill('SIGTERM');
    await new Promise((r) => srv.once('exit', r));
    await pg.stop();
  }
}

const mode = process.argv[2];
if (mode === 'server') await server();
else if (mode === 'load')
  await load(JSON.parse(process.argv[3]!) as Target, Number(process.argv[4]) || undefined);
else await main();
