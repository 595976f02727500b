/**
 * Runs every test file (`**\/*.test.ts` outside node_modules) with Node's test runner against one
 * embedded PostgreSQL started for the run; each test file creates its own fresh database in it
 * (see `test/support/database.ts`). Pass file paths or a folder to run a subset:
 *   node test/run.ts test/core
 */
import { spawn } from 'node:child_process';
import { globSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../core/embedded_postgres.ts';
import { createLogger } from '../core/logger.ts';
import { freePort } from './support/ports.ts';

function testFiles(args: string[]): string[] {
  const roots = args.length > 0 ? args : ['.'];
  const files = roots.flatMap((root) =>
    root.endsWith('.ts')
      ? [root]
      : globSync(path.join(root, '**/*.test.ts'), { exclude: (f) => f.includes('node_modules') }),
  );
  return [...new Set(files)].sort();
}

const files = testFiles(process.argv.slice(2));
if (files.length === 0) {
  process.stderr.write('no test files found\n');
  process.exit(1);
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tsunagu-test-pg-'));
const logger = createLogger({ level: 'warn' });
const pg = await startEmbeddedPostgres({ dataDir, port: await freePort(), logger, database: 'postgres' });

const child = spawn(
  process.execPath,
  [
    '--test',
    '--test-concurrency=2',
    '--test-timeout=300000',
    '--test-force-exit',
    '--test-reporter=spec',
    ...files,
  ],
  { stdio: 'inherit', env: { ...process.env, TSUNAGU_TEST_ADMIN_URL: pg.url, NODE_ENV: 'test' } },
);
const code: number = await new Promise((resolve) => child.on('close', (c) => resolve(c ?? 1)));
await pg.stop();
rmSync(dataDir, { recursive: true, force: true });
process.exit(code);
