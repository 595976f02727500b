import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NgsiClient, NgsiError } from '../../broker/index.ts';
import { type Receiver, startBroker, startReceiver, type TestBroker } from './support.ts';

describe('broker client (NgsiClient) against the embedded broker', () => {
  let b: TestBroker;
  let rx: Receiver;
  before(async () => {
    b = await startBroker();
    rx = await startReceiver();
  });
  after(async () => {
    await b.stop();
    await rx.close();
  });

  for (const transport of ['http', 'in-process'] as const) {
    describe(`over ${transport}`, () => {
      let ngsi: NgsiClient;
      before(() => {
        const scope = { service: `client_${transport.replace('-', '')}`, servicePath: '/parks' };
        ngsi = transport === 'http' ? new NgsiClient({ baseUrl: b.url, ...scope }) : b.services.client(scope);
      });

      it('version and entity lifecycle', async () => {
        assert.equal((await ngsi.version()).orion.version, '4.7.0');
        await ngsi.createEntity({
          id: 'Park:1',
          type: 'Park',
          name: { type: 'Text', value: '日岡山公園' },
          visitors: { value: 120 },
        });
        await ngsi.upsertEntity(
          { id: 'Park:2', type: 'Park', name: '加古川河川敷', visitors: 80 },
          { keyValues: true },
        );
        await ngsi.updateAttrs('Park:1', { visitors: { value: 150 } });
        await ngsi.appendAttrs('Park:1', { open: { value: true } });
        assert.deepEqual(await ngsi.getEntity('Park:1', { keyValues: true }), {
          id: 'Park:1',
          type: 'Park',
          name: '日岡山公園',
          visitors: 150,
          open: true,
        });
        const { entities, totalCount } = await ngsi.listEntities({
          type: 'Park',
          q: 'visitors>100',
          count: true,
          keyValues: true,
          attrs: ['visitors'],
        });
        assert.deepEqual(entities, [{ id: 'Park:1', type: 'Park', visitors: 150 }]);
        assert.equal(totalCount, 1);
        await ngsi.setAttrValue('Park:2', 'name', 'Riverside');
        assert.equal(await ngsi.getAttrValue('Park:2', 'name'), 'Riverside');
        await ngsi.setAttrValue('Park:2', 'visitors', 90);
        assert.equal(await ngsi.getAttrValue('Park:2', 'visitors'), 90);
        await ngsi.replaceAttrs('Park:2', { area: { value: 3.5 } });
        assert.deepEqual(await ngsi.getEntity('Park:2', { keyValues: true }), {
          id: 'Park:2',
          type: 'Park',
          area: 3.5,
        });
        await ngsi.deleteEntity('Park:2');
        await assert.rejects(ngsi.getEntity('Park:2'), (e: unknown) => {
          assert.ok(e instanceof NgsiError);
          assert.equal(e.status, 404);
          assert.equal(e.error, 'NotFound');
          assert.equal(e.description, 'The requested entity has not been found. Check type and id');
          return true;
        });
      });

      it('batch update and query, types, and scoping by service path', async () => {
        await ngsi.batchUpdate('append', [
          { id: 'Bench:1', type: 'Bench', seats: { value: 3 } },
          { id: 'Bench:2', type: 'Bench', seats: { value: 5 } },
        ]);
        const { entities } = await ngsi.batchQuery(
          { entities: [{ idPattern: '^Bench' }], expression: { q: 'seats>=4' } },
          { keyValues: true },
        );
        assert.deepEqual(entities, [{ id: 'Bench:2', type: 'Bench', seats: 5 }]);
        const types = (await ngsi.listTypes()).map((t) => t.type);
        assert.deepEqual(types, ['Bench', 'Park']);
        const other = ngsi.with({ servicePath: '/roads' });
        assert.deepEqual((await other.listEntities()).entities, []);
        await assert.rejects(
          ngsi.batchUpdate('update', [{ id: 'Nope', type: 'Bench', seats: { value: 1 } }]),
          (e: unknown) => {
            assert.ok(e instanceof NgsiError);
            assert.equal(e.status, 404);
            return true;
          },
        );
      });

      it('subscriptions: create, get, update, list, delete, and a delivered notification', async () => {
        const id = await ngsi.createSubscription({
          subject: { entities: [{ idPattern: '^Bench' }], condition: { attrs: ['seats'] } },
          notification: { http: { url: `${rx.url}/${transport}` }, attrsFormat: 'keyValues' },
        });
        assert.match(id, /^[0-9a-f]{24}$/);
        const start = rx.received.length;
        await ngsi.updateAttrs('Bench:1', { seats: { value: 4 } });
        await rx.waitFor(start + 1);
        assert.deepEqual(rx.received[start]!.body, {
          subscriptionId: id,
          data: [{ id: 'Bench:1', type: 'Bench', seats: 4 }],
        });
        await ngsi.updateSubscription(id, { status: 'inactive' });
        assert.equal((await ngsi.getSubscription(id))['status'], 'inactive');
        assert.equal((await ngsi.listSubscriptions()).length, 1);
        await ngsi.deleteSubscription(id);
        assert.deepEqual(await ngsi.listSubscriptions(), []);
      });
    });
  }

  it('the module service reports the embedded broker', () => {
    assert.equal(b.services.embedded, true);
    assert.ok(b.services.broker);
  });
});
