import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { loadConfig, masterKey } from '../../core/index.ts';
import { createLogSigner } from '../../mediation/log_signer.ts';
import { verifyAccessLog } from '../../mediation/verify_log.ts';
import { BASIC4, DAY, type MediationTest, type Partner, startMediationPlatform } from './support.ts';

describe('access log: tamper evidence, retention in sealed segments', () => {
  let t: MediationTest;
  let health: Partner;
  let sub: string;
  let resident: string;

  const read = () =>
    t.mediation.provide({ service: health.clientId, subject: sub, items: BASIC4, purpose: 'age-check' });

  before(async () => {
    t = await startMediationPlatform({ logCheckpointEvery: 1_000_000 });
    health = await t.partner(['mediation:read']);
    await t.mediation.registry.add(
      {
        service: health.clientId,
        name: '健康アプリ',
        items: BASIC4,
        purposes: [{ code: 'age-check', label: '年齢確認' }],
      },
      'staff:test',
    );
    resident = await t.resident();
    sub = await t.subject(resident, health.clientId);
    await t.consentTo(resident, health.clientId, BASIC4, 'age-check');
    for (let i = 0; i < 5; i++) await read();
  });
  after(() => t.stop());

  it('verifies; a signed checkpoint lands in the table, a file and the platform audit log', async () => {
    assert.deepEqual(await t.mediation.verifyLog(), { ok: true, entries: 5, checkpoints: 0, segments: 0 });
    assert.deepEqual(await t.mediation.checkpointLog(), {
      size: 5,
      head: (await t.lastLog())[0] && (await headHash()),
    });
    assert.ok(existsSync(path.join(t.dataDir, 'mediation', 'log-checkpoints.jsonl')));
    const { rows } = await t.platform.db.query(
      `SELECT details FROM core.audit_log WHERE action = 'mediation.log.checkpoint'`,
    );
    assert.equal(rows[0]!['details'].size, 5);
    assert.equal((await t.mediation.verifyLog()).ok, true);
  });

  async function headHash(): Promise<string> {
    const { rows } = await t.platform.db.query(
      'SELECT hash FROM mediation.access_log ORDER BY seq DESC LIMIT 1',
    );
    return rows[0]!['hash'] as string;
  }

  it('refuses UPDATE and DELETE of online rows', async () => {
    await assert.rejects(
      t.platform.db.query(`UPDATE mediation.access_log SET purpose = 'x' WHERE seq = 2`),
      /append-only/,
    );
    await assert.rejects(
      t.platform.db.query('DELETE FROM mediation.access_log WHERE seq = 2'),
      /append-only/,
    );
  });

  it('detects an edited row, and a truncated tail against the signed checkpoint', async () => {
    const db = t.platform.db;
    await db.query('ALTER TABLE mediation.access_log DISABLE TRIGGER access_log_guard');
    try {
      await db.query(`UPDATE mediation.access_log SET items = ARRAY['name'] WHERE seq = 3`);
      const report = await t.mediation.verifyLog();
      assert.deepEqual(
        [report.ok, report.firstBrokenSeq, report.reason],
        [false, 3, 'entry 3 was altered (hash mismatch)'],
      );
      await db.query(`UPDATE mediation.access_log SET items = $1 WHERE seq = 3`, [BASIC4]);
      assert.equal((await t.mediation.verifyLog()).ok, true);

      const { rows } = await db.query('SELECT * FROM mediation.access_log WHERE seq = 5');
      await db.query('DELETE FROM mediation.access_log WHERE seq = 5');
      const truncated = await t.mediation.verifyLog();
      assert.deepEqual([truncated.ok, truncated.firstBrokenSeq], [false, 5]);
      assert.match(truncated.reason!, /tail truncated/);
      const r = rows[0]!;
      await db.query(
        `INSERT INTO mediation.access_log SELECT * FROM json_populate_record(null::mediation.access_log, $1)`,
        [JSON.stringify(r)],
      );
    } finally {
      await db.query('ALTER TABLE mediation.access_log ENABLE TRIGGER access_log_guard');
    }
    assert.equal((await t.mediation.verifyLog()).ok, true);
  });

  it('keeps a month online ≥ 1 year, then archives it sealed and purges it whole, logging both', async () => {
    const { rows } = await t.platform.db.query<{ segment: string; n: number }>(
      'SELECT segment, count(*)::int AS n FROM mediation.access_log GROUP BY segment',
    );
    const segment = rows[0]!.segment;
    await assert.rejects(t.mediation.archive.archive(segment, 'staff:test'), { code: 'segment-not-due' });
    assert.deepEqual(await t.mediation.runRetention('staff:test'), []);

    t.clock.advance(460 * DAY);
    await read(); // an entry in a later segment stays online
    const purged = await t.mediation.runRetention('staff:test');
    assert.deepEqual(purged, [segment]);
    const left = await t.platform.db.query('SELECT segment FROM mediation.access_log');
    assert.deepEqual(left.rows.map((r) => r['segment']).includes(segment), false);
    assert.equal(left.rows.length, 1);

    const archived = await t.platform.db.query('SELECT * FROM mediation.log_segments');
    const s = archived.rows[0]!;
    assert.deepEqual(
      [s['segment'], Number(s['first_seq']), Number(s['last_seq']), s['entries']],
      [segment, 1, 5, 5],
    );
    assert.ok(s['purged_at']);
    const file = path.join(t.dataDir, 'mediation', 'archive', s['archive_file'] as string);
    const back = t.mediation.archive.read(file, segment);
    assert.deepEqual(
      back.map((r) => Number(r['seq'])),
      [1, 2, 3, 4, 5],
    );
    assert.ok(!JSON.stringify(back).includes('山田'), 'names only');

    const audit = await t.platform.db.query(
      `SELECT action, target, details FROM core.audit_log WHERE action LIKE 'mediation.log.%' AND action <> 'mediation.log.checkpoint' ORDER BY seq`,
    );
    assert.deepEqual(
      audit.rows.map((r) => [r['action'], r['target']]),
      [
        ['mediation.log.archive', `mediation:access-log:${segment}`],
        ['mediation.log.purge', `mediation:access-log:${segment}`],
      ],
    );
    assert.deepEqual(audit.rows[1]!['details'].entries, 5);
    // The chain resumes after the purged segment and still verifies.
    assert.deepEqual(await t.mediation.verifyLog(), { ok: true, entries: 1, checkpoints: 1, segments: 1 });
    assert.equal((await t.platform.audit.verify()).ok, true);
  });

  it('after a master-key change, older checkpoints and manifests verify with the previous key kept', async () => {
    const file = path.join(t.dataDir, 'mediation', 'log-checkpoints.jsonl');
    const current = createLogSigner(t.platform.config);
    const next = createLogSigner(loadConfig({ ...t.env, MASTER_KEY: randomBytes(32).toString('base64') }));
    const alone = await verifyAccessLog(t.platform.db, [next], file);
    assert.deepEqual([alone.ok, alone.reason], [false, 'checkpoint at 5 has a bad signature']);
    const withPrevious = await verifyAccessLog(
      t.platform.db,
      [next, createLogSigner(t.platform.config, masterKey(t.platform.config))],
      file,
    );
    assert.equal(withPrevious.ok, true);
    assert.equal(current.keyId, createLogSigner(t.platform.config, masterKey(t.platform.config)).keyId);
  });
});
