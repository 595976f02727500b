import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { send } from '../support/http.ts';
import { startTestPlatform, staticTokens, type TestPlatform } from '../support/platform.ts';
import { CURRENT_TOURISM, LEGACY_AED, sjis, utf8Bom } from './fixtures.ts';

const ADMIN = { authorization: 'Bearer staff' };
/** LEGACY_AED a month later: one row renamed, one removed, the broken row fixed. */
const REVISED = LEGACY_AED.replace('宇都宮市役所,', '宇都宮市役所本庁舎,')
  .split('\r\n')
  .filter((l) => !l.startsWith('92011,2,'))
  .join('\r\n')
  .replace('092011,4,栃木県,宇都宮市,,', '092011,4,栃木県,宇都宮市,本町分館,');

describe('open data upload API', () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform({
      tokenVerifier: staticTokens({
        staff: { clientId: 'staff-1', scopes: ['opendata:admin'] },
        other: { clientId: 'other', scopes: ['points:read'] },
      }),
    });
  });
  after(() => t.stop());

  const upload = (bytes: Uint8Array, query = 'fileName=aed.csv', headers: Record<string, string> = ADMIN) =>
    send(`${t.url}/api/opendata/uploads?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', ...headers },
      raw: bytes,
    });
  const uploads = async () =>
    Number(
      (await t.platform.db.query<{ n: string }>('SELECT count(*) AS n FROM opendata.uploads')).rows[0]!.n,
    );
  const entities = async (type: string) => (await send(`${t.url}/v2/entities?type=${type}&limit=100`)).body;
  /** Polls the upload until its registration has finished. */
  const settled = async (id: string) => {
    for (;;) {
      const res = await send(`${t.url}/api/opendata/uploads/${id}`, { headers: ADMIN });
      if (res.body.status !== 'registering') return res.body;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const files = () => readdirSync(path.join(t.dataDir, 'opendata', 'uploads'));

  it('analyses a Shift_JIS legacy AED file, registers nothing until confirmed, then registers the valid rows', async () => {
    const res = await upload(sjis(LEGACY_AED));
    assert.equal(res.status, 201);
    const { id, report, status } = res.body;
    assert.equal(status, 'analysed');
    assert.equal(res.headers.get('location'), `/api/opendata/uploads/${id}`);
    assert.deepEqual([report.encoding, report.dataset.id, report.headerLine], ['shift_jis', 'aed', 3]);
    assert.deepEqual([report.rowsValid, report.rowsInvalid, report.counts.errors], [3, 2, 2]);
    assert.deepEqual(await entities('AED'), []);

    const csv = await fetch(`${t.url}/api/opendata/uploads/${id}/report.csv`, { headers: ADMIN });
    assert.equal(csv.headers.get('content-type'), 'text/csv; charset=utf-8');
    const bytes = Buffer.from(await csv.arrayBuffer());
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    const lines = bytes.subarray(3).toString('utf8').split('\r\n');
    assert.equal(lines[0], '行,列,重要度,ルール,内容,変更前,変更後,message');
    assert.equal(
      lines.find((l) => l.startsWith('8,')),
      '8,名称,エラー,required.missing,必須項目が空です,,,Required item is empty',
    );

    const done = await send(`${t.url}/api/opendata/uploads/${id}/confirm`, {
      method: 'POST',
      headers: ADMIN,
      body: { datasetId: '092011-aed', title: '宇都宮市AED設置箇所一覧' },
    });
    assert.equal(done.status, 202);
    assert.equal(done.body.status, 'registering');
    const registered = await settled(id);
    assert.equal(registered.status, 'registered');
    assert.deepEqual(registered.registration, {
      datasetId: '092011-aed',
      version: 1,
      entities: 3,
      batches: 1,
    });
    const aeds = await entities('AED');
    assert.deepEqual(
      aeds.map((e: { id: string }) => e.id),
      ['urn:ngsi-ld:AED:092011:1', 'urn:ngsi-ld:AED:092011:2', 'urn:ngsi-ld:AED:092011:3'],
    );
    const third = aeds[2];
    assert.deepEqual(third.remarks, { type: 'TextUnrestricted', value: '備考は(括弧)付き', metadata: {} });
    assert.deepEqual(third.location.value, { type: 'Point', coordinates: [139.87, 36.55] });
    assert.equal(third.installationPosition.value, '2階\r\n受付横');

    const again = await send(`${t.url}/api/opendata/uploads/${id}/confirm`, {
      method: 'POST',
      headers: ADMIN,
      body: {},
    });
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'opendata-already-registered');

    const catalogue = await send(`${t.url}/api/opendata/datasets`, { headers: ADMIN });
    assert.deepEqual(
      catalogue.body.map((d: Record<string, unknown>) => [
        d['identifier'],
        d['title'],
        d['version'],
        d['published'],
      ]),
      [['092011-aed', '宇都宮市AED設置箇所一覧', 1, false]],
    );
    assert.deepEqual((await send(`${t.url}/api/opendata/catalog`)).body, []);
    assert.equal(
      (await send(`${t.url}/api/opendata/datasets/092011-aed/publish`, { method: 'POST', headers: ADMIN }))
        .status,
      204,
    );
    const published = (await send(`${t.url}/api/opendata/catalog`)).body;
    assert.deepEqual(
      published.map((d: Record<string, unknown>) => [d['identifier'], d['license']]),
      [['092011-aed', 'https://creativecommons.org/licenses/by/4.0/']],
    );
  });

  it('re-upload: shows new / changed / missing entities before writing, then deletes missing ones when asked', async () => {
    const res = await upload(sjis(REVISED));
    assert.equal(res.status, 201);
    const id = res.body.id;
    const diff = await send(`${t.url}/api/opendata/uploads/${id}/diff?datasetId=092011-aed`, {
      headers: ADMIN,
    });
    assert.equal(diff.status, 200);
    assert.deepEqual(diff.body, {
      datasetId: '092011-aed',
      new: 1,
      changed: 1,
      unchanged: 1,
      missing: 1,
      samples: {
        new: ['urn:ngsi-ld:AED:092011:4'],
        changed: [{ id: 'urn:ngsi-ld:AED:092011:1', attrs: ['name'] }],
        missing: ['urn:ngsi-ld:AED:092011:2'],
      },
    });
    assert.equal((await entities('AED')).length, 3, 'the diff writes nothing');

    const done = await send(`${t.url}/api/opendata/uploads/${id}/confirm`, {
      method: 'POST',
      headers: ADMIN,
      body: { datasetId: '092011-aed', deleteMissing: true },
    });
    assert.equal(done.status, 202);
    const registered = await settled(id);
    assert.deepEqual(registered.registration, {
      datasetId: '092011-aed',
      version: 2,
      entities: 3,
      batches: 1,
      deleted: 1,
    });
    assert.deepEqual(
      (await entities('AED')).map((e: { id: string; name: { value: string } }) => [e.id, e.name.value]),
      [
        ['urn:ngsi-ld:AED:092011:1', '宇都宮市役所本庁舎'],
        ['urn:ngsi-ld:AED:092011:3', '中央生涯学習センター'],
        ['urn:ngsi-ld:AED:092011:4', '本町分館'],
      ],
    );
  });

  it('publishes the latest version without login: catalogue, original file, UTF-8 CSV, NGSIv2 entities', async () => {
    const catalog = await send(`${t.url}/api/opendata/catalog`);
    assert.equal(catalog.status, 200);
    const base = `${t.platform.config.publicUrl}/api/opendata/catalog/092011-aed`;
    assert.deepEqual(catalog.body[0].distribution, [
      { title: '元のファイル / Original file', mediaType: 'text/csv', downloadURL: `${base}/original` },
      { title: 'CSV (UTF-8)', mediaType: 'text/csv', downloadURL: `${base}/csv` },
      { title: 'NGSIv2 JSON', mediaType: 'application/json', accessURL: `${base}/entities` },
    ]);
    assert.equal(catalog.body[0].version, 2);

    const original = await fetch(`${t.url}/api/opendata/catalog/092011-aed/original`);
    assert.deepEqual(Buffer.from(await original.arrayBuffer()), sjis(REVISED));
    const csv = await fetch(`${t.url}/api/opendata/catalog/092011-aed/csv`);
    assert.equal(csv.headers.get('content-type'), 'text/csv; charset=utf-8');
    assert.deepEqual(Buffer.from(await csv.arrayBuffer()), Buffer.from(`\ufeff${REVISED}`));

    const list = await send(`${t.url}/api/opendata/catalog/092011-aed/entities?options=keyValues&limit=2`);
    assert.equal(list.status, 200);
    assert.equal(list.headers.get('fiware-total-count'), '3');
    assert.deepEqual(
      list.body.map((e: { id: string; name: string }) => [e.id, e.name]),
      [
        ['urn:ngsi-ld:AED:092011:1', '宇都宮市役所本庁舎'],
        ['urn:ngsi-ld:AED:092011:3', '中央生涯学習センター'],
      ],
    );

    assert.equal(
      (await send(`${t.url}/api/opendata/datasets/092011-aed/unpublish`, { method: 'POST', headers: ADMIN }))
        .status,
      204,
    );
    for (const what of ['original', 'csv', 'entities']) {
      const res = await send(`${t.url}/api/opendata/catalog/092011-aed/${what}`);
      assert.equal(res.status, 404, what);
      assert.equal(res.body.code, 'not-found');
    }
    assert.deepEqual((await send(`${t.url}/api/opendata/catalog`)).body, []);
  });

  it('events reach the broker with dates as DateTime and the start as a UTC instant', async () => {
    const text =
      'イベント名,開始日,開始時間,場所名称,説明,ID\r\n夏祭り,令和8年8月1日,18時,中央公園,盆踊り (雨天中止),E1\r\n';
    const res = await upload(sjis(text), 'fileName=event.csv&municipalityCode=131016&dataset=event');
    assert.equal(res.status, 201);
    await send(`${t.url}/api/opendata/uploads/${res.body.id}/confirm`, {
      method: 'POST',
      headers: ADMIN,
      body: {},
    });
    assert.equal((await settled(res.body.id)).status, 'registered');
    const e = await send(`${t.url}/v2/entities/urn:ngsi-ld:Event:131016:E1?options=keyValues`);
    assert.equal(e.status, 200);
    assert.deepEqual(
      [e.body.startDate, e.body.startDateTime, e.body.description],
      ['2026-08-01T00:00:00.000Z', '2026-08-01T09:00:00.000Z', '盆踊り (雨天中止)'],
    );
  });

  it('re-analyses a stored upload with an explicit dataset', async () => {
    const res = await upload(utf8Bom(CURRENT_TOURISM), 'fileName=tourism.csv');
    assert.equal(res.body.report.dataset.id, 'tourism');
    const again = await send(`${t.url}/api/opendata/uploads/${res.body.id}/analyse`, {
      method: 'POST',
      headers: ADMIN,
      body: { dataset: 'event' },
    });
    assert.equal(again.status, 200);
    assert.equal(again.body.report.dataset.id, 'event');
    assert.equal(again.body.options.dataset, 'event');
  });

  it('rejects an undecodable file with the byte offset and line, and keeps nothing', async () => {
    const before = [await uploads(), files().length];
    const bad = Buffer.concat([sjis('名称,住所\r\nあ,い\r\nう'), Buffer.from([0x85, 0x40]), sjis('\r\n')]);
    const res = await upload(bad);
    assert.equal(res.status, 422);
    assert.equal(res.body.code, 'opendata-undecodable');
    assert.deepEqual([res.body.encoding, res.body.offset, res.body.line], ['shift_jis', 20, 3]);
    assert.deepEqual([await uploads(), files().length], before);
  });

  it('a file no standard covers waits for a column mapping, then registers with the mapped names', async () => {
    const csv =
      '管理番号,駐輪場名,所在地,収容台数,北緯,東経,管理者\nP1,駅前第1駐輪場,東京都千代田区丸の内1-1,"1,200",35.6812,139.7671,区\n';
    const res = await upload(Buffer.from(csv), 'fileName=bicycle.csv&municipalityCode=131016');
    assert.equal(res.status, 201);
    assert.deepEqual([res.body.report.dataset, res.body.report.needsMapping], [null, true]);
    assert.equal(res.body.report.candidates.length, 3);
    const refused = await send(`${t.url}/api/opendata/uploads/${res.body.id}/confirm`, {
      method: 'POST',
      headers: ADMIN,
      body: {},
    });
    assert.equal(refused.status, 422);
    assert.equal(refused.body.code, 'opendata-dataset-unknown');
    assert.equal(
      (await send(`${t.url}/api/opendata/uploads/${res.body.id}`, { headers: ADMIN })).body.status,
      'analysed',
    );

    const custom = {
      entityType: 'BicycleParking',
      title: '駐輪場一覧',
      idColumn: '管理番号',
      latColumn: '北緯',
      lonColumn: '東経',
      columns: [
        { header: '管理番号', attr: 'identifier', kind: 'text' },
        { header: '駐輪場名', attr: 'name', kind: 'text', required: true },
        { header: '所在地', attr: 'address', kind: 'text' },
        { header: '収容台数', attr: 'capacity', kind: 'number' },
        { header: '北緯', attr: 'lat', kind: 'text' },
        { header: '東経', attr: 'lon', kind: 'text' },
      ],
    };
    const bad = await send(`${t.url}/api/opendata/uploads/${res.body.id}/analyse`, {
      method: 'POST',
      headers: ADMIN,
      body: { custom: { ...custom, columns: [{ header: '管理番号', attr: '駐輪場', kind: 'id' }] } },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'validation-failed');

    const mapped = await send(`${t.url}/api/opendata/uploads/${res.body.id}/analyse`, {
      method: 'POST',
      headers: ADMIN,
      body: { custom, municipalityCode: '131016' },
    });
    assert.equal(mapped.status, 200);
    const report = mapped.body.report;
    assert.deepEqual(report.dataset, {
      id: 'custom',
      title: '駐輪場一覧',
      titleEn: 'Custom dataset',
      entityType: 'BicycleParking',
      score: 0.86,
    });
    const entity = report.preview[0].entity;
    assert.equal(entity.id, 'urn:ngsi-ld:BicycleParking:131016:P1');
    assert.deepEqual(entity.capacity, { type: 'Number', value: 1200 });
    assert.deepEqual(entity.location.value.coordinates, [139.7671, 35.6812]);
    assert.equal(
      Object.keys(entity).filter((k) => k.startsWith('x_')).length,
      1,
      '管理者 kept as an extension',
    );

    assert.equal(
      (
        await send(`${t.url}/api/opendata/uploads/${res.body.id}/confirm`, {
          method: 'POST',
          headers: ADMIN,
          body: {},
        })
      ).status,
      202,
    );
    assert.equal((await settled(res.body.id)).registration.datasetId, '131016-bicycleparking');
    const listed = await send(`${t.url}/v2/entities?type=BicycleParking&options=keyValues&attrs=name`);
    assert.deepEqual(listed.body, [
      { id: 'urn:ngsi-ld:BicycleParking:131016:P1', type: 'BicycleParking', name: '駅前第1駐輪場' },
    ]);
  });

  it('requires the opendata:admin scope and changes nothing without it', async () => {
    const before = await uploads();
    const res = await upload(sjis(LEGACY_AED), 'fileName=aed.csv', { authorization: 'Bearer other' });
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'insufficient-scope');
    assert.equal(await uploads(), before);
  });

  it('an upload cancelled halfway leaves no upload, no file and no entity', async () => {
    const before = [await uploads(), files().length, (await entities('TouristFacility')).length];
    const body = utf8Bom(CURRENT_TOURISM);
    const { port } = new URL(t.url);
    await new Promise<void>((resolve) => {
      const req = request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/api/opendata/uploads?fileName=cut.csv',
        headers: { ...ADMIN, 'content-type': 'text/csv', 'content-length': String(body.length) },
      });
      req.on('error', () => resolve());
      req.write(body.subarray(0, body.length >> 1), () => setTimeout(() => req.destroy(), 100));
      req.on('close', () => resolve());
    });
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual([await uploads(), files().length, (await entities('TouristFacility')).length], before);
  });

  it('refuses a declared body over 200 MB before reading it', async () => {
    const { port } = new URL(t.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/api/opendata/uploads?fileName=big.csv',
        headers: { ...ADMIN, 'content-type': 'text/csv', 'content-length': String(200 * 1024 * 1024 + 1) },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('名称,住所\n');
    });
    assert.equal(status, 413);
  });

  it('audits every administrative step, with ids and counts only', async () => {
    const { rows } = await t.platform.db.query<{
      actor: string;
      action: string;
      target: string;
      details: object;
    }>(
      `SELECT actor, action, target, details FROM core.audit_log WHERE action LIKE 'opendata.%' ORDER BY seq`,
    );
    const actions = rows.map((r) => r.action);
    for (const a of [
      'opendata.upload.create',
      'opendata.upload.register',
      'opendata.dataset.publish',
      'opendata.dataset.unpublish',
      'opendata.upload.reanalyse',
    ]) {
      assert.ok(actions.includes(a), a);
    }
    assert.ok(rows.every((r) => r.actor === 'client:staff-1'));
    const register = rows.find(
      (r) => r.action === 'opendata.upload.register' && r.target === 'opendata-dataset:092011-aed',
    );
    assert.deepEqual(Object.keys(register!.details).sort(), ['deleted', 'entities', 'upload', 'version']);
    assert.ok(!JSON.stringify(rows).includes('宇都宮市役所'), 'no cell values in the audit log');
  });

  it('an upload left registering by a stopped process can be confirmed again after restart', async () => {
    const res = await upload(sjis(LEGACY_AED), 'fileName=again.csv');
    const id = res.body.id;
    await t.platform.db.query(`UPDATE opendata.uploads SET status = 'registering' WHERE id = $1`, [id]);
    const busy = await send(`${t.url}/api/opendata/uploads/${id}/confirm`, {
      method: 'POST',
      headers: ADMIN,
      body: {},
    });
    assert.equal(busy.status, 409);
    assert.equal(busy.body.code, 'opendata-registering');
    const service = t.platform.services['opendata'] as { recoverInterrupted(): Promise<void> };
    await service.recoverInterrupted();
    const after = await send(`${t.url}/api/opendata/uploads/${id}`, { headers: ADMIN });
    assert.deepEqual([after.body.status, after.body.registration.error], ['analysed', 'interrupted']);
    const again = await send(`${t.url}/api/opendata/uploads/${id}/confirm`, {
      method: 'POST',
      headers: ADMIN,
      body: { datasetId: '092011-aed' },
    });
    assert.equal(again.status, 202);
    assert.equal((await settled(id)).registration.version, 3);
  });

  it('serves the column dictionary and JSON Schemas publicly', async () => {
    const res = await send(`${t.url}/api/opendata/schemas`);
    assert.equal(res.status, 200);
    assert.ok(res.body.length >= 10);
    const aed = res.body.find((d: { id: string }) => d.id === 'aed');
    assert.equal(aed.entityType, 'AED');
    assert.deepEqual(aed.columns[0], {
      name: '全国地方公共団体コード',
      aliases: ['都道府県コード又は市区町村コード', '市区町村コード', '都道府県コードまたは市区町村コード'],
      attr: 'localGovernmentCode',
      kind: 'code6',
      required: false,
    });
    assert.deepEqual(aed.jsonSchema.required, ['name', 'fullAddress', 'installationPosition']);
  });
});
