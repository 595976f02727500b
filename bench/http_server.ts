/**
 * The server side of bench/http.ts, in its own process so the load generator does not share its CPU:
 * the full platform (every middleware, bearer token, admin allow-list, audit write) and a bare Express
 * app, both in this process. Prints their ports as one JSON line.
 */
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { createPlatform } from '../platform.ts';

const tokens: Record<string, { clientId: string; scopes: string[] }> = {
  'bench-token': { clientId: 'bench', scopes: ['audit:read'] },
};
const platform = await createPlatform({
  env: {
    ...process.env,
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '100000000',
    ADMIN_IP_ALLOWLIST: '127.0.0.1/32,::1/128',
    TSUNAGU_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'tsunagu-bench-http-')),
  },
  tokenVerifier: {
    async verify(token) {
      const t = tokens[token];
      return t ? { subject: t.clientId, ...t } : null;
    },
  },
});
const { port } = await platform.listen();

const bare = express();
bare.get('/bare', (_req, res) => {
  res.json({ ok: true });
});
const server = bare.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ platform: port, bare: (server.address() as AddressInfo).port }));
});
process.on('SIGTERM', async () => {
  server.close();
  await platform.stop();
  process.exit(0);
});
