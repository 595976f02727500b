/** Modules' admin commands run through the one `tsunagu` CLI: `npm run tsunagu -- <module> <command>`. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';

const run = promisify(execFile);

describe('module commands through npm run tsunagu', () => {
  let t: TestPlatform;
  let dir: string;
  before(async () => {
    t = await startTestPlatform();
    dir = mkdtempSync(path.join(os.tmpdir(), 'tsunagu-cmd-'));
  });
  after(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = (args: string[]) =>
    run(process.execPath, ['main.ts', ...args], { env: { ...process.env, ...t.env } }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        stdout: e.stdout,
        stderr: e.stderr,
      }),
    );

  it('help lists the modules’ commands', async () => {
    const { code, stdout } = await cli(['help']);
    assert.equal(code, 0);
    assert.match(stdout, /\n {2}idp clients add +register a partner client/);
    assert.match(stdout, /\n {2}opendata import +analyse a CSV file/);
  });

  it('idp clients add registers a client that the platform then knows', async () => {
    const { code, stdout, stderr } = await cli([
      'idp',
      'clients',
      'add',
      '--name',
      'POS端末',
      '--grant',
      'client_credentials',
      '--scope',
      'points:pay',
    ]);
    assert.equal(code, 0, stderr);
    const created = JSON.parse(stdout);
    assert.equal(typeof created.clientId, 'string');
    assert.equal(typeof created.clientSecret, 'string');
    const listed = await cli(['idp', 'clients', 'list']);
    assert.equal(listed.code, 0);
    assert.ok(listed.stdout.includes(created.clientId));
    assert.ok(!listed.stdout.includes(created.clientSecret), 'secrets are never listed');
  });

  it('opendata import --dry-run analyses a file without touching the database', async () => {
    const file = path.join(dir, 'aed.csv');
    writeFileSync(file, 'ID,名称,緯度,経度\n1,市役所,34.7,135.6\n');
    const { code, stdout } = await cli(['opendata', 'import', file, '--dry-run', '--json']);
    assert.equal(code, 0);
    const report = JSON.parse(stdout);
    assert.equal(report.file, file);
    assert.equal(report.rowsRead, 1);
    assert.equal(report.rowsRegistered, null);
  });

  it('an unknown module command exits 2 with the usage', async () => {
    const { code, stderr, stdout } = await cli(['idp', 'nothing']);
    assert.equal(code, 2);
    assert.match(stderr, /unknown command: idp nothing/);
    assert.match(stdout, /usage: npm run tsunagu -- <command>/);
  });
});
