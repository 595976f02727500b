import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { hashEntry } from '../../core/audit/hash_entry.ts';
import { readCheckpointFile } from '../../core/index.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';

const run = promisify(execFile);

/** Acts as an attacker with database superuser rights: triggers off for this session. */
async function tamper(t: TestPlatform, sql: string, values: unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: t.databaseUrl });
  await client.connect();
  try {
    await client.query('SET session_replication_role = replica');
    await client.query(sql, values);
  } finally {
    await client.end();
  }
}

async function seed(t: TestPlatform, n: number): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      t.platform.audit.record({
        actor: `staff:${i % 3}`,
        action: 'test.write',
        target: `thing:${i}`,
        details: { i, tags: ['a', 'b'] },
      }),
    ),
  );
}

describe('audit log', () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform({ env: { AUDIT_CHECKPOINT_EVERY: '1000000' } });
  });
  after(() => t.stop());

  beforeEach(async () => {
    // Each case starts from an empty chain with no checkpoints (as the superuser, bypassing the trigger).
    await tamper(t, 'DELETE FROM core.audit_log; DELETE FROM core.audit_checkpoints');
    rmSync(path.join(t.dataDir, 'audit'), { recursive: true, force: true });
  });

  it('numbers concurrent entries gaplessly and links each to its predecessor', async () => {
    await seed(t, 50);
    const { rows } = await t.platform.db.query(
      'SELECT seq::int AS seq, prev_hash, hash FROM core.audit_log ORDER BY seq',
    );
    assert.deepEqual(
      rows.map((r) => r['seq']),
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    for (let i = 1; i < rows.length; i++) assert.equal(rows[i]?.['prev_hash'], rows[i - 1]?.['hash']);
    assert.deepEqual(await t.platform.audit.verify(), { ok: true, entries: 50, checkpoints: 0 });
  });

  it('writes inside a caller transaction and disappears with its rollback', async () => {
    await seed(t, 2);
    await assert.rejects(
      t.platform.db.transaction(async (tx) => {
        await t.platform.audit.recordInTransaction(tx, { actor: 'staff:1', action: 'x', target: 'y' });
        throw new Error('business rule failed');
      }),
      /business rule failed/,
    );
    const ref = await t.platform.db.transaction((tx) =>
      t.platform.audit.recordInTransaction(tx, { actor: 'staff:1', action: 'x', target: 'y' }),
    );
    assert.equal(ref.seq, 3);
    assert.equal((await t.platform.audit.verify()).ok, true);
  });

  it('refuses UPDATE, DELETE and TRUNCATE from the application role', async () => {
    await seed(t, 3);
    await assert.rejects(
      t.platform.db.query(`UPDATE core.audit_log SET actor = 'x' WHERE seq = 1`),
      /append-only \(UPDATE refused\)/,
    );
    await assert.rejects(
      t.platform.db.query('DELETE FROM core.audit_log WHERE seq = 3'),
      /append-only \(DELETE refused\)/,
    );
    await assert.rejects(t.platform.db.query('TRUNCATE core.audit_log'), /append-only \(TRUNCATE refused\)/);
    assert.deepEqual(await t.platform.audit.verify(), { ok: true, entries: 3, checkpoints: 0 });
  });

  it('rejects entries without actor, action or target', async () => {
    await assert.rejects(t.platform.audit.record({ actor: '', action: 'a', target: 't' }), /non-empty actor/);
  });

  it('detects an edited row', async () => {
    await seed(t, 10);
    await tamper(t, `UPDATE core.audit_log SET details = '{"i": 999}' WHERE seq = 6`);
    const report = await t.platform.audit.verify();
    assert.equal(report.ok, false);
    assert.equal(report.firstBrokenSeq, 6);
    assert.equal(report.reason, 'entry 6 was altered (hash mismatch)');
  });

  it('detects a deleted row', async () => {
    await seed(t, 10);
    await tamper(t, 'DELETE FROM core.audit_log WHERE seq = 4');
    const report = await t.platform.audit.verify();
    assert.equal(report.firstBrokenSeq, 4);
    assert.equal(report.reason, 'entry 4 is missing');
  });

  it('detects reordered rows', async () => {
    await seed(t, 10);
    await tamper(
      t,
      `UPDATE core.audit_log SET seq = seq + 1000 WHERE seq IN (7, 8);
       UPDATE core.audit_log SET seq = CASE seq WHEN 1007 THEN 8 ELSE 7 END WHERE seq IN (1007, 1008);`,
    );
    const report = await t.platform.audit.verify();
    assert.equal(report.firstBrokenSeq, 7);
    assert.equal(report.ok, false);
  });

  it('detects a truncated tail against a signed checkpoint', async () => {
    await seed(t, 10);
    const checkpoint = await t.platform.audit.checkpoint();
    assert.equal(checkpoint?.size, 10);
    await tamper(t, 'DELETE FROM core.audit_log WHERE seq > 7');
    const report = await t.platform.audit.verify();
    assert.equal(report.firstBrokenSeq, 8);
    assert.equal(report.reason, 'chain ends at 7 but a checkpoint signed 10 entries (tail truncated)');
  });

  it('still detects the truncation when the attacker also deletes the checkpoints in the database', async () => {
    await seed(t, 10);
    await t.platform.audit.checkpoint();
    await tamper(t, 'DELETE FROM core.audit_log WHERE seq > 5; DELETE FROM core.audit_checkpoints');
    assert.equal(readCheckpointFile(path.join(t.dataDir, 'audit', 'checkpoints.jsonl')).length, 1);
    const report = await t.platform.audit.verify();
    assert.equal(report.firstBrokenSeq, 6);
  });

  it('detects a chain rewritten from scratch with recomputed hashes', async () => {
    await seed(t, 5);
    await t.platform.audit.checkpoint();
    // Rewrite entry 3 and re-hash everything after it: the chain alone now looks consistent.
    const { rows } = await t.platform.db.query('SELECT * FROM core.audit_log ORDER BY seq');
    let prev = rows[1]?.['hash'] as string;
    for (const row of rows.slice(2)) {
      const details = row['seq'] === '3' ? { i: 'forged' } : row['details'];
      const hash = hashEntry(prev, { ...row, seq: Number(row['seq']), at: row['at'], details } as never);
      await tamper(t, 'UPDATE core.audit_log SET details = $1, prev_hash = $2, hash = $3 WHERE seq = $4', [
        details,
        prev,
        hash,
        row['seq'],
      ]);
      prev = hash;
    }
    const report = await t.platform.audit.verify();
    assert.equal(report.firstBrokenSeq, 5);
    assert.equal(report.reason, 'entry 5 differs from the signed checkpoint (chain rewritten)');
  });

  it('detects a forged checkpoint signature', async () => {
    await seed(t, 3);
    await t.platform.audit.checkpoint();
    const forged = createHash('sha256').update('forged').digest('hex');
    await tamper(t, 'UPDATE core.audit_checkpoints SET head = $1', [forged]);
    const report = await t.platform.audit.verify();
    assert.equal(report.ok, false);
    assert.equal(report.reason, 'checkpoint at 3 has a bad signature');
  });

  it('signs a checkpoint automatically every N entries', async () => {
    const other = await startTestPlatform({ env: { AUDIT_CHECKPOINT_EVERY: '5' } });
    try {
      const count = async () =>
        Number((await other.platform.db.query('SELECT count(*) AS n FROM core.audit_log')).rows[0]?.['n']);
      for (let i = 0; i < 12; i++)
        await other.platform.audit.record({ actor: 'a', action: 'b', target: 'c' });
      await other.platform.audit.close();
      const total = await count();
      const { rows } = await other.platform.db.query<{ size: number }>(
        'SELECT size::int AS size FROM core.audit_checkpoints ORDER BY size',
      );
      // Every 5th write triggers a checkpoint of the head as it stands when the checkpoint runs, which a
      // write committed meanwhile may have moved on by one.
      // The count includes what modules audited while starting.
      assert.equal(rows.length, Math.floor(total / 5));
      rows.forEach((r, i) => {
        const due = (i + 1) * 5;
        assert.ok(r.size >= due && r.size <= due + 1, `checkpoint ${i + 1} at ${r.size}, due at ${due}`);
      });
      assert.equal((await other.platform.audit.verify()).ok, true);
    } finally {
      await other.stop();
    }
  });
});

describe('npm run tsunagu -- audit verify', () => {
  let t: TestPlatform;
  before(async () => {
    const key = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    t = await startTestPlatform({ env: { AUDIT_SIGNING_KEY: key } });
  });
  after(() => t.stop());

  const cli = (args: string[]) =>
    run(process.execPath, ['main.ts', ...args], {
      env: { ...process.env, ...t.env },
      cwd: process.cwd(),
    }).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
    );

  it('prints OK and exits 0 on an intact chain', async () => {
    await seed(t, 4);
    await t.platform.audit.checkpoint();
    const result = await cli(['audit', 'verify']);
    assert.equal(result.code, 0);
    const { rows } = await t.platform.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM core.audit_log',
    );
    assert.ok(rows[0]!.n >= 4);
    assert.equal(result.stdout, `audit chain OK: ${rows[0]!.n} entries, 1 checkpoint(s) verified\n`);
  });

  it('prints the first broken sequence number and exits 1', async () => {
    await tamper(t, `UPDATE core.audit_log SET target = 'elsewhere' WHERE seq = 2`);
    const result = await cli(['audit', 'verify']);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /^audit chain BROKEN at sequence 2: entry 2 was altered \(hash mismatch\)\n/);
  });
});
