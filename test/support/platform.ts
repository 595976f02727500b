/**
 * Starts the whole platform in-process on a fresh database and a random port, for black-box HTTP
 * tests. Every test file gets its own database and data directory.
 *
 * @example
 *   const t = await startTestPlatform({ env: { ADMIN_IP_ALLOWLIST: '10.0.0.0/8' } });
 *   const res = await fetch(`${t.url}/readyz`);
 *   await t.stop();
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ModuleFactory, TokenVerifier } from '../../core/index.ts';
import { createPlatform, type Platform, type PlatformOptions } from '../../platform.ts';
import { createTestDatabase } from './database.ts';

export interface TestPlatform {
  platform: Platform;
  url: string;
  databaseUrl: string;
  dataDir: string;
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface TestPlatformOptions {
  env?: Record<string, string>;
  tokenVerifier?: TokenVerifier;
  modules?: readonly ModuleFactory[];
  now?: () => Date;
  /** Reuse a database (restart tests); a fresh one is created otherwise. */
  databaseUrl?: string;
  dataDir?: string;
}

export async function startTestPlatform(options: TestPlatformOptions = {}): Promise<TestPlatform> {
  const databaseUrl = options.databaseUrl ?? (await createTestDatabase());
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'tsunagu-test-data-'));
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    TSUNAGU_DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    ...options.env,
  };
  const platformOptions: PlatformOptions = { env };
  if (options.tokenVerifier) platformOptions.tokenVerifier = options.tokenVerifier;
  if (options.modules) platformOptions.modules = options.modules;
  if (options.now) platformOptions.now = options.now;
  const platform = await createPlatform(platformOptions);
  const { url } = await platform.listen();
  return {
    platform,
    url,
    databaseUrl,
    dataDir,
    env,
    async stop() {
      await platform.stop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A token verifier for tests: each token maps to the identity it stands for. */
export function staticTokens(
  tokens: Record<string, { subject?: string; clientId: string; scopes: string[] }>,
): TokenVerifier {
  return {
    async verify(token) {
      const t = tokens[token];
      return t ? { subject: t.subject ?? t.clientId, clientId: t.clientId, scopes: t.scopes } : null;
    },
  };
}
