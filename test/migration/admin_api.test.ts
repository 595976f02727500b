/**
 * The same migration over the staff API (what an admin page calls): users through the identity
 * provider's bulk registration with a legacy source, then balances and history — a dry run writes
 * nothing, a bad export is refused with its report (422), the import reconciles, a re-run adds
 * nothing, and a token without the staff scope changes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCoreModule } from '../../core/index.ts';
import { createIdpModuleWith, createMemoryMailer } from '../../idp/index.ts';
import { createPointsModule, type ImportReport, type PointsService } from '../../points/index.ts';
import { staticTokens, startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { sampleExport } from './sample_export.ts';

const NOW = new Date('2026-11-23T03:00:00Z');

describe('migration over the staff API', () => {
  let t: TestPlatform;
  const sample = sampleExport({ members: 40, now: NOW });

  before(async () => {
    t = await startTestPlatform({
      now: () => NOW,
      modules: [createCoreModule, createIdpModuleWith({ mailer: createMemoryMailer() }), createPointsModule],
      tokenVerifier: staticTokens({
        staff: { subject: 'st_1', clientId: 'console', scopes: ['points:admin', 'idp:residents'] },
        reader: { subject: 'st_2', clientId: 'console', scopes: ['points:read'] },
      }),
    });
    const points = t.platform.services['points'] as PointsService;
    await points.createCurrency({ code: 'saijo-pt', municipality: '382060', name: '西条ポイント' }, 'test');
    await points.createPointType(
      { currency: 'saijo-pt', code: 'shop', name: '買い物', validityDays: 365, issuer: 'city' },
      'test',
    );
    await points.createPointType(
      { currency: 'saijo-pt', code: 'health', name: '健康', issuer: 'city' },
      'test',
    );
  });
  after(async () => {
    await t?.stop();
  });

  const post = (path: string, body: Buffer, type = 'text/csv', token = 'staff') =>
    fetch(`${t.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': type },
      body: new Uint8Array(body),
    });
  const count = async (sql: string) => Number((await t.platform.db.query<{ n: string }>(sql)).rows[0]!.n);

  it('imports users, then balances and history, reconciled and re-runnable', async () => {
    const users = await post(
      '/api/admin/idp/residents/bulk?apply=true&invite=false&legacySource=pilot',
      sample.users,
    );
    assert.equal(users.status, 201);
    assert.equal(((await users.json()) as { create: number }).create, 40);

    const denied = await post(
      '/api/points/admin/migration/balances?source=pilot',
      sample.balances,
      'text/csv',
      'reader',
    );
    assert.equal(denied.status, 403);

    const dry = await post('/api/points/admin/migration/balances?source=pilot&dryRun=true', sample.balances);
    assert.equal(dry.status, 200);
    const dryReport = (await dry.json()) as ImportReport;
    assert.equal(dryReport.applied, false);
    assert.equal(dryReport.imported, sample.expected['shop']!.rows + sample.expected['health']!.rows);
    assert.equal(await count('SELECT count(*) AS n FROM points.migration_lots'), 0);
    assert.equal(await count('SELECT count(*) AS n FROM points.journal'), 0, 'a dry run writes nothing');

    const bad = Buffer.concat([sample.balances, Buffer.from('\nX1,M9999,saijo-pt,shop,10,2027-01-01')]);
    const refused = await post('/api/points/admin/migration/balances?source=pilot', bad);
    assert.equal(refused.status, 422);
    const problem = (await refused.json()) as { code: string; report: ImportReport };
    assert.equal(problem.code, 'migration-rows-invalid');
    assert.deepEqual(problem.report.issues, [
      { at: sample.balances.toString('utf8').split('\n').length + 1, field: 'user_id', code: 'unknown-user' },
    ]);
    assert.equal(await count('SELECT count(*) AS n FROM points.journal'), 0);

    const imported = await post('/api/points/admin/migration/balances?source=pilot', sample.balances);
    assert.equal(imported.status, 201);
    const report = (await imported.json()) as ImportReport;
    assert.ok(report.reconciliation.every((l) => l.reconciled));
    assert.equal(
      report.reconciliation.reduce((s, l) => s + l.platformTotal, 0),
      sample.expected['shop']!.total + sample.expected['health']!.total,
    );

    const again = (await (
      await post('/api/points/admin/migration/balances?source=pilot', sample.balances)
    ).json()) as ImportReport;
    assert.equal(again.imported, 0);

    const history = await post('/api/points/admin/migration/history?source=pilot', sample.history);
    assert.equal(history.status, 201);
    assert.equal(((await history.json()) as ImportReport).imported, sample.historyRows);

    const mapping = encodeURIComponent(JSON.stringify(sample.visitMapping));
    const visits = await post(
      `/api/points/admin/migration/visits?source=pilot&mapping=${mapping}`,
      sample.visits,
      'application/json',
    );
    assert.equal(visits.status, 201);
    assert.equal(((await visits.json()) as ImportReport).imported, sample.visitRows);
  });
});
