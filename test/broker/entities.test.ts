import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Json } from '../support/http.ts';
import { call, startBroker, type TestBroker } from './support.ts';

const json = { 'Content-Type': 'application/json' };

describe('broker: entities, attributes, types, tenancy and Orion errors', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker();
  });
  after(() => b.stop());

  it('GET /version answers Orion-style, with only Orion headers', async () => {
    const r = await call(b.url, 'GET', '/version', { headers: { 'Fiware-Correlator': 'corr-1' } });
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.headers.map(([k]) => k),
      ['Date', 'Fiware-Correlator', 'Content-Type', 'Content-Length', 'Connection'],
    );
    assert.equal(r.header('Fiware-Correlator'), 'corr-1');
    assert.equal(r.body.orion.version, '4.7.0');
    assert.match(
      r.text,
      /^\{\n"orion" : \{\n {2}"version" : "4\.7\.0",\n {2}"uptime" : "0 d, 0 h, 0 m, \d+ s",/,
    );
  });

  it('creates an entity: 201, Location, Content-Length 0, and a generated correlator', async () => {
    const r = await call(b.url, 'POST', '/v2/entities', {
      body: {
        id: 'Room1',
        type: 'Room',
        temperature: { value: 23, type: 'Float' },
        name: { value: 'Kitchen' },
      },
    });
    assert.equal(r.status, 201);
    assert.equal(r.reason, 'Created');
    assert.deepEqual(r.headers, [
      ['Date', r.header('Date')!],
      ['Fiware-Correlator', r.header('Fiware-Correlator')!],
      ['Location', '/v2/entities/Room1?type=Room'],
      ['Content-Length', '0'],
      ['Connection', 'Keep-Alive'],
    ]);
    assert.match(r.header('Fiware-Correlator')!, /^[0-9a-f-]{36}$/);
    const got = await call(b.url, 'GET', '/v2/entities/Room1');
    assert.deepEqual(got.body, {
      id: 'Room1',
      type: 'Room',
      temperature: { type: 'Float', value: 23, metadata: {} },
      name: { type: 'Text', value: 'Kitchen', metadata: {} },
    });
  });

  it('defaults the type to Thing and infers attribute types', async () => {
    const r = await call(b.url, 'POST', '/v2/entities?options=keyValues', {
      body: { id: 'Auto1', n: 1.5, s: 'x', b: true, o: { a: 1 }, l: [1], z: null },
    });
    assert.equal(r.status, 201);
    assert.equal(r.header('Location'), '/v2/entities/Auto1?type=Thing');
    const got = await call(b.url, 'GET', '/v2/entities/Auto1?type=Thing');
    assert.deepEqual(
      Object.fromEntries(
        Object.entries(got.body)
          .filter(([k]) => k !== 'id' && k !== 'type')
          .map(([k, v]) => [k, (v as { type: string }).type]),
      ),
      { n: 'Number', s: 'Text', b: 'Boolean', o: 'StructuredValue', l: 'StructuredValue', z: 'None' },
    );
  });

  it('rejects a duplicate with 422 Already Exists and leaves the entity unchanged', async () => {
    const r = await call(b.url, 'POST', '/v2/entities', {
      body: { id: 'Room1', type: 'Room', temperature: { value: 99 } },
    });
    assert.equal(r.status, 422);
    assert.equal(r.reason, 'Unprocessable Content');
    assert.deepEqual(r.body, { error: 'Unprocessable', description: 'Already Exists' });
    const got = await call(b.url, 'GET', '/v2/entities/Room1/attrs/temperature/value');
    assert.equal(got.text, '23');
  });

  it('upserts with 204 and Location, appending to an existing entity', async () => {
    const r = await call(b.url, 'POST', '/v2/entities?options=upsert', {
      body: { id: 'Room1', type: 'Room', temperature: { value: 25 }, humidity: { value: 40 } },
    });
    assert.equal(r.status, 204);
    assert.deepEqual(
      r.headers.map(([k]) => k),
      ['Date', 'Fiware-Correlator', 'Location', 'Connection'],
    );
    const got = await call(b.url, 'GET', '/v2/entities/Room1?options=keyValues');
    assert.deepEqual(got.body, { id: 'Room1', type: 'Room', temperature: 25, name: 'Kitchen', humidity: 40 });
    // the attribute type given at creation is kept when an update omits it
    const attr = await call(b.url, 'GET', '/v2/entities/Room1/attrs/temperature');
    assert.deepEqual(attr.body, { type: 'Float', value: 25, metadata: {} });
  });

  it('upsert keeps creation times, merges metadata (or overrides it) and keeps attribute order', async () => {
    await call(b.url, 'POST', '/v2/entities?options=upsert', {
      body: { id: 'Up1', type: 'T', a: { value: 1, metadata: { m1: { value: 'x' } } }, b: { value: 2 } },
    });
    const before = await call(b.url, 'GET', '/v2/entities/Up1?attrs=dateCreated,a&metadata=*,dateCreated');
    await call(b.url, 'POST', '/v2/entities?options=upsert', {
      body: {
        id: 'Up1',
        type: 'T',
        c: { value: 3 },
        a: { value: 10, type: 'Count', metadata: { m2: { value: 'y' } } },
      },
    });
    const after = await call(b.url, 'GET', '/v2/entities/Up1?attrs=dateCreated,a&metadata=*,dateCreated');
    assert.equal(after.body.dateCreated.value, before.body.dateCreated.value);
    assert.deepEqual(after.body.a, {
      type: 'Count',
      value: 10,
      metadata: {
        m1: { type: 'Text', value: 'x' },
        m2: { type: 'Text', value: 'y' },
        dateCreated: before.body.a.metadata.dateCreated,
      },
    });
    await call(b.url, 'POST', '/v2/entities?options=upsert,overrideMetadata', {
      body: { id: 'Up1', type: 'T', a: { value: 11, metadata: { m3: { value: 'z' } } } },
    });
    const over = await call(b.url, 'GET', '/v2/entities/Up1?options=values&attrs=a,b,c');
    assert.deepEqual(over.body, [11, 2, 3]);
    const md = await call(b.url, 'GET', '/v2/entities/Up1/attrs/a');
    assert.deepEqual(md.body, { type: 'Count', value: 11, metadata: { m3: { type: 'Text', value: 'z' } } });
    const all = await call(b.url, 'GET', '/v2/entities/Up1?options=keyValues');
    assert.deepEqual(Object.keys(all.body), ['id', 'type', 'a', 'b', 'c']);
  });

  it('answers 404 for an unknown entity and 409 when the id is ambiguous across types', async () => {
    const missing = await call(b.url, 'GET', '/v2/entities/Nope');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, {
      error: 'NotFound',
      description: 'The requested entity has not been found. Check type and id',
    });
    await call(b.url, 'POST', '/v2/entities', { body: { id: 'Twin', type: 'A' } });
    await call(b.url, 'POST', '/v2/entities', { body: { id: 'Twin', type: 'B' } });
    const ambiguous = await call(b.url, 'GET', '/v2/entities/Twin');
    assert.equal(ambiguous.status, 409);
    assert.deepEqual(ambiguous.body, {
      error: 'TooManyResults',
      description: 'More than one matching entity. Please refine your query',
    });
    const one = await call(b.url, 'GET', '/v2/entities/Twin?type=B');
    assert.deepEqual(one.body, { id: 'Twin', type: 'B' });
  });

  it('POST /attrs appends or updates; options=append refuses existing attributes', async () => {
    await call(b.url, 'POST', '/v2/entities', { body: { id: 'E2', type: 'T', a: { value: 1 } } });
    assert.equal(
      (await call(b.url, 'POST', '/v2/entities/E2/attrs', { body: { a: { value: 2 }, b: { value: 3 } } }))
        .status,
      204,
    );
    const strict = await call(b.url, 'POST', '/v2/entities/E2/attrs?options=append', {
      body: { a: { value: 9 } },
    });
    assert.equal(strict.status, 422);
    assert.deepEqual(strict.body, {
      error: 'Unprocessable',
      description: 'one or more of the attributes in the request already exist: E2/T - [ a ]',
    });
    const got = await call(b.url, 'GET', '/v2/entities/E2/attrs?options=keyValues');
    assert.deepEqual(got.body, { a: 2, b: 3 });
  });

  it('PATCH /attrs updates existing attributes only: 422 when none exist, PartialUpdate when some do', async () => {
    await call(b.url, 'POST', '/v2/entities', { body: { id: 'E3', type: 'T', a: { value: 1 } } });
    const none = await call(b.url, 'PATCH', '/v2/entities/E3/attrs', { body: { x: { value: 1 } } });
    assert.equal(none.status, 422);
    assert.deepEqual(none.body, { error: 'Unprocessable', description: 'do not exist: E3/T - [ x ]' });
    const some = await call(b.url, 'PATCH', '/v2/entities/E3/attrs', {
      body: { a: { value: 5 }, y: { value: 1 } },
    });
    assert.equal(some.status, 422);
    assert.deepEqual(some.body, { error: 'PartialUpdate', description: 'do not exist: E3/T - [ y ]' });
    const got = await call(b.url, 'GET', '/v2/entities/E3?options=keyValues');
    assert.deepEqual(got.body, { id: 'E3', type: 'T', a: 5 });
  });

  it('PUT /attrs replaces every attribute; metadata merges on update unless overrideMetadata', async () => {
    await call(b.url, 'POST', '/v2/entities', {
      body: { id: 'E4', type: 'T', a: { value: 1, metadata: { unit: { value: 'C' } } }, b: { value: 2 } },
    });
    await call(b.url, 'PATCH', '/v2/entities/E4/attrs', {
      body: { a: { value: 2, metadata: { acc: { value: 0.1 } } } },
    });
    let a = await call(b.url, 'GET', '/v2/entities/E4/attrs/a');
    assert.deepEqual(a.body.metadata, {
      unit: { type: 'Text', value: 'C' },
      acc: { type: 'Number', value: 0.1 },
    });
    await call(b.url, 'PATCH', '/v2/entities/E4/attrs?options=overrideMetadata', {
      body: { a: { value: 3, metadata: { acc: { value: 0.2 } } } },
    });
    a = await call(b.url, 'GET', '/v2/entities/E4/attrs/a');
    assert.deepEqual(a.body.metadata, { acc: { type: 'Number', value: 0.2 } });
    assert.equal(
      (await call(b.url, 'PUT', '/v2/entities/E4/attrs', { body: { c: { value: 'z' } } })).status,
      204,
    );
    const got = await call(b.url, 'GET', '/v2/entities/E4?options=keyValues');
    assert.deepEqual(got.body, { id: 'E4', type: 'T', c: 'z' });
  });

  it('single attribute and attribute value: GET, PUT (JSON and text/plain), DELETE, 404s and 406', async () => {
    await call(b.url, 'POST', '/v2/entities', {
      body: { id: 'E5', type: 'T', s: { value: 'hello' }, n: { value: 1 } },
    });
    const text = await call(b.url, 'GET', '/v2/entities/E5/attrs/s/value', {
      headers: { Accept: 'text/plain' },
    });
    assert.equal(text.status, 200);
    assert.equal(text.header('Content-Type'), 'text/plain');
    assert.equal(text.text, 'hello');
    const refused = await call(b.url, 'GET', '/v2/entities/E5/attrs/s/value', {
      headers: { Accept: 'application/json' },
    });
    assert.equal(refused.status, 406);
    assert.deepEqual(refused.body, {
      error: 'NotAcceptable',
      description: 'accepted MIME types: text/plain',
    });
    const put = await call(b.url, 'PUT', '/v2/entities/E5/attrs/n/value', {
      raw: '42',
      headers: { 'Content-Type': 'text/plain' },
    });
    assert.equal(put.status, 204);
    await call(b.url, 'PUT', '/v2/entities/E5/attrs/s/value', { body: { nested: [1, 2] } });
    const got = await call(b.url, 'GET', '/v2/entities/E5?options=keyValues');
    assert.deepEqual(got.body, { id: 'E5', type: 'T', s: { nested: [1, 2] }, n: 42 });
    const putAttr = await call(b.url, 'PUT', '/v2/entities/E5/attrs/n', {
      body: { value: 7, type: 'Integer' },
    });
    assert.equal(putAttr.status, 204);
    assert.deepEqual((await call(b.url, 'GET', '/v2/entities/E5/attrs/n')).body, {
      type: 'Integer',
      value: 7,
      metadata: {},
    });
    assert.equal((await call(b.url, 'DELETE', '/v2/entities/E5/attrs/n')).status, 204);
    const gone = await call(b.url, 'GET', '/v2/entities/E5/attrs/n');
    assert.equal(gone.status, 404);
    assert.deepEqual(gone.body, {
      error: 'NotFound',
      description: 'The entity does not have such an attribute',
    });
  });

  it('update operators change the current value ($inc, $push, $addToSet, $pull, $set, $unset, $min, $max)', async () => {
    await call(b.url, 'POST', '/v2/entities', {
      body: { id: 'Ops', type: 'T', n: { value: 10 }, l: { value: [1, 2] }, o: { value: { a: 1, b: 2 } } },
    });
    const r = await call(b.url, 'PATCH', '/v2/entities/Ops/attrs', {
      body: {
        n: { value: { $inc: 5 } },
        l: { value: { $push: 3 } },
        o: { value: { $set: { c: 3 } } },
      },
    });
    assert.equal(r.status, 204);
    await call(b.url, 'POST', '/v2/entities/Ops/attrs', {
      body: {
        l: { value: { $addToSet: 1 } },
        o: { value: { $unset: { a: 1 } } },
        fresh: { value: { $inc: 2 } },
      },
    });
    await call(b.url, 'POST', '/v2/entities?options=upsert', {
      body: { id: 'Ops', type: 'T', l: { value: { $pull: 2 } }, n: { value: { $max: 12 } } },
    });
    const got = await call(b.url, 'GET', '/v2/entities/Ops?options=keyValues');
    assert.deepEqual(got.body, { id: 'Ops', type: 'T', n: 15, l: [1, 3], o: { b: 2, c: 3 }, fresh: 2 });
    assert.equal((await call(b.url, 'GET', '/v2/entities/Ops/attrs/n')).body.type, 'Number');
    const bad = await call(b.url, 'PATCH', '/v2/entities/Ops/attrs', { body: { o: { value: { $inc: 1 } } } });
    assert.equal(bad.status, 400);
    assert.deepEqual((await call(b.url, 'GET', '/v2/entities/Ops?options=keyValues')).body.o, { b: 2, c: 3 });
  });

  it('keeps big integers exact and numbers without spurious decimals', async () => {
    const raw =
      '{"id":"Num1","type":"T","big":{"value":12345678901234567890},"dec":{"value":1.50},"neg":{"value":-9007199254740993}}';
    assert.equal(
      (await call(b.url, 'POST', '/v2/entities', { raw, headers: { 'Content-Type': 'application/json' } }))
        .status,
      201,
    );
    const got = await call(b.url, 'GET', '/v2/entities/Num1?options=keyValues');
    assert.equal(
      got.text,
      '{"id":"Num1","type":"T","big":12345678901234567890,"dec":1.5,"neg":-9007199254740993}',
    );
    assert.equal(
      (await call(b.url, 'GET', '/v2/entities/Num1/attrs/big')).text,
      '{"type":"Number","value":12345678901234567890,"metadata":{}}',
    );
    const found = await call(
      b.url,
      'GET',
      '/v2/entities?q=big>12345678901234567889&attrs=big&options=values',
    );
    assert.equal(found.text, '[[12345678901234567890]]');
    // as doubles both would be 12345678901234567168; compared exactly, they differ
    const other = await call(b.url, 'GET', '/v2/entities?q=big==12345678901234567891');
    assert.deepEqual(other.body, []);
  });

  it('deletes an entity: 204, then 404', async () => {
    await call(b.url, 'POST', '/v2/entities', { body: { id: 'Del1', type: 'T' } });
    assert.equal((await call(b.url, 'DELETE', '/v2/entities/Del1')).status, 204);
    assert.equal((await call(b.url, 'GET', '/v2/entities/Del1')).status, 404);
    assert.equal((await call(b.url, 'DELETE', '/v2/entities/Del1')).status, 404);
  });

  it('lists types with attribute types and counts', async () => {
    await call(b.url, 'POST', '/v2/entities', {
      headers: { 'Fiware-Service': 'typetest' },
      body: { id: 'P1', type: 'Park', area: { value: 10 } },
    });
    await call(b.url, 'POST', '/v2/entities', {
      headers: { 'Fiware-Service': 'typetest' },
      body: {
        id: 'P2',
        type: 'Park',
        area: { value: 'big' },
        dateExpires: { value: '2099-01-01T00:00:00Z', type: 'DateTime' },
      },
    });
    await call(b.url, 'POST', '/v2/entities', {
      headers: { 'Fiware-Service': 'typetest' },
      body: { id: 'S1', type: 'Shop' },
    });
    const all = await call(b.url, 'GET', '/v2/types', { headers: { 'Fiware-Service': 'typetest' } });
    assert.deepEqual(all.body, [
      { type: 'Park', attrs: { area: { types: ['Number', 'Text'] } }, count: 2 },
      { type: 'Shop', attrs: {}, count: 1 },
    ]);
    const values = await call(b.url, 'GET', '/v2/types?options=values', {
      headers: { 'Fiware-Service': 'typetest' },
    });
    assert.deepEqual(values.body, ['Park', 'Shop']);
    const one = await call(b.url, 'GET', '/v2/types/Park', { headers: { 'Fiware-Service': 'typetest' } });
    assert.deepEqual(one.body, { attrs: { area: { types: ['Number', 'Text'] } }, count: 2 });
    const none = await call(b.url, 'GET', '/v2/types/Zoo', { headers: { 'Fiware-Service': 'typetest' } });
    assert.equal(none.status, 404);
    assert.deepEqual(none.body, { error: 'NotFound', description: 'Entity type not found' });
  });

  it('keeps tenants apart and validates Fiware-Service', async () => {
    await call(b.url, 'POST', '/v2/entities', {
      headers: { 'Fiware-Service': 'CityA' },
      body: { id: 'Shared', type: 'T', v: { value: 'a' } },
    });
    await call(b.url, 'POST', '/v2/entities', {
      headers: { 'Fiware-Service': 'cityb' },
      body: { id: 'Shared', type: 'T', v: { value: 'b' } },
    });
    const a = await call(b.url, 'GET', '/v2/entities/Shared?options=keyValues', {
      headers: { 'Fiware-Service': 'citya' },
    });
    assert.equal(a.body.v, 'a');
    const bb = await call(b.url, 'GET', '/v2/entities/Shared?options=keyValues', {
      headers: { 'Fiware-Service': 'cityb' },
    });
    assert.equal(bb.body.v, 'b');
    assert.equal((await call(b.url, 'GET', '/v2/entities/Shared')).status, 404);
    const bad = await call(b.url, 'GET', '/v2/entities', { headers: { 'Fiware-Service': 'bad-name' } });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, {
      error: 'BadRequest',
      description: 'bad character in tenant name - only underscore and alphanumeric characters are allowed',
    });
    const long = await call(b.url, 'GET', '/v2/entities', { headers: { 'Fiware-Service': 'x'.repeat(51) } });
    assert.deepEqual(long.body, {
      error: 'BadRequest',
      description: 'bad length - a tenant name can be max 50 characters long',
    });
  });

  it('scopes by Fiware-ServicePath: exact paths, /# subtrees, several paths; updates need one plain path', async () => {
    const h = (p: string) => ({ 'Fiware-Service': 'paths', 'Fiware-ServicePath': p });
    await call(b.url, 'POST', '/v2/entities', { headers: h('/a'), body: { id: 'X1', type: 'T' } });
    await call(b.url, 'POST', '/v2/entities', { headers: h('/a/b'), body: { id: 'X2', type: 'T' } });
    await call(b.url, 'POST', '/v2/entities', { headers: h('/c/'), body: { id: 'X3', type: 'T' } });
    const ids = async (p: string | undefined) =>
      (
        await call(b.url, 'GET', '/v2/entities?attrs=servicePath', {
          headers: p === undefined ? { 'Fiware-Service': 'paths' } : h(p),
        })
      ).body.map((e: { id: string }) => e.id);
    assert.deepEqual(await ids('/a'), ['X1']);
    assert.deepEqual(await ids('/a/#'), ['X1', 'X2']);
    assert.deepEqual(await ids('/a/b,/c'), ['X2', 'X3']);
    assert.deepEqual(await ids(undefined), ['X1', 'X2', 'X3']);
    const wild = await call(b.url, 'POST', '/v2/entities', {
      headers: h('/a/#'),
      body: { id: 'X4', type: 'T' },
    });
    assert.equal(wild.status, 400);
    const bad = await call(b.url, 'GET', '/v2/entities', { headers: h('a') });
    assert.deepEqual(bad.body, {
      error: 'BadRequest',
      description: 'Only /absolute/ Service Paths allowed [a service path must begin with /]',
    });
    const illegal = await call(b.url, 'GET', '/v2/entities', { headers: h('/a-b') });
    assert.deepEqual(illegal.body, {
      error: 'BadRequest',
      description: 'a component of ServicePath contains an illegal character',
    });
    // an update targets exactly its service path
    const other = await call(b.url, 'PATCH', '/v2/entities/X2/attrs', {
      headers: h('/a'),
      body: { v: { value: 1 } },
    });
    assert.equal(other.status, 404);
  });

  it('enforces identifier syntax and forbidden characters', async () => {
    const long = await call(b.url, 'POST', '/v2/entities', { body: { id: 'x'.repeat(257), type: 'T' } });
    assert.deepEqual(long.body, {
      error: 'BadRequest',
      description: 'entity id length: 257, max length supported: 256',
    });
    const chars = await call(b.url, 'POST', '/v2/entities', { body: { id: 'a b', type: 'T' } });
    assert.deepEqual(chars.body, { error: 'BadRequest', description: 'Invalid characters in entity id' });
    const value = await call(b.url, 'POST', '/v2/entities', {
      body: { id: 'V1', type: 'T', a: { value: '<script>' } },
    });
    assert.deepEqual(value.body, {
      error: 'BadRequest',
      description: 'Invalid characters in attribute value',
    });
    const unrestricted = await call(b.url, 'POST', '/v2/entities', {
      body: { id: 'V1', type: 'T', a: { value: '<b>ok</b>', type: 'TextUnrestricted' } },
    });
    assert.equal(unrestricted.status, 201);
    const noId = await call(b.url, 'POST', '/v2/entities', { body: { type: 'T' } });
    assert.deepEqual(noId.body, {
      error: 'BadRequest',
      description: 'entity id length: 0, min length supported: 1',
    });
    const notObject = await call(b.url, 'POST', '/v2/entities', { body: { id: 'V2', a: 5 } });
    assert.deepEqual(notObject.body, {
      error: 'BadRequest',
      description: 'attribute must be a JSON object, unless keyValues option is used',
    });
    const uri = await call(b.url, 'GET', '/v2/entities/a%3Cb');
    assert.deepEqual(uri.body, { error: 'BadRequest', description: 'invalid character in URI' });
    assert.equal((await call(b.url, 'GET', '/v2/entities/V2')).status, 404);
  });

  it('answers 400/405/411/413/415 like Orion and changes nothing', async () => {
    const unknown = await call(b.url, 'GET', '/v2/nothing');
    assert.deepEqual(
      [unknown.status, unknown.body],
      [
        400,
        { error: 'BadRequest', description: 'Service not found. Check your URL as probably it is wrong.' },
      ],
    );
    const method = await call(b.url, 'PUT', '/v2/entities', { body: {} });
    assert.equal(method.status, 405);
    assert.equal(method.header('Allow'), 'GET, POST');
    assert.deepEqual(method.body, { error: 'MethodNotAllowed', description: 'method not allowed' });
    const noLength = await call(b.url, 'POST', '/v2/entities');
    assert.equal(noLength.status, 411);
    assert.equal(noLength.reason, 'Length Required');
    assert.deepEqual(noLength.body, {
      error: 'ContentLengthRequired',
      description: 'Zero/No Content-Length in PUT/POST/PATCH request',
    });
    const big = await call(b.url, 'POST', '/v2/entities', {
      body: { id: 'Big', type: 'T', a: { value: 'x'.repeat(1024 * 1024) } },
    });
    assert.equal(big.status, 413);
    assert.equal(big.reason, 'Content Too Large');
    assert.equal(big.body.error, 'RequestEntityTooLarge');
    assert.match(big.body.description, /^payload size: \d+, max size supported: 1048576$/);
    const xml = await call(b.url, 'POST', '/v2/entities', {
      raw: '<a/>',
      headers: { 'Content-Type': 'text/xml' },
    });
    assert.equal(xml.status, 415);
    assert.deepEqual(xml.body, {
      error: 'UnsupportedMediaType',
      description: 'not supported content type: text/xml',
    });
    const parse = await call(b.url, 'POST', '/v2/entities', { raw: '{"id": ', headers: json });
    assert.deepEqual(
      [parse.status, parse.body],
      [400, { error: 'ParseError', description: 'Errors found in incoming JSON buffer' }],
    );
    assert.equal((await call(b.url, 'GET', '/v2/entities/Big')).status, 404);
  });

  it('the platform lists the broker routes in /openapi.json', async () => {
    const doc = (await (await fetch(`${b.url}/openapi.json`)).json()) as Json;
    assert.equal(doc.paths['/v2/entities/{id}/attrs'].patch.summary, 'Update existing attributes');
    assert.deepEqual(doc.paths['/v2/subscriptions'].post.tags, ['ngsiv2']);
  });

  it('GET /v2 lists the entry points', async () => {
    const r = await call(b.url, 'GET', '/v2');
    assert.deepEqual(r.body, {
      entities_url: '/v2/entities',
      types_url: '/v2/types',
      subscriptions_url: '/v2/subscriptions',
      registrations_url: '/v2/registrations',
    });
  });
});
