import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, startBroker, type TestBroker } from './support.ts';

describe('broker: registrations and Accept negotiation', () => {
  let b: TestBroker;
  const h = { 'Fiware-Service': 'reg' };
  before(async () => {
    b = await startBroker();
  });
  after(() => b.stop());

  it('creates, lists, gets and deletes registrations as Orion renders them', async () => {
    const body = {
      description: 'weather provider',
      dataProvided: { entities: [{ id: 'Room1', type: 'Room' }], attrs: ['temperature'] },
      provider: { http: { url: 'http://provider.example.jp/v2' }, supportedForwardingMode: 'query' },
    };
    const r = await call(b.url, 'POST', '/v2/registrations', { headers: h, body });
    assert.equal(r.status, 201);
    const id = r.header('Location')!.split('/').pop()!;
    assert.match(id, /^[0-9a-f]{24}$/);
    const got = await call(b.url, 'GET', `/v2/registrations/${id}`, { headers: h });
    assert.deepEqual(got.body, {
      id,
      description: 'weather provider',
      dataProvided: body.dataProvided,
      provider: {
        http: { url: 'http://provider.example.jp/v2' },
        supportedForwardingMode: 'query',
        legacyForwarding: false,
      },
      status: 'active',
    });
    const list = await call(b.url, 'GET', '/v2/registrations?options=count', { headers: h });
    assert.equal(list.header('Fiware-Total-Count'), '1');
    assert.equal(
      (await call(b.url, 'PATCH', `/v2/registrations/${id}`, { headers: h, body: {} })).status,
      405,
    );
    assert.equal((await call(b.url, 'DELETE', `/v2/registrations/${id}`, { headers: h })).status, 204);
    const gone = await call(b.url, 'GET', `/v2/registrations/${id}`, { headers: h });
    assert.equal(gone.status, 404);
    assert.deepEqual(gone.body, {
      error: 'NotFound',
      description: 'The requested registration has not been found. Check id',
    });
    const { rows } = await b.t.platform.db.query<{ action: string }>(
      'SELECT action FROM core.audit_log WHERE target = $1 ORDER BY seq',
      [`registration:${id}`],
    );
    assert.deepEqual(
      rows.map((x) => x.action),
      ['broker.registration.create', 'broker.registration.delete'],
    );
  });

  it('refuses what Orion does not support in registrations', async () => {
    const pattern = await call(b.url, 'POST', '/v2/registrations', {
      headers: h,
      body: {
        dataProvided: { entities: [{ idPattern: '^R' }] },
        provider: { http: { url: 'http://p.example.jp' } },
      },
    });
    assert.equal(pattern.status, 501);
    const noUrl = await call(b.url, 'POST', '/v2/registrations', {
      headers: h,
      body: { dataProvided: { entities: [{ id: 'R' }] } },
    });
    assert.equal(noUrl.status, 400);
    assert.deepEqual((await call(b.url, 'GET', '/v2/registrations', { headers: h })).body, []);
  });

  it('answers 406 when Accept names no media type the broker produces', async () => {
    const none = await call(b.url, 'GET', '/v2/entities', { headers: { Accept: 'application/xml' } });
    assert.equal(none.status, 406);
    assert.deepEqual(none.body, {
      error: 'NotAcceptable',
      description: 'no acceptable mime-type in accept header',
    });
    const textOnly = await call(b.url, 'GET', '/v2/entities', { headers: { Accept: 'text/plain' } });
    assert.equal(textOnly.status, 406);
    assert.deepEqual(textOnly.body, {
      error: 'NotAcceptable',
      description: 'accepted MIME types: application/json',
    });
    assert.equal(
      (
        await call(b.url, 'GET', '/v2/entities', {
          headers: { Accept: 'application/json, text/plain;q=0.5' },
        })
      ).status,
      200,
    );
    assert.equal((await call(b.url, 'GET', '/v2/entities', { headers: { Accept: '*/*' } })).status, 200);
  });
});
