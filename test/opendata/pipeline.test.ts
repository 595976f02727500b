import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AnalysisReport, analyseUpload } from '../../opendata/analyse_upload.ts';
import { EncodingError } from '../../opendata/decode_stream.ts';
import { readRecords } from '../../opendata/read_records.ts';
import { checkDigit, repairValue } from '../../opendata/repair_value.ts';
import { CURRENT_TOURISM, chunksOf, LEGACY_AED, sjis, utf8Bom } from './fixtures.ts';

const analyse = (bytes: Uint8Array, more: Record<string, unknown> = {}) =>
  analyseUpload({ open: () => chunksOf(bytes), sourceName: 'test', ...more });

const brief = (r: AnalysisReport) =>
  r.issues.map((i) => [i.line, i.column, i.rule, i.before ?? null, i.after ?? null]);

describe('decoding and CSV records', () => {
  it('reads Shift_JIS with CP932-only characters and keeps the start line of multi-line records', async () => {
    const bytes = sjis('名称,備考\r\n"①髙\r\n二行目",№Ⅰ－\r\n\r\nｶﾅ,x\r\n');
    const out = [];
    for await (const r of readRecords(chunksOf(bytes, 3), 'shift_jis')) out.push([r.line, r.cells]);
    assert.deepEqual(out, [
      [1, ['名称', '備考']],
      [2, ['①髙\r\n二行目', '№Ⅰ－']],
      [5, ['ｶﾅ', 'x']],
    ]);
  });

  it('rejects an undecodable byte with its offset and line, never a replacement character', async () => {
    const bytes = Buffer.concat([
      sjis('名称,住所\r\nあ,い\r\nう'),
      Buffer.from([0x85, 0x40]),
      sjis(',え\r\n'),
    ]);
    await assert.rejects(analyse(bytes), (e: unknown) => {
      assert.ok(e instanceof EncodingError);
      assert.equal(e.encoding, 'shift_jis');
      assert.equal(e.offset, 20); // 11 + 7 bytes of lines 1–2, then う (2 bytes)
      assert.equal(e.line, 3);
      return true;
    });
    await assert.rejects(analyse(bytes, { encoding: 'utf-8' }), (e: unknown) => {
      assert.ok(e instanceof EncodingError);
      assert.deepEqual([e.encoding, e.offset, e.line], ['utf-8', 0, 1]);
      return true;
    });
  });

  it('detects UTF-8 with BOM and Shift_JIS, and an override wins', async () => {
    const bom = await analyse(utf8Bom(CURRENT_TOURISM));
    assert.deepEqual([bom.encoding, bom.bom], ['utf-8', true]);
    assert.equal(bom.columns[0]!.header, '全国地方公共団体コード'); // BOM not part of the header
    const legacy = await analyse(sjis(LEGACY_AED));
    assert.deepEqual([legacy.encoding, legacy.bom], ['shift_jis', false]);
    await assert.rejects(analyse(sjis(LEGACY_AED), { encoding: 'utf-8' }), EncodingError);
  });

  it('reports an unclosed quote with the line its record starts on', async () => {
    await assert.rejects(analyse(Buffer.from('名称,住所\n"a,b\nc,d\n')), { name: 'CsvSyntaxError', line: 2 });
  });
});

