/**
 * Migration of a sample previous-system export through `npm run tsunagu -- import …` (the commands
 * run against the test platform): users (Shift_JIS, Japanese headers), balances as opening lots
 * funded from the migration pool, history kept read-only, visits from JSON with a mapping. The
 * totals reconcile exactly with the export, re-runs add nothing, a file with bad rows writes
 * nothing, and the source file is not kept.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCoreModule } from '../../core/index.ts';
import { createIdpModuleWith, createMemoryMailer, type IdpServices } from '../../idp/index.ts';
import {
  createPointsModule,
  importCommands,
  type ImportReport,
  type PointsService,
} from '../../points/index.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { type SampleExport, sampleExport } from './sample_export.ts';

const NOW = new Date('2026-11-23T03:00:00Z');

describe('migration import of a previous system', () => {
  let t: TestPlatform;
  let points: PointsService;
  let idp: IdpServices;
  let dir: string;
  let sample: SampleExport;
  const mailer = createMemoryMailer();

  before(async () => {
    t = await startTestPlatform({
      now: () => NOW,
      modules: [createCoreModule, createIdpModuleWith({ mailer }), createPointsModule],
    });
    points = t.platform.services['points'] as PointsService;
    idp = t.platform.services['idp'] as IdpServices;
    await points.createCurrency({ code: 'saijo-pt', municipality: '382060', name: '西条ポイント' }, 'test');
    await points.createPointType(
      { currency: 'saijo-pt', code: 'shop', name: '買い物', validityDays: 365, issuer: 'city' },
      'test',
    );
    await points.createPointType(
      { currency: 'saijo-pt', code: 'health', name: '健康', issuer: 'city' },
      'test',
    );
    dir = mkdtempSync(path.join(os.tmpdir(), 'tsunagu-migration-'));
    sample = sampleExport({ members: 300, now: NOW });
  });
  after(async () => {
    await t?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs `import <kind> FILE …` like the CLI does, against this platform; returns status and report. */
  const run = async (kind: string, content: Buffer, args: string[] = []) => {
    const file = path.join(dir, `${kind}-${Math.random().toString(36).slice(2)}.dat`);
    writeFileSync(file, content);
    let out = '';
    const status = await importCommands[kind]!.run([file, '--source', 'saijo-pilot', ...args], {
      out: (text) => {
        out += text;
      },
      platform: async () => t.platform,
    });
    const json = out.slice(0, out.lastIndexOf('}') + 1);
    return { status, report: JSON.parse(json) as ImportReport & Record<string, unknown>, file, out };
  };
  const count = async (sql: string) => Number((await t.platform.db.query<{ n: string }>(sql)).rows[0]!.n);

  it('imports the users (Shift_JIS) as invited e-mail accounts keyed by their member number', async () => {
    const { status, report, file } = await run('users', sample.users);
    assert.equal(status, 0);
    assert.equal(report['encoding'], 'shift_jis');
    assert.equal(report['create'], 300);
    assert.equal(existsSync(file), false, 'the source file is not kept');
    const first = await idp.residents.findByLegacy('saijo-pilot', 'M0001');
    assert.ok(first);
    const login = await idp.residents.find(first);
    assert.equal(login?.email, 'member1@pilot.example.jp');
    assert.equal(login?.status, 'invited');
    assert.equal(mailer.sent.length, 0, 'no invitations unless asked (--invite)');
    const again = await run('users', sample.users);
    assert.equal(again.report['unchanged'], 300);
    assert.equal(await count('SELECT count(*) AS n FROM idp.email_logins'), 300);
  });

  it('refuses a balances file with bad rows and writes nothing', async () => {
    const bad = Buffer.from(
      [
        'id,user_id,currency,point_type,amount,expires_at',
        'B1,M0001,saijo-pt,shop,100,2027-03-31',
        'B2,M9999,saijo-pt,shop,100,2027-03-31',
        'B3,M0002,saijo-pt,bonus,100,2027-03-31',
        'B4,M0003,saijo-pt,shop,-5,2027-03-31',
        'B5,M0004,saijo-pt,shop,50,2027-02-30',
      ].join('\n'),
    );
    const journals = await count('SELECT count(*) AS n FROM points.journal');
    const { status, report, file } = await run('balances', bad);
    assert.equal(status, 1);
    assert.deepEqual(report.issues, [
      { at: 3, field: 'user_id', code: 'unknown-user' },
      { at: 4, field: 'point_type', code: 'unknown-point-type' },
      { at: 5, field: 'amount', code: 'invalid' },
      { at: 6, field: 'expires_at', code: 'invalid' },
    ]);
    assert.equal(report.applied, false);
    assert.equal(await count('SELECT count(*) AS n FROM points.journal'), journals);
    assert.equal(await count('SELECT count(*) AS n FROM points.migration_lots'), 0);
    assert.equal(existsSync(file), true, 'a refused file stays for correction');
  });

  it('imports balances as opening lots whose totals reconcile exactly with the export', async () => {
    const { status, report } = await run('balances', sample.balances);
    assert.equal(status, 0, JSON.stringify(report.reconciliation));
    for (const line of report.reconciliation) {
      const e = sample.expected[line.pointType]!;
      assert.deepEqual(
        [
          line.sourceRows - line.expiredRows,
          line.sourceTotal - line.expiredTotal,
          line.expiredRows,
          line.expiredTotal,
        ],
        [e.rows, e.total, e.expiredRows, e.expiredTotal],
        line.pointType,
      );
      assert.equal(line.importedTotal, e.total);
      assert.equal(line.platformTotal, e.total);
      assert.equal(line.reconciled, true);
    }
    assert.ok(sample.expected['shop']!.expiredRows > 0, 'the sample has expired lots');
    assert.deepEqual(report.migrationPools, { 'saijo-pt': 0 });
    // Every member's balance is exactly the export's.
    for (const id of sample.memberIds) {
      const holder = (await idp.residents.findByLegacy('saijo-pilot', id))!;
      const balance = await points.balance({ currency: 'saijo-pt', holder });
      assert.equal(balance.balance, sample.balanceOf.get(id) ?? 0, id);
    }
    // Lots keep the export's expiry: a plain day is valid through that JST day.
    const { rows } = await t.platform.db.query<{ expires_at: Date }>(
      `SELECT expires_at FROM points.migration_lots WHERE source = 'saijo-pilot' AND row_key = 'id:L2'`,
    );
    assert.equal(rows[0]!.expires_at.getUTCHours(), 15, 'midnight JST');
    assert.deepEqual(
      Object.values(await points.invariants()).filter((n) => n !== 0),
      [],
      'ledger invariants hold',
    );
  });

  it('re-running the same export adds nothing; a longer export adds only the new lots', async () => {
    const before = await count('SELECT count(*) AS n FROM points.journal');
    const again = await run('balances', sample.balances);
    assert.equal(again.status, 0);
    assert.equal(again.report.imported, 0);
    assert.equal(
      again.report.alreadyImported,
      sample.expected['shop']!.rows + sample.expected['health']!.rows,
    );
    assert.equal(await count('SELECT count(*) AS n FROM points.journal'), before);

    const longer = Buffer.concat([sample.balances, Buffer.from('\nL9001,M0001,saijo-pt,shop,77,2027-06-30')]);
    const more = await run('balances', longer);
    assert.equal(more.report.imported, 1);
    const holder = (await idp.residents.findByLegacy('saijo-pilot', 'M0001'))!;
    assert.equal(
      (await points.balance({ currency: 'saijo-pt', holder })).balance,
      (sample.balanceOf.get('M0001') ?? 0) + 77,
    );
    assert.deepEqual(more.report.migrationPools, { 'saijo-pt': 0 });
  });

  it('keeps the history read-only beside the ledger, reconciled per point type', async () => {
    const journals = await count('SELECT count(*) AS n FROM points.journal');
    const { status, report } = await run('history', sample.history);
    assert.equal(status, 0);
    assert.equal(report.imported, sample.historyRows);
    for (const line of report.reconciliation) {
      const e = sample.historyTotal[line.pointType]!;
      assert.deepEqual([line.platformRows, line.platformTotal, line.reconciled], [e.rows, e.total, true]);
    }
    assert.equal(
      await count('SELECT count(*) AS n FROM points.journal'),
      journals,
      'not replayed as transfers',
    );
    const holder = (await idp.residents.findByLegacy('saijo-pilot', 'M0001'))!;
    const rows = await points.migration.importedHistory(holder);
    assert.ok(rows.length >= 3);
    assert.ok(rows[0]!.occurredAt >= rows.at(-1)!.occurredAt, 'newest first');
    assert.ok(
      rows.some((r) => r.description === 'ウォーキング, 歩数達成' || r.description === '加盟店で利用'),
    );
    await assert.rejects(t.platform.db.query(`UPDATE points.migration_history SET amount = 0`), /read-only/);
    const again = await run('history', sample.history);
    assert.equal(again.report.imported, 0);
    assert.equal(await count('SELECT count(*) AS n FROM points.migration_history'), sample.historyRows);
  });

  it('imports visits from JSON with a mapping, per resident and per day', async () => {
    const mapping = path.join(dir, 'mapping.json');
    writeFileSync(mapping, JSON.stringify(sample.visitMapping));
    const { status, report } = await run('visits', sample.visits, ['--mapping', mapping]);
    assert.equal(status, 0);
    assert.equal(report.format, 'json');
    assert.equal(report.imported, sample.visitRows);
    const holder = (await idp.residents.findByLegacy('saijo-pilot', 'M0003'))!;
    const visits = await points.migration.visits(holder);
    assert.deepEqual(
      visits.map((v) => [v.visitedAt, v.place, v.kind]),
      [
        ['2026-11-12T01:02:00.000Z', '西条市総合文化会館', 'entry'],
        ['2026-11-11T01:01:00.000Z', '石鎚ふれあいの里', 'entry'],
        ['2026-11-10T01:00:00.000Z', '西条市総合文化会館', 'entry'],
      ],
    );
    const days = await points.migration.visitCounts({
      from: new Date('2026-11-10T00:00:00+09:00'),
      to: new Date('2026-11-11T00:00:00+09:00'),
    });
    assert.deepEqual(days, [{ day: '2026-11-10', place: '西条市総合文化会館', visits: 10 }]);
    const dry = await run('visits', sample.visits, ['--mapping', mapping, '--dry-run']);
    assert.equal(dry.report.imported, 0);
    assert.equal(dry.report.alreadyImported, sample.visitRows);
  });

  it('audits every import run and keeps only a hash of each file', async () => {
    const { rows } = await t.platform.db.query<{ action: string }>(
      `SELECT action FROM core.audit_log WHERE action LIKE 'points.migration.%' OR action = 'idp.migration.users' ORDER BY seq`,
    );
    assert.deepEqual(
      [...new Set(rows.map((r) => r.action))],
      [
        'idp.migration.users',
        'points.migration.balances',
        'points.migration.history',
        'points.migration.visits',
      ],
    );
    const runs = await t.platform.db.query<{ file_sha256: string }>(
      'SELECT file_sha256 FROM points.migration_runs',
    );
    assert.ok(runs.rows.every((r) => /^[0-9a-f]{64}$/.test(r.file_sha256)));
  });
});
