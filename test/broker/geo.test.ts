import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, type Receiver, startBroker, startReceiver, type TestBroker } from './support.ts';

describe('broker: geo-queries', () => {
  let b: TestBroker;
  let rx: Receiver;
  const h = { 'Fiware-Service': 'geo' };
  const ids = async (query: string) => {
    const r = await call(b.url, 'GET', `/v2/entities?${query}`, { headers: h });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.map((e: { id: string }) => e.id);
  };

  before(async () => {
    b = await startBroker();
    rx = await startReceiver();
    const entities = [
      {
        id: 'Kobe',
        type: 'Station',
        location: { type: 'geo:json', value: { type: 'Point', coordinates: [135.1956, 34.6946] } },
      },
      { id: 'Osaka', type: 'Station', location: { type: 'geo:point', value: '34.7025, 135.4959' } },
      {
        id: 'Himeji',
        type: 'Station',
        location: {
          type: 'geo:json',
          value: {
            type: 'Feature',
            geometry: { type: 'Point', coordinates: [134.6939, 34.8394] },
            properties: {},
          },
        },
      },
      {
        id: 'Park',
        type: 'Park',
        area: {
          type: 'geo:json',
          value: {
            type: 'Polygon',
            coordinates: [
              [
                [135.18, 34.68],
                [135.21, 34.68],
                [135.21, 34.7],
                [135.18, 34.7],
                [135.18, 34.68],
              ],
            ],
          },
        },
      },
      { id: 'Road', type: 'Road', path: { type: 'geo:line', value: ['34.69, 135.10', '34.69, 135.30'] } },
      { id: 'Plain', type: 'Thing', v: { value: 1 } },
    ];
    for (const e of entities) {
      const r = await call(b.url, 'POST', '/v2/entities', { headers: h, body: e });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
  });
  after(async () => {
    await b.stop();
    await rx.close();
  });

  it('near with maxDistance / minDistance, closest first, orderBy=geo:distance', async () => {
    // Kobe lies inside the park (distance 0 for both, creation order breaks the tie); the road passes 500 m south.
    assert.deepEqual(await ids('georel=near;maxDistance:3000&geometry=point&coords=34.6946,135.1956'), [
      'Kobe',
      'Park',
      'Road',
    ]);
    assert.deepEqual(
      await ids('georel=near;maxDistance:40000&geometry=point&coords=34.6946,135.1956&type=Station'),
      ['Kobe', 'Osaka'],
    );
    assert.deepEqual(
      await ids('georel=near;minDistance:20000&geometry=point&coords=34.6946,135.1956&type=Station'),
      ['Osaka', 'Himeji'],
    );
    assert.deepEqual(
      await ids(
        'georel=near;maxDistance:100000&geometry=point&coords=34.6946,135.1956&type=Station&orderBy=!geo:distance',
      ),
      ['Himeji', 'Osaka', 'Kobe'],
    );
  });

  it('coveredBy, intersects, disjoint and equals with box, polygon, line and point', async () => {
    assert.deepEqual(await ids('georel=coveredBy&geometry=box&coords=34.6,135.0;34.8,135.3'), [
      'Kobe',
      'Park',
      'Road',
    ]);
    assert.deepEqual(
      await ids(
        'georel=coveredBy&geometry=polygon&coords=34.6,135.0;34.8,135.0;34.8,135.25;34.6,135.25;34.6,135.0',
      ),
      ['Kobe', 'Park'],
    );
    assert.deepEqual(await ids('georel=intersects&geometry=line&coords=34.60,135.20;34.80,135.20'), [
      'Park',
      'Road',
    ]);
    assert.deepEqual(await ids('georel=intersects&geometry=point&coords=34.695,135.19'), ['Park']);
    assert.deepEqual(await ids('georel=intersects&geometry=point&coords=34.69,135.19'), ['Park', 'Road']);
    assert.deepEqual(await ids('georel=disjoint&geometry=box&coords=34.6,135.0;34.8,135.3'), [
      'Osaka',
      'Himeji',
    ]);
    assert.deepEqual(await ids('georel=equals&geometry=point&coords=34.7025,135.4959'), ['Osaka']);
    const counted = await call(
      b.url,
      'GET',
      '/v2/entities?georel=disjoint&geometry=box&coords=34.6,135.0;34.8,135.3&options=count&limit=1',
      { headers: h },
    );
    assert.equal(counted.header('Fiware-Total-Count'), '2');
    assert.equal(counted.body.length, 1);
  });

  it('rejects malformed geo expressions and entities with two locations', async () => {
    const partial = await call(b.url, 'GET', '/v2/entities?georel=near;maxDistance:10&geometry=point', {
      headers: h,
    });
    assert.deepEqual(partial.body, {
      error: 'BadRequest',
      description: 'partial geo expression: geometry, georel and coords have to be provided together',
    });
    const coords = await call(
      b.url,
      'GET',
      '/v2/entities?georel=near;maxDistance:10&geometry=point&coords=95,10',
      { headers: h },
    );
    assert.equal(coords.status, 400);
    const dist = await call(b.url, 'GET', '/v2/entities?orderBy=geo:distance', { headers: h });
    assert.deepEqual(dist.body, {
      error: 'BadRequest',
      description: 'Orderby geo:distance is only valid with georel=near',
    });
    const two = await call(b.url, 'POST', '/v2/entities', {
      headers: h,
      body: { id: 'Two', a: { type: 'geo:point', value: '1, 1' }, b: { type: 'geo:point', value: '2, 2' } },
    });
    assert.equal(two.status, 413);
    assert.deepEqual(two.body, {
      error: 'NoResourcesAvailable',
      description:
        'You cannot use more than one geo location attribute when creating an entity [see Orion user manual]',
    });
    const ignored = await call(b.url, 'POST', '/v2/entities', {
      headers: h,
      body: {
        id: 'Two',
        a: { type: 'geo:point', value: '1, 1' },
        b: { type: 'geo:point', value: '2, 2', metadata: { ignoreType: { value: true } } },
      },
    });
    assert.equal(ignored.status, 201);
    assert.equal((await call(b.url, 'GET', '/v2/entities/Two', { headers: h })).status, 200);
    await call(b.url, 'DELETE', '/v2/entities/Two', { headers: h });
  });

  it('moving an entity moves it in queries; op/query takes a geo expression', async () => {
    const moved = await call(b.url, 'PATCH', '/v2/entities/Osaka/attrs', {
      headers: h,
      body: { location: { type: 'geo:point', value: '34.6950, 135.1960' } },
    });
    assert.equal(moved.status, 204, JSON.stringify(moved.body));
    assert.deepEqual(
      await ids('georel=near;maxDistance:1000&geometry=point&coords=34.6946,135.1956&type=Station'),
      ['Kobe', 'Osaka'],
    );
    const r = await call(b.url, 'POST', '/v2/op/query', {
      headers: h,
      body: {
        entities: [{ idPattern: '.*', type: 'Station' }],
        expression: { georel: 'coveredBy', geometry: 'box', coords: '34.6,135.0;34.8,135.3' },
      },
    });
    assert.deepEqual(
      r.body.map((e: { id: string }) => e.id),
      ['Kobe', 'Osaka'],
    );
    await call(b.url, 'PATCH', '/v2/entities/Osaka/attrs', {
      headers: h,
      body: { location: { type: 'geo:point', value: '34.7025, 135.4959' } },
    });
  });

  it('subscriptions with a georel expression notify only inside the area', async () => {
    const s = await call(b.url, 'POST', '/v2/subscriptions', {
      headers: h,
      body: {
        subject: {
          entities: [{ idPattern: '^Bus' }],
          condition: {
            expression: { georel: 'coveredBy', geometry: 'box', coords: '34.6,135.0;34.8,135.3' },
          },
        },
        notification: { http: { url: `${rx.url}/geo` }, attrsFormat: 'keyValues', attrs: ['pos'] },
      },
    });
    assert.equal(s.status, 201);
    const start = rx.received.length;
    await call(b.url, 'POST', '/v2/entities', {
      headers: h,
      body: { id: 'Bus1', pos: { type: 'geo:point', value: '34.70, 135.50' } },
    });
    await call(b.url, 'PATCH', '/v2/entities/Bus1/attrs', {
      headers: h,
      body: { pos: { type: 'geo:point', value: '34.70, 135.20' } },
    });
    await rx.waitFor(start + 1);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(
      rx.received.slice(start).map((m) => m.body.data[0].pos),
      ['34.70, 135.20'],
    );
  });
});