describe('validation against the standard datasets', () => {
  it('legacy AED in Shift_JIS: metadata rows, trailing column, each repair and each error on its Excel line', async () => {
    const r = await analyse(sjis(LEGACY_AED));
    assert.equal(r.dataset?.id, 'aed');
    assert.equal(r.dataset?.score, 1);
    assert.equal(r.headerLine, 3);
    assert.deepEqual(r.metadataLines, [1, 2]);
    assert.deepEqual(brief(r), [
      [3, null, 'csv.metadata-rows', '1,2', null],
      [3, '(16列目)', 'csv.trailing-empty-column', null, null],
      [4, '設置位置', 'text.platform-dependent', '1階①ロビー', null],
      [4, '電話番号', 'phone.parentheses', '(028)632-2222', '028-632-2222'],
      [4, '開始時間', 'time.format', '8:30', '08:30'],
      [5, '都道府県コード又は市区町村コード', 'code6.leading-zero', '92011', '092011'],
      [5, '名称_カナ', 'kana.halfwidth', 'ﾀｶﾏﾂｺｳﾐﾝｶﾝ', 'タカマツコウミンカン'],
      [5, '開始時間', 'time.format', '9：00', '09:00'],
      [5, '小児対応設備の有無', 'umu.word', '○', '有'],
      [6, '設置位置', 'csv.line-break-in-cell', null, null],
      [6, '緯度', 'coord.swapped', '139.87 / 36.55', '36.55 / 139.87'],
      [8, '名称', 'required.missing', null, null],
      [9, null, 'csv.empty-record', null, null],
      [10, '都道府県コード又は市区町村コード', 'excel.exponent', '9.20E+04', null],
      [10, '緯度', 'coord.outside-japan', '0 / 0', null],
    ]);
    assert.deepEqual([r.rowsRead, r.rowsValid, r.rowsInvalid, r.rowsSkipped, r.entities], [5, 3, 2, 1, 3]);
    assert.deepEqual(r.unrestricted, ['remarks']); // 備考 has （括弧）: typed per column, not stripped
  });

  it('maps rows to Orion-safe entities: ids, types, geo:json, TextUnrestricted, extension columns kept', async () => {
    const r = await analyse(utf8Bom(CURRENT_TOURISM));
    assert.equal(r.dataset?.id, 'tourism');
    const [first, second] = r.preview.map((p) => p.entity);
    assert.deepEqual(first, {
      id: 'urn:ngsi-ld:TouristFacility:222127:T001',
      type: 'TouristFacility',
      localGovernmentCode: { type: 'Text', value: '222127' },
      identifier: { type: 'Text', value: 'T001' },
      localGovernmentName: { type: 'Text', value: '静岡県焼津市' },
      name: { type: 'Text', value: '焼津さかなセンター' },
      nameKana: { type: 'Text', value: 'ヤイヅサカナセンター' },
      fullAddress: { type: 'Text', value: '静岡県焼津市八楠4-13-7' },
      latitude: { type: 'Text', value: '34.8640' },
      longitude: { type: 'Text', value: '138.3092' },
      description: { type: 'TextUnrestricted', value: '市場; 食堂 (LO.13:30)' },
      startTime: { type: 'Text', value: '09:00' },
      feeBasic: { type: 'Number', value: 1000 },
      x_37d4d5ac: { type: 'Text', value: '魚' },
      location: { type: 'geo:json', value: { type: 'Point', coordinates: [138.3092, 34.864] } },
      dataProvider: { type: 'Text', value: '222127' },
      source: { type: 'Text', value: 'test' },
    });
    assert.match(second!.id, /^urn:ngsi-ld:TouristFacility:222127:h[0-9a-f]{16}$/);
    assert.deepEqual(
      r.columns.filter((c) => !c.standard).map((c) => [c.header, c.attr]),
      [['地元独自項目', 'x_37d4d5ac']],
    );
    const again = await analyse(utf8Bom(CURRENT_TOURISM));
    assert.equal(again.preview[1]!.entity!.id, second!.id, 'derived ids are deterministic');
  });

  it('events: dates and times normalised, start and end as JST instants', async () => {
    const text = [
      'イベント名,開始日,終了日,開始時間,終了時間,場所名称,説明',
      '夏祭り,令和8年8月1日,2026/8/2,18時,21：30,中央公園,盆踊り',
      '',
    ].join('\r\n');
    const r = await analyse(sjis(text), { dataset: 'event', municipalityCode: '131016' });
    const e = r.preview[0]!.entity!;
    assert.deepEqual(
      [e['startDate'], e['endDate'], e['startTime'], e['startDateTime'], e['endDateTime']],
      [
        { type: 'DateTime', value: '2026-08-01' },
        { type: 'DateTime', value: '2026-08-02' },
        { type: 'Text', value: '18:00' },
        { type: 'DateTime', value: '2026-08-01T18:00:00+09:00' },
        { type: 'DateTime', value: '2026-08-02T21:30:00+09:00' },
      ],
    );
  });

  it('an explicit header line and dataset override the detection', async () => {
    const r = await analyse(sjis(LEGACY_AED), { headerLine: 3, dataset: 'public_facility' });
    assert.equal(r.dataset?.id, 'public_facility');
    assert.ok(r.issues.some((i) => i.column === '設置位置' && i.rule === 'csv.unknown-column'));
  });
});

