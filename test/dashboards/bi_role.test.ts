/** The read-only role BI tools log in with: reads the aggregate tables, writes nothing, sees nothing else. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { BI_ROLE, BI_TABLES } from '../../dashboards/index.ts';
import { BI_PASSWORD, enableBiLogin, type Fixture, startDashboards } from './fixtures.ts';

describe('read-only role for BI tools', () => {
  let f: Fixture;
  let bi: pg.Client;
  before(async () => {
    f = await startDashboards();
    await f.t.platform.db.query(
      `INSERT INTO analytics.points_kpi_daily VALUES ('2026-04-01', 'saijo-lsp', 12, 1, 12, 1200, 120, 0)`,
    );
    bi = new pg.Client({ connectionString: await enableBiLogin(f) });
    await bi.connect();
  });
  after(async () => {
    await bi?.end();
    await f.t.stop();
  });

  async function errorCode(sql: string): Promise<string> {
    try {
      await bi.query(sql);
    } catch (error) {
      return (error as { code: string }).code;
    }
    return 'no error';
  }

  it('reads every aggregate table, with analytics as its search path', async () => {
    const { rows } = await bi.query('SELECT currency, active_residents FROM points_kpi_daily');
    assert.deepEqual(rows, [{ currency: 'saijo-lsp', active_residents: 12 }]);
    for (const table of BI_TABLES) await bi.query(`SELECT count(*) FROM analytics.${table}`);
  });

  it('fails to write, even after turning read-only transactions off', async () => {
    assert.equal(
      await errorCode(`INSERT INTO points_kpi_daily VALUES ('2026-04-02', 'x', 1, 1, 1, 1, 1, 1)`),
      '25006', // read_only_sql_transaction
    );
    await bi.query('SET default_transaction_read_only = off');
    assert.equal(await errorCode(`DELETE FROM points_kpi_daily`), '42501'); // insufficient_privilege
    assert.equal(await errorCode(`CREATE TABLE analytics.mine (x int)`), '42501');
    const { rows } = await f.t.platform.db.query('SELECT count(*)::int AS n FROM analytics.points_kpi_daily');
    assert.equal(rows[0]!.n, 1);
  });

  it('cannot read the chart catalogue, other modules or the audit log', async () => {
    assert.equal(await errorCode('SELECT * FROM analytics.chart'), '42501');
    assert.equal(await errorCode('SELECT * FROM analytics.publication'), '42501');
    assert.equal(await errorCode('SELECT * FROM points.journal'), '42501');
    assert.equal(await errorCode('SELECT * FROM core.audit_log'), '42501');
  });

  it('`npm run tsunagu -- dashboards bi login` gives the role LOGIN with the configured password', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['main.ts', 'dashboards', 'bi', 'login'], {
      env: { ...f.t.env, PATH: process.env['PATH'], DASHBOARDS_BI_PASSWORD: BI_PASSWORD },
    });
    assert.equal(stdout, `${BI_ROLE} can log in (read-only, analytics schema)\n`);
    // Other test files share the cluster-wide role, so it is never switched off here; logging in
    // with the command's password is the check.
    const url = new URL(f.t.databaseUrl);
    url.username = BI_ROLE;
    url.password = BI_PASSWORD;
    const again = new pg.Client({ connectionString: url.toString() });
    await again.connect();
    const { rows } = await again.query<{ ro: string }>(
      "SELECT current_setting('default_transaction_read_only') AS ro",
    );
    await again.end();
    assert.equal(rows[0]!.ro, 'on');
  });
});
