/**
 * Exports round-trip: CSV, Arrow IPC and Parquet of a view with filters, read back with
 * `apache-arrow` and `parquet-wasm` and compared with the rows the query API gives. The monthly
 * rollup answers whole-month queries with the same figures as the daily table.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Table, tableFromIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm';
import { send } from '../support/http.ts';
import { CURRENCY, type Fixture, STAFF, seedPoints, startDashboards } from './fixtures.ts';

function rowsOf(table: Table): Array<Record<string, unknown>> {
  return table.toArray().map((r) => {
    const o = r.toJSON() as Record<string, unknown>;
    // Date32 reads back as milliseconds since the epoch.
    return { ...o, day: new Date(Number(o['day'])).toISOString().slice(0, 10) };
  });
}

describe('exports and the monthly rollup', () => {
  let f: Fixture;
  let api: string;
  before(async () => {
    f = await startDashboards();
    await seedPoints(f);
    await f.dashboards.refresher.refreshPoints(
      { currency: CURRENCY, from: '2026-04-01', to: '2026-04-03' },
      STAFF,
    );
    api = `${f.t.url}/api/dashboards`;
  });
  after(() => f.t.stop());

  const expected = [
    {
      day: '2026-04-01',
      currency: CURRENCY,
      point_type: 'event',
      issuer: 'saijo-city',
      flow: 'issued',
      merchant: '',
      place: '',
      amount: 1200,
    },
    {
      day: '2026-04-01',
      currency: CURRENCY,
      point_type: 'event',
      issuer: 'saijo-city',
      flow: 'used',
      merchant: 'm1',
      place: 'ekimae',
      amount: 120,
    },
  ];
  const filter = 'filter=day:eq:2026-04-01';

  it('Arrow IPC stream: typed columns, the filtered rows, read back with apache-arrow', async () => {
    const res = await fetch(`${api}/views/points_flow_daily/export.arrows?${filter}`, { headers: f.viewer });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/vnd.apache.arrow.stream');
    const table = tableFromIPC(new Uint8Array(await res.arrayBuffer()));
    assert.deepEqual(
      table.schema.fields.map((x) => `${x.name}:${String(x.type)}`),
      [
        'day:Date32<DAY>',
        'currency:Utf8',
        'point_type:Utf8',
        'issuer:Utf8',
        'flow:Utf8',
        'merchant:Utf8',
        'place:Utf8',
        'amount:Float64',
      ],
    );
    assert.deepEqual(rowsOf(table), expected);
  });

  it('Parquet: the same rows, read back with parquet-wasm', async () => {
    const res = await fetch(`${api}/views/points_flow_daily/export.parquet?${filter}`, { headers: f.viewer });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/vnd.apache.parquet');
    const bytes = new Uint8Array(await res.arrayBuffer());
    assert.equal(new TextDecoder().decode(bytes.slice(0, 4)), 'PAR1');
    const table = tableFromIPC(readParquet(bytes).intoIPCStream());
    assert.deepEqual(rowsOf(table), expected);
  });

  it('every format holds every row of the unfiltered view, as the CSV does', async () => {
    const csv = await (
      await fetch(`${api}/views/points_flow_daily/export.csv`, { headers: f.viewer })
    ).text();
    const lines = csv.trim().split('\r\n');
    assert.equal(lines.length, 5);
    const arrow = tableFromIPC(
      new Uint8Array(
        await (
          await fetch(`${api}/views/points_flow_daily/export.arrows`, { headers: f.viewer })
        ).arrayBuffer(),
      ),
    );
    const pq = tableFromIPC(
      readParquet(
        new Uint8Array(
          await (
            await fetch(`${api}/views/points_flow_daily/export.parquet`, { headers: f.viewer })
          ).arrayBuffer(),
        ),
      ).intoIPCStream(),
    );
    const fromCsv = lines.slice(1).map((l) => {
      const v = l.split(',');
      return {
        day: v[0],
        currency: v[1],
        point_type: v[2],
        issuer: v[3],
        flow: v[4],
        merchant: v[5],
        place: v[6],
        amount: Number(v[7]),
      };
    });
    assert.deepEqual(rowsOf(arrow), fromCsv);
    assert.deepEqual(rowsOf(pq), fromCsv);
  });

  it('an empty result still has the schema (Arrow and Parquet)', async () => {
    const q = 'filter=day:eq:2030-01-01';
    const arrow = tableFromIPC(
      new Uint8Array(
        await (
          await fetch(`${api}/views/points_flow_daily/export.arrows?${q}`, { headers: f.viewer })
        ).arrayBuffer(),
      ),
    );
    assert.equal(arrow.numRows, 0);
    assert.equal(arrow.schema.fields.length, 8);
    const res = await fetch(`${api}/views/points_flow_daily/export.parquet?${q}`, { headers: f.viewer });
    assert.equal(res.status, 200);
    const pq = tableFromIPC(readParquet(new Uint8Array(await res.arrayBuffer())).intoIPCStream());
    assert.equal(pq.numRows, 0);
  });

  it('an unknown format or a bad filter is refused before anything is streamed, and not audited', async () => {
    const before = await f.t.platform.db.query(
      `SELECT count(*)::int AS n FROM core.audit_log WHERE action = 'dashboards.export'`,
    );
    const xlsx = await send(`${api}/views/points_flow_daily/export.xlsx`, { headers: f.viewer });
    assert.equal(xlsx.status, 400);
    const bad = await send(`${api}/views/points_flow_daily/export.parquet?filter=amount:eq:1`, {
      headers: f.viewer,
    });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.code, 'invalid-chart');
    const none = await send(`${api}/views/points_flow_daily/export.arrows`);
    assert.equal(none.status, 401);
    const afterCount = await f.t.platform.db.query(
      `SELECT count(*)::int AS n FROM core.audit_log WHERE action = 'dashboards.export'`,
    );
    assert.equal(afterCount.rows[0]?.n, before.rows[0]?.n);
  });

  it('the monthly rollup holds the month’s sums and answers whole-month queries with the same figures', async () => {
    const { rows } = await f.t.platform.db.query(
      `SELECT to_char(month, 'YYYY-MM-DD') AS month, flow, merchant, amount::float8 AS amount
         FROM analytics.points_flow_monthly ORDER BY flow, merchant`,
    );
    assert.deepEqual(rows, [
      { month: '2026-04-01', flow: 'issued', merchant: '', amount: 1200 },
      { month: '2026-04-01', flow: 'used', merchant: 'm1', amount: 170 },
      { month: '2026-04-01', flow: 'used', merchant: 'm2', amount: 60 },
    ]);
    const query = (filters: unknown[], aggregate = 'sum') =>
      send(`${api}/views/points_flow_daily/query`, {
        method: 'POST',
        headers: f.viewer,
        body: {
          chartType: 'bar',
          dimensions: ['merchant'],
          measures: [{ column: 'amount', aggregate }],
          filters,
        },
      });
    const used = { column: 'flow', op: 'eq', value: 'used' };
    const whole = await query([
      used,
      { column: 'day', op: 'gte', value: '2026-04-01' },
      { column: 'day', op: 'lte', value: '2026-04-30' },
    ]);
    assert.equal(whole.body.source, 'analytics.points_flow_monthly');
    assert.deepEqual(whole.body.rows, [
      { merchant: 'm1', amount: 170 },
      { merchant: 'm2', amount: 60 },
    ]);
    const unfiltered = await query([used]);
    assert.equal(unfiltered.body.source, 'analytics.points_flow_monthly');
    assert.deepEqual(unfiltered.body.rows, whole.body.rows);
    // A range inside the month, or a maximum, needs the days.
    const part = await query([used, { column: 'day', op: 'gte', value: '2026-04-02' }]);
    assert.equal(part.body.source, 'analytics.points_flow_daily');
    assert.deepEqual(part.body.rows, [
      { merchant: 'm1', amount: 50 },
      { merchant: 'm2', amount: 60 },
    ]);
    const max = await query([used], 'max');
    assert.equal(max.body.source, 'analytics.points_flow_daily');
    assert.deepEqual(max.body.rows, [
      { merchant: 'm1', amount: 120 },
      { merchant: 'm2', amount: 60 },
    ]);
  });

  it('a refresh of one day rebuilds only its month: later payments show in the rollup', async () => {
    f.clock.now = new Date('2026-05-01T03:00:00Z');
    await f.points.pay({
      currency: CURRENCY,
      resident: 'r-1',
      merchant: 'm2',
      amount: 7,
      idempotency: { scope: 'pos', key: 'may-1' },
      actor: 'client:pos',
    });
    await f.dashboards.refresher.refreshPoints(
      { currency: CURRENCY, from: '2026-05-01', to: '2026-05-01' },
      STAFF,
    );
    const { rows } = await f.t.platform.db.query(
      `SELECT to_char(month, 'YYYY-MM') AS month, merchant, amount::float8 AS amount
         FROM analytics.points_flow_monthly WHERE flow = 'used' ORDER BY month, merchant`,
    );
    assert.deepEqual(rows, [
      { month: '2026-04', merchant: 'm1', amount: 170 },
      { month: '2026-04', merchant: 'm2', amount: 60 },
      { month: '2026-05', merchant: 'm2', amount: 7 },
    ]);
  });
});
