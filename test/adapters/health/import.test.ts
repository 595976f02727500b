/**
 * Health-app CSV files into points: dropped in the folder or uploaded by staff, converted at the
 * configured rate (100 steps : 1 point here), paid once per file and once per row, unmatched and
 * invalid rows reported by line, files moved to processed/ or failed/, interrupted imports resumed.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { send } from '../../support/http.ts';
import { type HealthTest, startHealth } from './support.ts';

const HANAKO = 'a'.repeat(26);
const TARO = 'b'.repeat(26);
const JIRO = 'c'.repeat(26);
const staff = { authorization: 'Bearer staff' };

const drop = (f: HealthTest, name: string, text: string) => writeFileSync(path.join(f.dir, name), text);

async function state(f: HealthTest) {
  return {
    balances: [await f.balance(HANAKO), await f.balance(TARO), await f.balance(JIRO)],
    rows: (await f.t.platform.db.query('SELECT row_key FROM adapters.health_row')).rowCount,
  };
}

describe('health-app import', () => {
  let f: HealthTest;
  before(async () => {
    f = await startHealth();
    await f.accounts.link({ email: 'hanako@example.jp', commonId: HANAKO, via: 'staff', actor: 'staff:t' });
    await f.accounts.link({ email: 'Taro@Example.JP', commonId: TARO, via: 'staff', actor: 'staff:t' });
    await f.accounts.link({ email: 'jiro@example.jp', commonId: JIRO, via: 'staff', actor: 'staff:t' });
  });
  after(() => f.stop());

  it('imports a dropped file: converts at the rate, reports unmatched, invalid and zero rows, moves the file', async () => {
    drop(
      f,
      'steps-2026-11-20.csv',
      '\uFEFFメールアドレス,日付,歩数\n' +
        'hanako@example.jp,2026-11-20,8250\n' +
        'taro@example.jp,2026/11/20,12000\n' + // e-mail case and date with slashes
        'nobody@example.jp,2026-11-20,5000\n' +
        'not-an-address,2026-11-20,5000\n' +
        'jiro@example.jp,2026-11-20,50\n', // 0.5 point → 0, reported
    );
    const [report] = await f.poller.pollOnce();
    assert.equal(report!.status, 'done');
    assert.deepEqual(
      {
        rows: report!.rows,
        grantedRows: report!.grantedRows,
        grantedPoints: report!.grantedPoints,
        unmatched: report!.unmatched,
        invalid: report!.invalid,
        zero: report!.zero,
        duplicates: report!.duplicates,
      },
      { rows: 5, grantedRows: 2, grantedPoints: 202, unmatched: 1, invalid: 1, zero: 1, duplicates: 0 },
    );
    assert.deepEqual(report!.report, { unmatchedLines: [4], invalidLines: [{ line: 5, reason: 'email' }] });
    assert.deepEqual((await state(f)).balances, [82, 120, 0]);
    assert.deepEqual(readdirSync(f.dir).sort(), ['processed']);
    const processed = readdirSync(path.join(f.dir, 'processed')).sort();
    assert.equal(processed.length, 2);
    assert.match(processed[0]!, /^\d{8}T\d{6}Z-steps-2026-11-20\.csv$/);
    const saved = readFileSync(path.join(f.dir, 'processed', processed[1]!), 'utf8');
    assert.equal(JSON.parse(saved).id, report!.id);
    assert.doesNotMatch(saved, /example\.jp/);
  });

  it('the same file again pays nothing and is reported as a duplicate', async () => {
    const before = await state(f);
    drop(
      f,
      'again.csv',
      '\uFEFFメールアドレス,日付,歩数\n' +
        'hanako@example.jp,2026-11-20,8250\n' +
        'taro@example.jp,2026/11/20,12000\n' +
        'nobody@example.jp,2026-11-20,5000\n' +
        'not-an-address,2026-11-20,5000\n' +
        'jiro@example.jp,2026-11-20,50\n',
    );
    const [report] = await f.poller.pollOnce();
    assert.equal(report!.status, 'duplicate');
    assert.deepEqual(await state(f), before);
    assert.equal(readdirSync(path.join(f.dir, 'processed')).length, 4);
  });

  it('a row paid by an earlier file is not paid again from a new file', async () => {
    drop(
      f,
      'week.csv',
      'email,date,steps\nhanako@example.jp,2026-11-20,9999\nhanako@example.jp,2026-11-21,3000\njiro@example.jp,2026-11-21,700\n',
    );
    const [report] = await f.poller.pollOnce();
    assert.equal(report!.duplicates, 1);
    assert.equal(report!.grantedPoints, 37);
    assert.deepEqual((await state(f)).balances, [112, 120, 7]);
  });

  it('reads quoted fields and CRLF line ends (RFC 4180) with the same line numbers', async () => {
    drop(
      f,
      'quoted.csv',
      '"email","date","steps"\r\n"jiro@example.jp","2026-11-25","1,000"\r\n"jiro@example.jp","2026-11-26","900"\r\n',
    );
    const [report] = await f.poller.pollOnce();
    assert.deepEqual(report!.report.invalidLines, [{ line: 2, reason: 'steps' }]);
    assert.equal(report!.grantedPoints, 9);
  });

  it('an unreadable file fails as a whole, pays nothing and moves to failed/', async () => {
    const before = await state(f);
    drop(f, 'broken.csv', 'mail,day,walk\nhanako@example.jp,2026-11-22,1000\n');
    const [report] = await f.poller.pollOnce();
    assert.equal(report!.status, 'failed');
    assert.equal(report!.failure, 'import-invalid: The header needs email and date columns.');
    assert.deepEqual(await state(f), before);
    assert.equal(readdirSync(path.join(f.dir, 'failed')).length, 2);
  });

  it('staff upload a file; the replay answers the first report; the API is for staff only', async () => {
    const csv = 'email,date,points,record_id\ntaro@example.jp,2026-11-22,500,app-1\n';
    const url = `${f.t.url}/api/admin/adapters/health/imports?fileName=upload-1.csv`;
    const first = await send(url, {
      method: 'POST',
      headers: { ...staff, 'content-type': 'text/csv' },
      raw: csv,
    });
    assert.equal(first.status, 201);
    assert.equal(first.body.grantedPoints, 5);
    assert.equal(first.body.via, 'upload');
    const replay = await send(url, {
      method: 'POST',
      headers: { ...staff, 'content-type': 'text/csv' },
      raw: csv,
    });
    assert.equal(replay.status, 200);
    assert.equal(replay.body.status, 'duplicate');
    assert.equal(replay.body.id, first.body.id);
    // The same record id in another file is the same row.
    const other = await send(url, {
      method: 'POST',
      headers: { ...staff, 'content-type': 'text/csv' },
      raw: `${csv}jiro@example.jp,2026-11-22,100,app-2\n`,
    });
    assert.equal(other.body.duplicates, 1);
    assert.deepEqual((await state(f)).balances, [112, 125, 17]);

    const listed = await send(`${f.t.url}/api/admin/adapters/health/imports`, { headers: staff });
    assert.equal(listed.body.items[0].id, other.body.id);
    const one = await send(`${f.t.url}/api/admin/adapters/health/imports/${first.body.id}`, {
      headers: staff,
    });
    assert.equal(one.body.fileName, 'upload-1.csv');
    const audit = await f.t.platform.db.query(
      `SELECT actor FROM core.audit_log WHERE action = 'adapters.health.import' AND target = $1`,
      [`adapters.health_import:${first.body.id}`],
    );
    assert.deepEqual(audit.rows, [{ actor: 'staff:st-1' }]);

    const before = await state(f);
    const json = await send(url, { method: 'POST', headers: staff, body: { csv } });
    assert.equal(json.status, 415);
    assert.equal(
      (await send(url, { method: 'POST', headers: { 'content-type': 'text/csv' }, raw: csv })).status,
      401,
    );
    const wrong = await send(url, {
      method: 'POST',
      headers: { authorization: 'Bearer other', 'content-type': 'text/csv' },
      raw: 'email,date,steps\njiro@example.jp,2026-11-23,100000\n',
    });
    assert.equal(wrong.status, 403);
    assert.deepEqual(await state(f), before);
  });

  it('staff link an address; addresses are sealed at rest', async () => {
    const res = await send(`${f.t.url}/api/admin/adapters/health/accounts`, {
      method: 'POST',
      headers: staff,
      body: { email: 'saburo@example.jp', commonId: 'd'.repeat(26) },
    });
    assert.equal(res.status, 201);
    const { rows } = await f.t.platform.db.query<{ sealed: string; index: string }>(
      `SELECT email_sealed AS sealed, email_index AS index FROM adapters.health_account`,
    );
    for (const r of rows) {
      assert.doesNotMatch(r.sealed, /@/);
      assert.doesNotMatch(r.index, /@/);
    }
    const bad = await send(`${f.t.url}/api/admin/adapters/health/accounts`, {
      method: 'POST',
      headers: staff,
      body: { email: 'saburo@example.jp', commonId: 'NOT-AN-ID' },
    });
    assert.equal(bad.status, 400);
  });

  it('an import interrupted after its rows were claimed is finished once by the next poll', async () => {
    drop(f, 'resume.csv', 'email,date,steps\njiro@example.jp,2026-11-24,1000\n');
    const [report] = await f.poller.pollOnce();
    assert.equal(report!.grantedPoints, 10);
    const before = await state(f);
    // As if the process died after the ledger granted but before the attempt was marked done.
    await f.t.platform.db.query(`UPDATE adapters.health_import SET status = 'pending' WHERE id = $1`, [
      report!.id,
    ]);
    assert.equal(await f.importer.resumePending(), 1);
    assert.deepEqual(await state(f), before);
    assert.equal((await f.importer.get(report!.id))?.status, 'done');
  });
});

describe('health-app import with a small pool', () => {
  it('a refused grant fails the attempt and releases its rows; the same file pays once the pool is funded', async () => {
    const f = await startHealth({ pool: 100 });
    try {
      await f.accounts.link({ email: 'hanako@example.jp', commonId: HANAKO, via: 'staff', actor: 'staff:t' });
      const csv = 'email,date,steps\nhanako@example.jp,2026-11-20,50000\n';
      drop(f, 'big.csv', csv);
      const [failed] = await f.poller.pollOnce();
      assert.equal(failed!.status, 'failed');
      assert.match(failed!.failure!, /^pool-exhausted: /);
      assert.equal(await f.balance(HANAKO), 0);
      assert.ok(existsSync(path.join(f.dir, 'failed')));
      await f.points.fundPool({
        currency: 'saijo-lsp',
        pool: 'health',
        amount: 1000,
        idempotency: { scope: 'test', key: 'more' },
        actor: 'staff:t',
      });
      drop(f, 'big.csv', csv);
      const [done] = await f.poller.pollOnce();
      assert.equal(done!.status, 'done');
      assert.equal(await f.balance(HANAKO), 500);
    } finally {
      await f.stop();
    }
  });
});
