/** Superset provisioning against the contract test double (Superset 4.1 REST API) and the real BI role. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { BI_ROLE, BI_TABLES } from '../../dashboards/index.ts';
import {
  PINNED_SUPERSET_VERSION,
  provisionSuperset,
  rison,
  SupersetClient,
  type SupersetError,
  sqlalchemyUri,
} from '../../dashboards/superset_client.ts';
import { BI_PASSWORD, enableBiLogin, type Fixture, startDashboards } from './fixtures.ts';
import { type SupersetDouble, startSupersetDouble } from './superset_double.ts';

describe('Superset provisioning', () => {
  let f: Fixture;
  let superset: SupersetDouble;
  let biUrl: string;
  before(async () => {
    f = await startDashboards();
    biUrl = await enableBiLogin(f);
    superset = await startSupersetDouble({ admin: 'admin-pw' });
  });
  after(async () => {
    await superset?.close();
    await f.t.stop();
  });

  const client = () => new SupersetClient({ baseUrl: superset.url, username: 'admin', password: 'admin-pw' });
  const input = () => ({
    databaseName: 'tsunagu_analytics',
    sqlalchemyUri: sqlalchemyUri(biUrl),
    schema: 'analytics',
    tables: BI_TABLES,
  });

  it('encodes list filters in rison', () => {
    assert.equal(
      rison({ filters: [{ col: 'database_name', opr: 'eq', value: 'tsunagu analytics' }] }),
      "(filters:!((col:database_name,opr:eq,value:'tsunagu analytics')))",
    );
    assert.equal(rison({ a: "it's", b: true, c: 3 }), "(a:'it!'s',b:!t,c:3)");
  });

  it('turns the BI role URL into a psycopg2 SQLAlchemy URI', () => {
    assert.equal(
      sqlalchemyUri('postgres://ro:p%40ss@db.example:5432/tsunagu?sslmode=require'),
      'postgresql+psycopg2://ro:p%40ss@db.example:5432/tsunagu?sslmode=require',
    );
    assert.throws(() => sqlalchemyUri('mysql://x@y/z'), /postgres:\/\//);
  });

  it('creates the read-only connection and one dataset per aggregate table', async () => {
    const result = await provisionSuperset(client(), input());
    assert.equal(result.supersetVersion, PINNED_SUPERSET_VERSION);
    assert.deepEqual(result.database, { id: 1, created: true });
    assert.deepEqual(
      result.datasets.map((d) => [d.table, d.created]),
      BI_TABLES.map((t) => [t, true]),
    );
    const db = superset.databases[0]!;
    assert.equal(db.database_name, 'tsunagu_analytics');
    assert.match(
      db.sqlalchemy_uri,
      new RegExp(`^postgresql\\+psycopg2://${BI_ROLE}:${BI_PASSWORD}@127\\.0\\.0\\.1:\\d+/`),
    );
    assert.equal(db.allow_dml, false);
    assert.equal(typeof db.extra, 'string');
    assert.deepEqual(
      superset.datasets.map((d) => `${d.schema}.${d.table_name}@${d.database.id}`),
      BI_TABLES.map((t) => `analytics.${t}@1`),
    );
    // The starter dashboard, with two charts on the KPI dataset whose JSON fields are strings.
    assert.deepEqual(
      superset.boards.map((b) => [b.slug, b.dashboard_title]),
      [['tsunagu-ebpm', 'つなぐ EBPM / Tsunagu EBPM']],
    );
    const kpi = superset.datasets.find((d) => d.table_name === 'points_kpi_daily')!;
    assert.deepEqual(
      superset.charts.map((c) => [c.slice_name, c.viz_type, c.datasource_id, c.dashboards]),
      [
        ['決済件数 / Payments', 'big_number_total', kpi.id, [superset.boards[0]!.id]],
        ['日別決済件数 / Payments per day', 'echarts_timeseries_bar', kpi.id, [superset.boards[0]!.id]],
      ],
    );
    const context = JSON.parse(superset.charts[0]!.query_context);
    assert.deepEqual(context.datasource, { id: kpi.id, type: 'table' });
    assert.equal(JSON.parse(superset.charts[0]!.params).datasource, `${kpi.id}__table`);
    assert.deepEqual(
      result.charts.map((c) => c.created),
      [true, true],
    );
  });

  it('run again, updates the connection and creates no duplicates', async () => {
    const before = superset.log.length;
    const result = await provisionSuperset(client(), input());
    assert.deepEqual(result.database, { id: 1, created: false });
    assert.ok(result.datasets.every((d) => !d.created));
    assert.equal(superset.databases.length, 1);
    assert.equal(superset.datasets.length, BI_TABLES.length);
    assert.equal(superset.boards.length, 1);
    assert.equal(superset.charts.length, 2);
    const calls = superset.log.slice(before);
    assert.ok(calls.includes('PUT /api/v1/database/1'));
    assert.ok(!calls.includes('POST /api/v1/dataset/'));
  });

  it('a table the role cannot read is refused by Superset (through the real connection)', async () => {
    await assert.rejects(
      client().upsertDataset({ database: 1, schema: 'analytics', table: 'chart' }),
      (e: SupersetError) => {
        assert.equal(e.status, 422);
        assert.match(JSON.stringify(e.body), /Table \[chart\] could not be found/);
        return true;
      },
    );
    assert.equal(superset.datasets.length, BI_TABLES.length);
  });

  it('wrong credentials fail at login and change nothing', async () => {
    const bad = new SupersetClient({ baseUrl: superset.url, username: 'admin', password: 'wrong' });
    await assert.rejects(
      provisionSuperset(bad, { ...input(), databaseName: 'other' }),
      (e: SupersetError) => {
        assert.equal(e.status, 401);
        assert.deepEqual(e.body, { message: 'Not authorized' });
        return true;
      },
    );
    assert.equal(superset.databases.length, 1);
  });

  it('the double refuses writes without the CSRF session, as Superset does', async () => {
    const login = await fetch(`${superset.url}/api/v1/security/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'admin-pw', provider: 'db', refresh: true }),
    });
    const { access_token } = (await login.json()) as { access_token: string };
    const csrf = await fetch(`${superset.url}/api/v1/security/csrf_token/`, {
      headers: { authorization: `Bearer ${access_token}` },
    });
    const { result } = (await csrf.json()) as { result: string };
    const res = await fetch(`${superset.url}/api/v1/database/`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${access_token}`,
        'x-csrftoken': result,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ database_name: 'x', sqlalchemy_uri: 'postgresql://a@b/c' }),
    });
    assert.equal(res.status, 400);
    assert.equal(
      ((await res.json()) as { errors: Array<{ message: string }> }).errors[0]!.message,
      '400 Bad Request: The CSRF session token is missing.',
    );
    assert.equal(superset.databases.length, 1);
  });

  it('`npm run tsunagu -- dashboards superset provision` reports what exists (second run: nothing new)', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['main.ts', 'dashboards', 'superset', 'provision'],
      {
        env: {
          PATH: process.env['PATH'],
          SUPERSET_URL: superset.url,
          SUPERSET_USERNAME: 'admin',
          SUPERSET_PASSWORD: 'admin-pw',
          DASHBOARDS_BI_URL: biUrl,
        },
      },
    );
    assert.equal(
      stdout,
      `Superset ${PINNED_SUPERSET_VERSION} API: database 1 updated\n` +
        superset.datasets.map((d) => `  dataset ${d.id} analytics.${d.table_name} exists\n`).join('') +
        `  dashboard ${superset.boards[0]!.id} tsunagu-ebpm exists\n` +
        superset.charts.map((c) => `  chart ${c.id} exists\n`).join(''),
    );
  });
});
