import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import {
  assertSafeForEnvironment,
  ConfigError,
  createLogger,
  loadConfig,
  SETTINGS,
} from '../../core/index.ts';
import { createTestDatabase } from '../support/database.ts';
import { startTestPlatform } from '../support/platform.ts';

const safeProduction = {
  NODE_ENV: 'production',
  PUBLIC_URL: 'https://tsunagu.city.example.jp',
  AUDIT_SIGNING_KEY: 'k',
  MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
  ADMIN_IP_ALLOWLIST: '10.0.0.0/8',
};

describe('configuration', () => {
  it('has working defaults for the embedded mode', () => {
    const config = loadConfig({});
    assert.equal(config.env, 'development');
    assert.equal(config.port, 3000);
    assert.equal(config.publicUrl, 'http://localhost:3000');
    assert.equal(config.databaseUrl, undefined);
    assert.deepEqual(config.adminIpAllowList, ['0.0.0.0/0', '::/0']);
  });

  it('names the variable when a value is malformed', () => {
    assert.throws(
      () => loadConfig({ PORT: 'eighty' }),
      new ConfigError('PORT must be an integer ≥ 0, got "eighty"'),
    );
    assert.throws(() => loadConfig({ NODE_ENV: 'prod' }), /NODE_ENV must be development, test or production/);
    assert.throws(
      () => loadConfig({ MASTER_KEY: 'c2hvcnQ=' }),
      /MASTER_KEY must be 32 random bytes, base64-encoded/,
    );
  });

  it('refuses production with unsafe defaults and names each one', () => {
    assert.throws(
      () => assertSafeForEnvironment(loadConfig({ NODE_ENV: 'production' })),
      (error: Error) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /^Refusing to start in production with unsafe defaults:/);
        assert.match(error.message, /AUDIT_SIGNING_KEY is unset/);
        assert.match(error.message, /MASTER_KEY is unset/);
        assert.match(error.message, /ADMIN_IP_ALLOWLIST is open to every address/);
        assert.match(error.message, /PUBLIC_URL must be https:\/\/ in production/);
        return true;
      },
    );
  });

  it('refuses production with a single unsafe setting left', () => {
    assert.throws(
      () =>
        assertSafeForEnvironment(
          loadConfig({ ...safeProduction, ADMIN_IP_ALLOWLIST: '10.0.0.0/8,0.0.0.0/0' }),
        ),
      /ADMIN_IP_ALLOWLIST is open/,
    );
    assert.doesNotThrow(() => assertSafeForEnvironment(loadConfig(safeProduction)));
  });

  it('production platform start fails before touching the database', async () => {
    const url = await createTestDatabase('prod');
    await assert.rejects(
      startTestPlatform({ databaseUrl: url, env: { NODE_ENV: 'production' } }),
      /Refusing to start in production with unsafe defaults/,
    );
  });

  it('documents every setting in the README configuration table', () => {
    const readme = readFileSync('README.md', 'utf8');
    const table = readme.split('<!-- config-table:start -->')[1]?.split('<!-- config-table:end -->')[0] ?? '';
    const documented = [...table.matchAll(/^\|\s*`([A-Z_]+)`\s*\|/gm)].map((m) => m[1]);
    assert.deepEqual(
      documented,
      SETTINGS.map((s) => s.name),
    );
  });
});

describe('logging', () => {
  it('redacts personal-data fields at any depth up to four levels', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ level: 'info', destination: sink });
    logger.info(
      {
        email: 'taro@example.jp',
        resident: { name: '山田太郎', address: '大阪府枚方市', profile: { birthdate: '1980-01-01' } },
        count: 3,
      },
      'hello',
    );
    logger.flush();
    const line = JSON.parse(lines.join(''));
    assert.equal(line.email, '[REDACTED]');
    assert.equal(line.resident.name, '[REDACTED]');
    assert.equal(line.resident.address, '[REDACTED]');
    assert.equal(line.resident.profile.birthdate, '[REDACTED]');
    assert.equal(line.count, 3);
    assert.doesNotMatch(lines.join(''), /山田|枚方|taro@|1980/);
  });
});