describe('header choices', () => {
  const CKAN = [
    '_id,全国地方公共団体コード,ID,名称,所在地_連結表記,設置位置,緯度,経度',
    '1,131016,A1,千代田区役所,東京都千代田区九段南1-2-1,1階,35.6940,139.7536',
    '',
  ].join('\n');

  it('offers a leading CKAN _id column for dropping, and drops it when asked', async () => {
    const kept = await analyse(Buffer.from(CKAN));
    assert.deepEqual(kept.suggestions, [{ kind: 'drop-column', column: '_id' }]);
    assert.ok(kept.issues.some((i) => i.column === '_id' && i.rule === 'csv.unknown-column'));
    const dropped = await analyse(Buffer.from(CKAN), { dropColumns: ['_id'] });
    assert.deepEqual(dropped.suggestions, []);
    assert.deepEqual(brief(dropped), [[1, '_id', 'csv.dropped-column', null, null]]);
    assert.equal(dropped.preview[0]!.entity!['_id'], undefined);
    assert.equal(dropped.dataset?.id, 'aed');
  });

  it('matches headers written with U+2015, full-width brackets and spaces', async () => {
    const text =
      '都道府県コ―ド又は市区町村コード,ＮＯ,名称,住所,方書（建物名）,設置位置, 緯度 ,経度\n131016,1,区役所,東京都千代田区,,1階,35.69,139.75\n';
    const r = await analyse(Buffer.from(text));
    assert.equal(r.dataset?.id, 'aed');
    const attrs = r.columns.map((c) => c.attr);
    assert.match(attrs[4]!, /^x_[0-9a-f]{8}$/);
    assert.deepEqual(
      [...attrs.slice(0, 4), ...attrs.slice(5)],
      [
        'localGovernmentCode',
        'identifier',
        'name',
        'fullAddress',
        'installationPosition',
        'latitude',
        'longitude',
      ],
    );
    assert.equal(r.columns[4]!.standard, false, '方書（建物名） is not a standard name: kept, not guessed');
  });

  it('a file with only a header is analysed with zero rows', async () => {
    const r = await analyse(Buffer.from('名称,住所,設置位置,緯度,経度\n'));
    assert.deepEqual([r.dataset?.id, r.rowsRead, r.entities], ['aed', 0, 0]);
  });
});

describe('value repairs', () => {
  const cases: Array<
    [Parameters<typeof repairValue>[0], string, string, string | undefined, string | undefined]
  > = [
    ['code6', '13101', '131016', 'code6.check-digit-added', undefined],
    ['code6', '131017', '131017', undefined, 'code6.invalid'],
    ['date', '2024/4/1', '2024-04-01', 'date.format', undefined],
    ['date', '令和6年4月1日', '2024-04-01', 'date.wareki', undefined],
    ['date', 'H31.4.30', '2019-04-30', 'date.wareki', undefined],
    ['date', '45383', '2024-04-01', 'date.excel-serial', undefined],
    ['date', '1899-12-31T00:00:00.000Z', '1899-12-31T00:00:00.000Z', undefined, 'date.sentinel'],
    ['date', '2024-02-30', '2024-02-30', undefined, 'date.invalid'],
    ['time', '９：００', '09:00', 'time.format', undefined],
    ['flag', '○', '1', 'flag.mark', undefined],
    ['flag', '×', '×', undefined, 'flag.invalid'],
    ['phone', '047(335)1711', '047-335-1711', 'phone.parentheses', undefined],
    ['corporate', '4.00E+12', '4.00E+12', undefined, 'excel.exponent'],
    ['number', '50,700 人', '50700', 'number.format', undefined],
    ['text', '（八幡市民会館）', '（八幡市民会館）', undefined, undefined],
  ];
  for (const [kind, raw, value, repair, error] of cases) {
    it(`${kind}: ${raw}`, () => {
      const out = repairValue(kind, raw);
      assert.deepEqual([out.value, out.repair, out.error], [value, repair, error]);
    });
  }
  it('check digits of published codes', () => {
    assert.deepEqual(['13101', '09201', '01100', '22212'].map(checkDigit), [6, 1, 2, 7]);
  });
});
