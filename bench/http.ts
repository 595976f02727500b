/**
 * npm run bench:http — requests/s and p99 latency of a trivial authenticated and audited route
 * (GET /api/me: bearer token, one audit entry written before the answer)
 * through the full middleware stack, against a bare Express route, in the same run.
 * Target: platform ≥ 50% of bare.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { throwawayPostgres } from './support.ts';

const DURATION = Number(process.env['BENCH_SECONDS'] ?? 10);
const CONNECTIONS = 32;

const pg = await throwawayPostgres();
const server = spawn(process.execPath, ['bench/http_server.ts'], {
  env: { ...process.env, DATABASE_URL: pg.url },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const ports = await new Promise<{ platform: number; bare: number }>((resolve) => {
  createInterface({ input: server.stdout! }).on('line', (line) => {
    const message = JSON.parse(line);
    if (typeof message.platform === 'number') resolve(message);
  });
});

async function load(url: string, headers: Record<string, string> = {}) {
  await autocannon({ url, connections: CONNECTIONS, duration: 2, headers }); // warm-up
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION, headers });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.average, p99: result.latency.p99 };
}

try {
  const bare = await load(`http://127.0.0.1:${ports.bare}/bare`);
  const full = await load(`http://127.0.0.1:${ports.platform}/api/me`, {
    authorization: 'Bearer bench-token',
  });
  const ratio = full.rps / bare.rps;
  console.log(`http: ${CONNECTIONS} connections, ${DURATION} s each, server in its own process`);
  console.log(
    `  bare express GET /bare:                       ${bare.rps.toFixed(0).padStart(6)} req/s   p99 ${bare.p99} ms`,
  );
  console.log(
    `  platform GET /api/me (token + audit entry):    ${full.rps.toFixed(0).padStart(6)} req/s   p99 ${full.p99} ms`,
  );
  console.log(
    `  ratio: ${(ratio * 100).toFixed(0)}% of bare   target ≥ 50%  ${ratio >= 0.5 ? 'MET' : 'MISSED'}`,
  );
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  await pg.stop();
}
