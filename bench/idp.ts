/**
 * npm run bench:idp — the identity provider under load, server in its own process:
 *   1. client-credentials tokens/s  (POST /oidc/token, client_secret_basic, 16 connections)
 *   2. introspection latency at a fixed 200 req/s (POST /oidc/token/introspection), p50/p99
 *   3. the platform token verifier at 200 req/s (GET /api/admin/idp/clients/:id with a bearer token)
 * Target: introspection p99 ≤ 5 ms at 200 req/s.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { freePort, throwawayPostgres } from './support.ts';

const DURATION = Number(process.env['BENCH_SECONDS'] ?? 10);

if (process.argv[2] === '--serve') {
  const { createPlatform } = await import('../platform.ts');
  const port = Number(process.env['PORT']);
  const platform = await createPlatform({
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '100000000' },
  });
  await platform.listen();
  const idp = platform.services['idp'] as import('../idp/index.ts').IdpServices;
  const { client, clientSecret } = await idp.clients.create(
    { name: 'bench', grantTypes: ['client_credentials'], scopes: ['idp:clients'] },
    'bench',
  );
  process.stdout.write(`${JSON.stringify({ port, clientId: client.clientId, clientSecret })}\n`);
  process.once('SIGTERM', () => platform.stop().then(() => process.exit(0)));
} else {
  const pg = await throwawayPostgres();
  const port = await freePort();
  const dataDir = `/tmp/tsunagu-bench-idp-${port}`;
  const server = spawn(process.execPath, ['bench/idp.ts', '--serve'], {
    env: {
      ...process.env,
      DATABASE_URL: pg.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      TSUNAGU_DATA_DIR: dataDir,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = await new Promise<{ port: number; clientId: string; clientSecret: string }>((resolve) => {
    createInterface({ input: server.stdout! }).on('line', (line) => resolve(JSON.parse(line)));
  });
  const base = `http://127.0.0.1:${ready.port}`;
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(ready.clientId)}:${encodeURIComponent(ready.clientSecret)}`).toString('base64')}`;
  const form = { 'content-type': 'application/x-www-form-urlencoded', authorization: basic };

  const run = async (options: autocannon.Options) => {
    const result = await autocannon(options);
    if (result.non2xx > 0 || result.errors > 0) {
      throw new Error(`${options.url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    }
    return result;
  };

  try {
    const tokenBody = 'grant_type=client_credentials&scope=idp%3Aclients';
    await run({
      url: `${base}/oidc/token`,
      method: 'POST',
      headers: form,
      body: tokenBody,
      connections: 16,
      duration: 2,
    });
    const tokens = await run({
      url: `${base}/oidc/token`,
      method: 'POST',
      headers: form,
      body: tokenBody,
      connections: 16,
      duration: DURATION,
    });

    const res = await fetch(`${base}/oidc/token`, { method: 'POST', headers: form, body: tokenBody });
    const { access_token } = (await res.json()) as { access_token: string };
    const introspect = {
      url: `${base}/oidc/token/introspection`,
      method: 'POST' as const,
      headers: form,
      body: `token=${access_token}`,
    };
    await run({ ...introspect, connections: 4, duration: 2, overallRate: 200 });
    const intro = await run({ ...introspect, connections: 4, duration: DURATION, overallRate: 200 });

    const api = {
      url: `${base}/api/admin/idp/clients/${ready.clientId}`,
      headers: { authorization: `Bearer ${access_token}` },
    };
    await run({ ...api, connections: 4, duration: 2, overallRate: 200 });
    const verified = await run({ ...api, connections: 4, duration: DURATION, overallRate: 200 });

    console.log(`idp: server in its own process, ${DURATION} s per measurement`);
    console.log(
      `  client-credentials tokens:      ${tokens.requests.average.toFixed(0).padStart(6)} tokens/s   p99 ${tokens.latency.p99} ms (16 connections)`,
    );
    console.log(
      `  introspection at 200 req/s:     p50 ${intro.latency.p50} ms   p99 ${intro.latency.p99} ms   target p99 ≤ 5 ms  ${intro.latency.p99 <= 5 ? 'MET' : 'MISSED'}`,
    );
    console.log(
      `  API call with bearer at 200/s:  p50 ${verified.latency.p50} ms   p99 ${verified.latency.p99} ms   (token verifier + admin route)`,
    );
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    await pg.stop();
    const { rmSync } = await import('node:fs');
    rmSync(dataDir, { recursive: true, force: true });
  }
}
