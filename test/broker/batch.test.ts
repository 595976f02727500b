import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, startBroker, type TestBroker } from './support.ts';

describe('broker: batch update', () => {
  let b: TestBroker;
  const h = { 'Fiware-Service': 'batch' };
  const kv = async (id: string) =>
    (await call(b.url, 'GET', `/v2/entities/${id}?options=keyValues`, { headers: h })).body;
  before(async () => {
    b = await startBroker();
  });
  after(() => b.stop());

  it('append creates and updates; appendStrict refuses existing attributes per entity', async () => {
    const r = await call(b.url, 'POST', '/v2/op/update', {
      headers: h,
      body: {
        actionType: 'append',
        entities: [
          { id: 'B1', type: 'T', a: { value: 1 } },
          { id: 'B2', type: 'T', a: { value: 2 } },
        ],
      },
    });
    assert.equal(r.status, 204);
    await call(b.url, 'POST', '/v2/op/update', {
      headers: h,
      body: { actionType: 'append', entities: [{ id: 'B1', type: 'T', b: { value: 9 } }] },
    });
    assert.deepEqual(await kv('B1'), { id: 'B1', type: 'T', a: 1, b: 9 });
    const strict = await call(b.url, 'POST', '/v2/op/update', {
      headers: h,
      body: {
        actionType: 'appendStrict',
        entities: [
          { id: 'B1', type: 'T', a: { value: 100 } },
          { id: 'B3', type: 'T', c: { value: 3 } },
        ],
      },
    });
    assert.equal(strict.status, 422);
    assert.deepEqual(strict.body, {
      error: 'PartialUpdate',
      description: 'one or more of the attributes in the request already exist: B1/T - [ a ]',
    });
    assert.deepEqual(await kv('B1'), { id: 'B1', type: 'T', a: 1, b: 9 });
    assert.deepEqual(await kv('B3'), { id: 'B3', type: 'T', c: 3 });
  });

  it('update, replace and delete (attributes and whole entities)', async () => {
    assert.equal(
      (
        await call(b.url, 'POST', '/v2/op/update', {
          headers: h,
          body: { actionType: 'update', entities: [{ id: 'B2', type: 'T', a: { value: 20 } }] },
        })
      ).status,
      204,
    );
    assert.deepEqual(await kv('B2'), { id: 'B2', type: 'T', a: 20 });
    await call(b.url, 'POST', '/v2/op/update', {
      headers: h,
      body: { actionType: 'replace', entities: [{ id: 'B2', type: 'T', z: { value: 0 } }] },
    });
    assert.deepEqual(await kv('B2'), { id: 'B2', type: 'T', z: 0 });
    await call(b.url, 'POST', '/v2/op/update', {
      headers: h,
      body: { actionType: 'delete', entities: [{ id: 'B1', type: 'T', b: {} }] },
    });
    assert.deepEqual(await kv('B1'), { id: 'B1', type: 'T', a: 1 });
    await call(b.url, 'POST', '/v2/op/update', {
      headers: h,
      body: { actionType: 'DELETE', entities: [{ id: 'B1', type: 'T' }] },
    });
    assert.equal((await call(b.url, 'GET', '/v2/entities/B1', { headers: h })).status, 404);
  });

  it('reports missing entities: 404 when all are missing, PartialUpdate otherwise', async () => {
    const all = await call(b.url, 'POST', '/v2/op/update', {
      headers: h,
      body: { actionType: 'update', entities: [{ id: 'Nope', a: { value: 1 } }] },
    });
    assert.equal(all.status, 404);
    assert.deepEqual(all.body, {
      error: 'NotFound',
      description: 'The requested entity has not been found. Check type and id',
    });
    const some = await call(b.url, 'POST', '/v2/op/update', {
      headers: h,
      body: {
        actionType: 'update',
        entities: [
          { id: 'B2', type: 'T', z: { value: 5 } },
          { id: 'Nope', type: 'T', a: { value: 1 } },
          { id: 'B3', type: 'T', nope: { value: 1 } },
        ],
      },
    });
    assert.equal(some.status, 422);
    assert.deepEqual(some.body, {
      error: 'PartialUpdate',
      description: 'Nope/T [entity itself], do not exist: B3/T - [ nope ]',
    });
    assert.deepEqual(await kv('B2'), { id: 'B2', type: 'T', z: 5 });
  });

  it('POST /v2/op/notify applies a notification payload as append', async () => {
    const r = await call(b.url, 'POST', '/v2/op/notify', {
      headers: h,
      body: {
        subscriptionId: '0123456789abcdef01234567',
        data: [{ id: 'N1', type: 'T', a: { type: 'Number', value: 7, metadata: {} } }],
      },
    });
    assert.equal(r.status, 204);
    assert.deepEqual(await kv('N1'), { id: 'N1', type: 'T', a: 7 });
    const bad = await call(b.url, 'POST', '/v2/op/notify', {
      headers: h,
      body: { subscriptionId: 1, data: [] },
    });
    assert.deepEqual(bad.body, {
      error: 'BadRequest',
      description: '/subscriptionId/ must be a JSON String',
    });
    const noData = await call(b.url, 'POST', '/v2/op/notify', {
      headers: h,
      body: { subscriptionId: 'x', data: {} },
    });
    assert.deepEqual(noData.body, { error: 'BadRequest', description: '/data/ must be a JSON Array' });
  });

  it('refuses malformed batches before applying anything', async () => {
    const action = await call(b.url, 'POST', '/v2/op/update', {
      headers: h,
      body: { actionType: 'upsert', entities: [] },
    });
    assert.deepEqual(action.body, {
      error: 'BadRequest',
      description:
        'invalid update action type: right ones are: append, appendStrict, delete, replace, update',
    });
    const empty = await call(b.url, 'POST', '/v2/op/update', {
      headers: h,
      body: { actionType: 'append', entities: [] },
    });
    assert.deepEqual(empty.body, { error: 'BadRequest', description: 'empty entities vector' });
    const bad = await call(b.url, 'POST', '/v2/op/update', {
      headers: h,
      body: {
        actionType: 'append',
        entities: [
          { id: 'Good', a: { value: 1 } },
          { id: 'bad id', a: { value: 1 } },
        ],
      },
    });
    assert.deepEqual(bad.body, { error: 'BadRequest', description: 'Invalid characters in entity id' });
    assert.equal((await call(b.url, 'GET', '/v2/entities/Good', { headers: h })).status, 404);
    const pattern = await call(b.url, 'POST', '/v2/op/update', {
      headers: h,
      body: { actionType: 'delete', entities: [{ idPattern: '.*' }] },
    });
    assert.equal(pattern.status, 501);
  });
});
