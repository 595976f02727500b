import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase } from '../support/database.ts';
import { call } from './support.ts';

describe('broker: npm run broker (standalone)', () => {
  let child: ReturnType<typeof spawn>;
  let url: string;
  let readyMs: number;
  let exited: Promise<number | null>;

  before(async () => {
    const databaseUrl = await createTestDatabase('brk');
    child = spawn(process.execPath, ['broker/main.ts'], {
      env: { ...process.env, DATABASE_URL: databaseUrl, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve(out);
      });
      child.on('exit', () => reject(new Error(`broker exited: ${out}`)));
    });
    url = /listening on (http:\/\/\S+)/.exec(line)![1]!;
    readyMs = Number(/ready in (\d+) ms/.exec(line)![1]);
  });
  after(async () => {
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });

  it('starts on an external database, creating its schema, within 3 s', () => {
    assert.ok(readyMs <= 3000, `ready in ${readyMs} ms`);
  });

  it('BROKER_WORKERS=2 serves one port from two processes sharing the database', async () => {
    const databaseUrl = await createTestDatabase('brk');
    const two = spawn(process.execPath, ['broker/main.ts'], {
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'silent',
        BROKER_WORKERS: '2',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const done = new Promise((resolve) => two.on('exit', resolve));
    try {
      const line = await new Promise<string>((resolve) => {
        let out = '';
        two.stdout!.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('\n')) resolve(out);
        });
      });
      assert.match(line, /2 processes/);
      const base = /listening on (http:\/\/\S+)/.exec(line)![1]!;
      for (let i = 0; i < 6; i++) {
        const r = await call(base, 'POST', '/v2/entities', {
          headers: { Connection: 'close' },
          body: { id: `W${i}`, type: 'T' },
        });
        assert.equal(r.status, 201);
      }
      const all = await call(base, 'GET', '/v2/entities?options=count&limit=1', {
        headers: { Connection: 'close' },
      });
      assert.equal(all.header('Fiware-Total-Count'), '6');
    } finally {
      two.kill('SIGTERM');
      await done;
    }
  });

  it('answers GET /version and NGSIv2 with only Orion headers', async () => {
    const v = await call(url, 'GET', '/version');
    assert.equal(v.status, 200);
    assert.deepEqual(
      v.headers.map(([k]) => k),
      ['Date', 'Fiware-Correlator', 'Content-Type', 'Content-Length', 'Connection'],
    );
    assert.equal(v.body.orion.version, '4.7.0');
    const created = await call(url, 'POST', '/v2/entities', {
      body: { id: 'S1', type: 'T', v: { value: 1 } },
    });
    assert.equal(created.status, 201);
    const got = await call(url, 'GET', '/v2/entities/S1?options=keyValues');
    assert.deepEqual(got.body, { id: 'S1', type: 'T', v: 1 });
    const unknown = await call(url, 'GET', '/nothing');
    assert.deepEqual(unknown.body, {
      error: 'BadRequest',
      description: 'Service not found. Check your URL as probably it is wrong.',
    });
  });
});
