/**
 * Container health check: exits 0 when `/readyz` answers 200 (database reachable, migrations
 * applied), 1 otherwise. Used by the Dockerfile's HEALTHCHECK and the compose file.
 *
 *   node docker/healthcheck.ts   # PORT (default 3000) on 127.0.0.1
 */
const port = process.env['PORT'] || '3000';
const url = `http://127.0.0.1:${port}/readyz`;

try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
  await res.body?.cancel();
  if (res.status !== 200) {
    process.stderr.write(`not ready: ${url} answered ${res.status}\n`);
    process.exit(1);
  }
  process.exit(0);
} catch (error) {
  process.stderr.write(`not ready: ${url} unreachable (${(error as Error).message})\n`);
  process.exit(1);
}
