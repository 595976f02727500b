import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, startBroker, type TestBroker } from './support.ts';

describe('broker: queries (q, mq, orderBy, pagination, representations, builtins)', () => {
  let b: TestBroker;
  let clock = Date.parse('2026-04-01T00:00:00.000Z');
  const h = { 'Fiware-Service': 'q' };
  const ids = async (query: string) => {
    const r = await call(b.url, 'GET', `/v2/entities?${query}`, { headers: h });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.map((e: { id: string }) => e.id);
  };

  before(async () => {
    b = await startBroker({}, () => new Date(clock));
    const entities = [
      {
        id: 'S1',
        type: 'Sensor',
        temp: { value: 18 },
        status: { value: 'ok' },
        loc: { value: { city: 'Kobe', floor: 2 } },
        seen: { value: '2026-03-01T10:00:00Z', type: 'DateTime' },
        tags: { value: ['a', 'b'] },
      },
      {
        id: 'S2',
        type: 'Sensor',
        temp: { value: 25.5, metadata: { accuracy: { value: 0.5 } } },
        status: { value: 'alarm' },
        loc: { value: { city: 'Osaka', floor: 5 } },
        seen: { value: '2026-03-15T10:00:00Z', type: 'DateTime' },
      },
      { id: 'S3', type: 'Sensor', temp: { value: '20' }, status: { value: 'ok' }, 'a.b': { value: 1 } },
      {
        id: 'P1',
        type: 'Pump',
        temp: { value: 30, metadata: { accuracy: { value: 2 } } },
        on: { value: true },
      },
      { id: 'P2', type: 'Pump', on: { value: false } },
    ];
    for (const e of entities) {
      clock += 1000;
      const r = await call(b.url, 'POST', '/v2/entities', { headers: h, body: e });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
  });
  after(() => b.stop());

  it('lists in creation order, filters by id, type and patterns', async () => {
    assert.deepEqual(await ids(''), ['S1', 'S2', 'S3', 'P1', 'P2']);
    assert.deepEqual(await ids('type=Pump'), ['P1', 'P2']);
    assert.deepEqual(await ids('id=S2,P2'), ['S2', 'P2']);
    assert.deepEqual(await ids('idPattern=^S[12]'), ['S1', 'S2']);
    assert.deepEqual(await ids('typePattern=^Pu'), ['P1', 'P2']);
    const clash = await call(b.url, 'GET', '/v2/entities?id=S1&idPattern=S', { headers: h });
    assert.deepEqual(clash.body, {
      error: 'BadRequest',
      description: 'Incompatible parameters: id, IdPattern',
    });
    const regex = await call(b.url, 'GET', '/v2/entities?idPattern=(', { headers: h });
    assert.equal(regex.status, 400);
  });

  it('q: comparisons, numbers vs strings, lists, ranges, patterns, existence, compound paths', async () => {
    assert.deepEqual(await ids('q=temp>20'), ['S2', 'P1']);
    assert.deepEqual(await ids('q=temp==20'), ['S3']);
    assert.deepEqual(await ids("q=temp=='20'"), ['S3']);
    assert.deepEqual(await ids('q=temp:18,30'), ['S1', 'P1']);
    assert.deepEqual(await ids('q=temp==18..26'), ['S1', 'S2']);
    assert.deepEqual(await ids('q=temp!=18..26'), ['S3', 'P1']);
    assert.deepEqual(await ids('q=status!=ok'), ['S2']);
    assert.deepEqual(await ids('q=status~=^al'), ['S2']);
    assert.deepEqual(await ids('q=on'), ['P1', 'P2']);
    assert.deepEqual(await ids('q=!temp'), ['P2']);
    assert.deepEqual(await ids('q=on==false'), ['P2']);
    assert.deepEqual(await ids('q=temp>=18;status==ok'), ['S1']);
    assert.deepEqual(await ids('q=loc.city==Osaka'), ['S2']);
    assert.deepEqual(await ids('q=loc.floor<3'), ['S1']);
    assert.deepEqual(await ids("q='a.b'==1"), ['S3']);
    assert.deepEqual(await ids('q=tags==b'), ['S1']);
    assert.deepEqual(await ids('q=seen>2026-03-10T00:00:00Z'), ['S2']);
    assert.deepEqual(await ids('q=dateCreated<2026-04-01T00:00:02.500Z'), ['S1', 'S2']);
  });

  it('q: syntax errors answer 400 with Orion texts', async () => {
    const empty = await call(b.url, 'GET', '/v2/entities?q=temp==', { headers: h });
    assert.deepEqual(empty.body, { error: 'BadRequest', description: 'empty right-hand-side in q-item' });
    const mixed = await call(b.url, 'GET', '/v2/entities?q=temp==1..b', { headers: h });
    assert.deepEqual(mixed.body, { error: 'BadRequest', description: 'invalid range: types mixed' });
    const list = await call(b.url, 'GET', '/v2/entities?q=temp>1,2', { headers: h });
    assert.deepEqual(list.body, {
      error: 'BadRequest',
      description: 'lists only valid for equal and not equal ops',
    });
  });

  it('mq filters on metadata', async () => {
    assert.deepEqual(await ids('mq=temp.accuracy>1'), ['P1']);
    assert.deepEqual(await ids('mq=temp.accuracy'), ['S2', 'P1']);
  });

  it('orderBy: attributes with !, builtins, mixed JSON types, duplicate tokens refused', async () => {
    assert.deepEqual(await ids('type=Sensor&orderBy=!temp'), ['S3', 'S2', 'S1']);
    assert.deepEqual(await ids('orderBy=temp'), ['P2', 'S1', 'S2', 'P1', 'S3']);
    assert.deepEqual(await ids('orderBy=!dateCreated'), ['P2', 'P1', 'S3', 'S2', 'S1']);
    assert.deepEqual(await ids('orderBy=type,!id'), ['P2', 'P1', 'S3', 'S2', 'S1']);
    const dup = await call(b.url, 'GET', '/v2/entities?orderBy=temp,!temp', { headers: h });
    assert.deepEqual(dup.body, { error: 'BadRequest', description: 'duplicate orderBy token detected' });
  });

  it('limit/offset/count with Fiware-Total-Count after the correlator', async () => {
    const r = await call(b.url, 'GET', '/v2/entities?limit=2&offset=1&options=count', { headers: h });
    assert.deepEqual(
      r.body.map((e: { id: string }) => e.id),
      ['S2', 'S3'],
    );
    assert.deepEqual(
      r.headers.map(([k]) => k),
      ['Date', 'Fiware-Correlator', 'Fiware-Total-Count', 'Content-Type', 'Content-Length', 'Connection'],
    );
    assert.equal(r.header('Fiware-Total-Count'), '5');
    assert.deepEqual(await ids('offset=10'), []);
    const zero = await call(b.url, 'GET', '/v2/entities?limit=0', { headers: h });
    assert.deepEqual(zero.body, {
      error: 'BadRequest',
      description: 'Bad pagination limit: /0/ [a value of ZERO is unacceptable]',
    });
    const max = await call(b.url, 'GET', '/v2/entities?limit=1001', { headers: h });
    assert.deepEqual(max.body, {
      error: 'BadRequest',
      description: 'Bad pagination limit: /1001/ [max: 1000]',
    });
    const nan = await call(b.url, 'GET', '/v2/entities?offset=x', { headers: h });
    assert.deepEqual(nan.body, {
      error: 'BadRequest',
      description: 'Bad pagination offset: /x/ [must be a decimal number]',
    });
  });

  it('representations: keyValues, values in attrs order, unique, attrs and metadata selection, builtins', async () => {
    const kv = await call(b.url, 'GET', '/v2/entities?type=Pump&options=keyValues', { headers: h });
    assert.deepEqual(kv.body, [
      { id: 'P1', type: 'Pump', temp: 30, on: true },
      { id: 'P2', type: 'Pump', on: false },
    ]);
    const values = await call(b.url, 'GET', '/v2/entities?type=Sensor&options=values&attrs=status,temp', {
      headers: h,
    });
    assert.deepEqual(values.body, [
      ['ok', 18],
      ['alarm', 25.5],
      ['ok', '20'],
    ]);
    const unique = await call(b.url, 'GET', '/v2/entities?type=Sensor&options=unique&attrs=status', {
      headers: h,
    });
    assert.deepEqual(unique.body, [['ok'], ['alarm']]);
    const builtins = await call(
      b.url,
      'GET',
      '/v2/entities/P2?attrs=dateCreated,dateModified,on&metadata=dateModified',
      { headers: h },
    );
    assert.deepEqual(builtins.body, {
      id: 'P2',
      type: 'Pump',
      dateCreated: { type: 'DateTime', value: '2026-04-01T00:00:05.000Z', metadata: {} },
      dateModified: { type: 'DateTime', value: '2026-04-01T00:00:05.000Z', metadata: {} },
      on: {
        type: 'Boolean',
        value: false,
        metadata: { dateModified: { type: 'DateTime', value: '2026-04-01T00:00:05.000Z' } },
      },
    });
    const star = await call(b.url, 'GET', '/v2/entities/P1?attrs=*,dateCreated&metadata=accuracy', {
      headers: h,
    });
    assert.deepEqual(Object.keys(star.body), ['id', 'type', 'temp', 'on', 'dateCreated']);
    assert.deepEqual(star.body.temp.metadata, { accuracy: { type: 'Number', value: 2 } });
  });

  it('op/query: entities alternatives, attrs, expression, count', async () => {
    const r = await call(b.url, 'POST', '/v2/op/query?options=count,keyValues', {
      headers: h,
      body: {
        entities: [{ idPattern: '^S' }, { id: 'P1', type: 'Pump' }],
        attrs: ['temp'],
        expression: { q: 'temp>19' },
      },
    });
    assert.equal(r.status, 200);
    assert.equal(r.header('Fiware-Total-Count'), '2');
    assert.deepEqual(r.body, [
      { id: 'S2', type: 'Sensor', temp: 25.5 },
      { id: 'P1', type: 'Pump', temp: 30 },
    ]);
  });

  it('expired transient entities disappear from queries', async () => {
    const r = await call(b.url, 'POST', '/v2/entities', {
      headers: h,
      body: {
        id: 'Tmp',
        type: 'T',
        dateExpires: { value: new Date(clock + 60_000).toISOString(), type: 'DateTime' },
      },
    });
    assert.equal(r.status, 201);
    assert.equal((await call(b.url, 'GET', '/v2/entities/Tmp', { headers: h })).status, 200);
    assert.deepEqual(
      (await call(b.url, 'GET', '/v2/entities/Tmp?attrs=dateExpires', { headers: h })).body.dateExpires,
      {
        type: 'DateTime',
        value: new Date(clock + 60_000).toISOString(),
        metadata: {},
      },
    );
    clock += 61_000;
    assert.equal((await call(b.url, 'GET', '/v2/entities/Tmp', { headers: h })).status, 404);
    const bad = await call(b.url, 'POST', '/v2/entities', {
      headers: h,
      body: { id: 'Tmp2', dateExpires: { value: 'soon', type: 'DateTime' } },
    });
    assert.equal(bad.status, 400);
    // the expired key can be created again
    assert.equal(
      (await call(b.url, 'POST', '/v2/entities', { headers: h, body: { id: 'Tmp', type: 'T' } })).status,
      201,
    );
  });
});
