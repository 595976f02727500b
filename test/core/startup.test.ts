/**
 * The platform as `npm start` runs it: a child process on the embedded PostgreSQL in a fresh data
 * directory, stopped by signals, restarted on the same directory.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { freePort } from '../support/ports.ts';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tsunagu-startup-'));
const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
let port = 0;
let pgPort = 0;

async function start(): Promise<ChildProcess> {
  port ||= await freePort();
  pgPort ||= await freePort();
  const env: Record<string, string | undefined> = {
    ...process.env,
    NODE_ENV: 'development',
    PORT: String(port),
    EMBEDDED_PG_PORT: String(pgPort),
    TSUNAGU_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
  };
  delete env['DATABASE_URL'];
  const child = spawn(process.execPath, ['main.ts', 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`platform exited early (${child.exitCode}):\n${output}`);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) {
      assert.match(output, new RegExp(`Tsunagu is running at http://localhost:${port}`));
      return child;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`platform not ready within 60 s:\n${output}`);
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
  });
}

async function embeddedClient(): Promise<pg.Client> {
  const password = readFileSync(path.join(dataDir, 'pg-password'), 'utf8').trim();
  const client = new pg.Client({
    host: '127.0.0.1',
    port: pgPort,
    user: 'tsunagu',
    password,
    database: 'tsunagu',
  });
  await client.connect();
  return client;
}

describe('npm start on the embedded PostgreSQL', () => {
  let child: ChildProcess | undefined;
  after(() => {
    child?.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves /healthz and /readyz on a fresh data directory', async () => {
    child = await start();
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
    assert.ok(existsSync(pidFile), 'embedded PostgreSQL is running in the data directory');
  });

  it('stops PostgreSQL cleanly on SIGTERM', async () => {
    const client = await embeddedClient();
    await client.query('CREATE TABLE public.kept (note text)');
    await client.query('INSERT INTO public.kept VALUES ($1)', ['再起動後も残る']);
    await client.end();
    child!.kill('SIGTERM');
    assert.equal(await exited(child!), 0);
    assert.equal(existsSync(pidFile), false, 'postmaster.pid removed: PostgreSQL shut down');
  });

  it('keeps data and applied migrations across a restart', async () => {
    child = await start();
    const client = await embeddedClient();
    const { rows } = await client.query('SELECT note FROM public.kept');
    assert.deepEqual(rows, [{ note: '再起動後も残る' }]);
    const migrations = await client.query('SELECT count(*)::int AS n FROM core.schema_migrations');
    assert.ok(migrations.rows[0].n >= 1);
    await client.end();
  });

  it('recovers when the previous process was killed and left PostgreSQL running', async () => {
    child!.kill('SIGKILL');
    await exited(child!);
    assert.ok(existsSync(pidFile), 'PostgreSQL outlived its parent');
    child = await start();
    assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
    child.kill('SIGINT');
    assert.equal(await exited(child), 0);
    assert.equal(existsSync(pidFile), false);
  });
});
