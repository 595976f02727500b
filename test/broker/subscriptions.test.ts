import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { call, eventually, type Receiver, startBroker, startReceiver, type TestBroker } from './support.ts';

async function deadPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('broker: subscriptions and notifications', () => {
  let b: TestBroker;
  let rx: Receiver;
  let clock = Date.parse('2026-05-01T00:00:00.000Z');
  let tenantNo = 0;
  /** Each test gets its own tenant, so subscriptions of other tests stay out of its way. */
  const tenant = () => ({ 'Fiware-Service': `sub${++tenantNo}` });

  async function subscribe(h: Record<string, string>, body: Record<string, unknown>): Promise<string> {
    const r = await call(b.url, 'POST', '/v2/subscriptions', { headers: h, body });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.header('Location')!.split('/').pop()!;
  }

  before(async () => {
    b = await startBroker({}, () => new Date(clock));
    rx = await startReceiver();
  });
  after(async () => {
    await b.stop();
    await rx.close();
  });

  it('CRUD: 201 with Location, rendering with defaults, PATCH, DELETE and 404', async () => {
    const h = tenant();
    const id = await subscribe(h, {
      description: 'rooms',
      subject: { entities: [{ idPattern: '.*', type: 'Room' }], condition: { attrs: ['temp'] } },
      notification: { http: { url: `${rx.url}/notify` }, attrs: ['temp'] },
      expires: '2030-01-01T00:00:00Z',
      throttling: 5,
    });
    assert.match(id, /^[0-9a-f]{24}$/);
    const got = await call(b.url, 'GET', `/v2/subscriptions/${id}`, { headers: h });
    assert.deepEqual(got.body, {
      id,
      description: 'rooms',
      subject: {
        entities: [{ idPattern: '.*', type: 'Room' }],
        condition: { attrs: ['temp'], notifyOnMetadataChange: true },
      },
      notification: {
        attrs: ['temp'],
        onlyChangedAttrs: false,
        attrsFormat: 'normalized',
        http: { url: `${rx.url}/notify` },
        covered: false,
      },
      expires: '2030-01-01T00:00:00.000Z',
      throttling: 5,
      status: 'active',
    });
    assert.equal(
      (await call(b.url, 'PATCH', `/v2/subscriptions/${id}`, { headers: h, body: { status: 'inactive' } }))
        .status,
      204,
    );
    const list = await call(b.url, 'GET', '/v2/subscriptions?options=count', { headers: h });
    assert.equal(list.header('Fiware-Total-Count'), '1');
    assert.equal(list.body[0].status, 'inactive');
    assert.equal((await call(b.url, 'GET', '/v2/subscriptions', { headers: tenant() })).body.length, 0);
    assert.equal((await call(b.url, 'DELETE', `/v2/subscriptions/${id}`, { headers: h })).status, 204);
    const { rows } = await b.t.platform.db.query<{ action: string; target: string }>(
      `SELECT action, target FROM core.audit_log WHERE target = $1 ORDER BY seq`,
      [`subscription:${id}`],
    );
    assert.deepEqual(
      rows.map((r) => r.action),
      ['broker.subscription.create', 'broker.subscription.update', 'broker.subscription.delete'],
    );
    const gone = await call(b.url, 'GET', `/v2/subscriptions/${id}`, { headers: h });
    assert.equal(gone.status, 404);
    assert.deepEqual(gone.body, {
      error: 'NotFound',
      description: 'The requested subscription has not been found. Check id',
    });
  });

  it('refuses invalid subscriptions with Orion texts and stores nothing', async () => {
    const h = tenant();
    const cases: Array<[unknown, string]> = [
      [{ notification: { http: { url: rx.url } } }, 'no subject for subscription specified'],
      [{ subject: { entities: [{ id: 'E' }] } }, 'no notification for subscription specified'],
      [
        { subject: { entities: [{ id: 'E' }] }, notification: { http: { url: 'not a url' } } },
        'Invalid URL parsing notification url',
      ],
      [
        {
          subject: { entities: [{ id: 'E' }] },
          notification: { http: { url: rx.url } },
          expires: 'tomorrow',
        },
        'expires has an invalid format',
      ],
      [
        { subject: { entities: [{ id: 'E' }] }, notification: { http: { url: rx.url }, attrsFormat: 'xml' } },
        'invalid attrsFormat, accepted values: legacy, normalized, keyValues, values',
      ],
    ];
    for (const [body, description] of cases) {
      const r = await call(b.url, 'POST', '/v2/subscriptions', { headers: h, body });
      assert.equal(r.status, 400);
      assert.deepEqual(r.body, { error: 'BadRequest', description });
    }
    assert.deepEqual((await call(b.url, 'GET', '/v2/subscriptions', { headers: h })).body, []);
  });

  it('notifies on create and on actual change, with Orion headers and payload; not on a no-op update', async () => {
    const h = { ...tenant(), 'Fiware-ServicePath': '/city' };
    const id = await subscribe(h, {
      subject: { entities: [{ id: 'R1', type: 'Room' }] },
      notification: { http: { url: `${rx.url}/n1` } },
    });
    const before = rx.received.length;
    await call(b.url, 'POST', '/v2/entities', {
      headers: { ...h, 'Fiware-Correlator': 'corr-abc' },
      body: { id: 'R1', type: 'Room', temp: { value: 20 } },
    });
    await call(b.url, 'PATCH', '/v2/entities/R1/attrs', { headers: h, body: { temp: { value: 20 } } });
    await call(b.url, 'PATCH', '/v2/entities/R1/attrs', { headers: h, body: { temp: { value: 21 } } });
    await rx.waitFor(before + 2);
    await new Promise((r) => setTimeout(r, 100));
    const mine = rx.received.slice(before);
    assert.equal(mine.length, 2);
    // options=forcedUpdate notifies without an actual change
    await call(b.url, 'PATCH', '/v2/entities/R1/attrs?options=forcedUpdate', {
      headers: h,
      body: { temp: { value: 21 } },
    });
    await rx.waitFor(before + 3);
    assert.equal(rx.received[before + 2]!.body.data[0].temp.value, 21);
    const [first, second] = mine;
    assert.equal(first!.method, 'POST');
    assert.equal(first!.url, '/n1');
    assert.deepEqual(
      first!.headers.map(([k]) => k),
      [
        'Fiware-Servicepath',
        'Content-Length',
        'User-Agent',
        'Ngsiv2-AttrsFormat',
        'Host',
        'Accept',
        'Fiware-Service',
        'Content-Type',
        'Fiware-Correlator',
      ],
    );
    const header = (n: number, name: string) => mine[n]!.headers.find(([k]) => k === name)?.[1];
    assert.equal(header(0, 'Fiware-Servicepath'), '/city');
    assert.match(header(0, 'User-Agent')!, /^orion\//);
    assert.equal(header(0, 'Ngsiv2-AttrsFormat'), 'normalized');
    assert.equal(header(0, 'Fiware-Service'), h['Fiware-Service']);
    assert.equal(header(0, 'Content-Type'), 'application/json; charset=utf-8');
    assert.equal(header(0, 'Fiware-Correlator'), 'corr-abc; cbnotif=1');
    assert.deepEqual(first!.body, {
      subscriptionId: id,
      data: [{ id: 'R1', type: 'Room', temp: { type: 'Number', value: 20, metadata: {} } }],
    });
    assert.deepEqual(second!.body.data[0].temp.value, 21);
    await eventually(async () => {
      const sub = (await call(b.url, 'GET', `/v2/subscriptions/${id}`, { headers: h })).body;
      assert.equal(sub.notification.timesSent, 3);
      assert.equal(sub.notification.lastSuccessCode, 200);
      assert.equal(sub.notification.failsCounter, 0);
      assert.match(sub.notification.lastNotification, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d\dZ$/);
    });
  });

  it('conditions: attrs, q expression, alterationTypes (entityDelete, entityUpdate)', async () => {
    const h = tenant();
    await subscribe(h, {
      subject: {
        entities: [{ idPattern: '^S' }],
        condition: { attrs: ['temp'], expression: { q: 'temp>30' } },
      },
      notification: { http: { url: `${rx.url}/hot` }, attrsFormat: 'keyValues' },
    });
    await subscribe(h, {
      subject: {
        entities: [{ idPattern: '.*' }],
        condition: { alterationTypes: ['entityDelete', 'entityUpdate'] },
      },
      notification: { http: { url: `${rx.url}/lifecycle` }, attrs: ['temp', 'alterationType'] },
    });
    const start = rx.received.length;
    await call(b.url, 'POST', '/v2/entities', {
      headers: h,
      body: { id: 'S1', temp: { value: 10 }, hum: { value: 1 } },
    });
    await call(b.url, 'PATCH', '/v2/entities/S1/attrs', { headers: h, body: { hum: { value: 2 } } });
    await call(b.url, 'PATCH', '/v2/entities/S1/attrs', { headers: h, body: { temp: { value: 35 } } });
    await call(b.url, 'DELETE', '/v2/entities/S1', { headers: h });
    await rx.waitFor(start + 4);
    await new Promise((r) => setTimeout(r, 100));
    const mine = rx.received.slice(start);
    const hot = mine.filter((m) => m.url === '/hot');
    assert.deepEqual(
      hot.map((m) => m.body.data),
      [[{ id: 'S1', type: 'Thing', temp: 35, hum: 2 }]],
    );
    const life = mine.filter((m) => m.url === '/lifecycle').map((m) => m.body.data[0].alterationType.value);
    assert.deepEqual(life, ['entityUpdate', 'entityUpdate', 'entityDelete']);
  });

  it('notification content: exceptAttrs, onlyChangedAttrs, values, previousValue and actionType metadata', async () => {
    const h = tenant();
    await subscribe(h, {
      subject: { entities: [{ id: 'M1' }] },
      notification: {
        http: { url: `${rx.url}/only` },
        onlyChangedAttrs: true,
        metadata: ['previousValue', 'actionType'],
      },
    });
    await subscribe(h, {
      subject: { entities: [{ id: 'M1' }] },
      notification: { http: { url: `${rx.url}/except` }, exceptAttrs: ['b'], attrsFormat: 'values' },
    });
    await subscribe(h, {
      subject: { entities: [{ id: 'M1' }], condition: { attrs: ['a'] } },
      notification: { http: { url: `${rx.url}/simple` }, attrsFormat: 'simplifiedKeyValues' },
    });
    const created = rx.received.length;
    await call(b.url, 'POST', '/v2/entities', {
      headers: h,
      body: { id: 'M1', a: { value: 1 }, b: { value: 2 } },
    });
    await rx.waitFor(created + 3);
    const start = rx.received.length;
    await call(b.url, 'PATCH', '/v2/entities/M1/attrs', { headers: h, body: { a: { value: 5 } } });
    await rx.waitFor(start + 3);
    const mine = rx.received.slice(start);
    assert.deepEqual(mine.find((m) => m.url === '/simple')!.body, { id: 'M1', type: 'Thing', a: 5, b: 2 });
    const only = mine.find((m) => m.url === '/only')!;
    assert.deepEqual(only.body.data, [
      {
        id: 'M1',
        type: 'Thing',
        a: {
          type: 'Number',
          value: 5,
          metadata: {
            previousValue: { type: 'Number', value: 1 },
            actionType: { type: 'Text', value: 'update' },
          },
        },
      },
    ]);
    const except = mine.find((m) => m.url === '/except')!;
    assert.deepEqual(except.body.data, [[5]]);
    assert.equal(except.headers.find(([k]) => k === 'Ngsiv2-AttrsFormat')?.[1], 'values');
  });

  it('httpCustom: method, qs, headers and payload/json with ${...} macros', async () => {
    const h = tenant();
    await subscribe(h, {
      subject: { entities: [{ id: 'C1' }] },
      notification: {
        httpCustom: {
          url: `${rx.url}/custom/\${id}`,
          method: 'PUT',
          qs: { t: '${temp}' },
          headers: { 'X-Room': '${id}', Accept: '' },
          payload: 'temp is ${temp} in ${id}',
        },
      },
    });
    await subscribe(h, {
      subject: { entities: [{ id: 'C1' }] },
      notification: {
        httpCustom: { url: `${rx.url}/json`, json: { where: '${id}', t: '${temp}', list: ['${type}'] } },
      },
    });
    await subscribe(h, {
      subject: { entities: [{ id: 'C1' }] },
      notification: {
        httpCustom: {
          url: `${rx.url}/ngsi`,
          ngsi: { id: 'urn:room:${id}', label: { value: 'room ${id} at ${temp}' } },
        },
        attrs: ['temp'],
      },
    });
    const start = rx.received.length;
    await call(b.url, 'POST', '/v2/entities', {
      headers: h,
      body: { id: 'C1', type: 'Room', temp: { value: 21.5 } },
    });
    await rx.waitFor(start + 3);
    const mine = rx.received.slice(start);
    const text = mine.find((m) => m.url.startsWith('/custom'))!;
    assert.equal(text.method, 'PUT');
    assert.equal(text.url, '/custom/C1?t=21.5');
    assert.equal(text.text, 'temp is 21.5 in C1');
    assert.equal(text.headers.find(([k]) => k === 'X-Room')?.[1], 'C1');
    assert.equal(
      text.headers.find(([k]) => k === 'Accept'),
      undefined,
    );
    assert.equal(text.headers.find(([k]) => k === 'Content-Type')?.[1], 'text/plain; charset=utf-8');
    assert.equal(text.headers.find(([k]) => k === 'Ngsiv2-AttrsFormat')?.[1], 'custom');
    const json = mine.find((m) => m.url === '/json')!;
    assert.deepEqual(json.body, { where: 'C1', t: 21.5, list: ['Room'] });
    const ngsi = mine.find((m) => m.url === '/ngsi')!;
    assert.deepEqual(ngsi.body.data, [
      {
        id: 'urn:room:C1',
        type: 'Room',
        temp: { type: 'Number', value: 21.5, metadata: {} },
        label: { type: 'Text', value: 'room C1 at 21.5', metadata: {} },
      },
    ]);
  });

  it('throttling drops notifications inside the window (injected clock); oneshot fires once', async () => {
    const h = tenant();
    const throttled = await subscribe(h, {
      subject: { entities: [{ id: 'T1' }] },
      notification: { http: { url: `${rx.url}/throttled` } },
      throttling: 10,
    });
    const oneshot = await subscribe(h, {
      subject: { entities: [{ id: 'T1' }] },
      notification: { http: { url: `${rx.url}/oneshot` } },
      status: 'oneshot',
    });
    const start = rx.received.length;
    await call(b.url, 'POST', '/v2/entities', { headers: h, body: { id: 'T1', v: { value: 0 } } });
    clock += 5_000;
    await call(b.url, 'PATCH', '/v2/entities/T1/attrs', { headers: h, body: { v: { value: 1 } } });
    clock += 6_000;
    await call(b.url, 'PATCH', '/v2/entities/T1/attrs', { headers: h, body: { v: { value: 2 } } });
    await rx.waitFor(start + 3);
    await new Promise((r) => setTimeout(r, 100));
    const mine = rx.received.slice(start);
    assert.deepEqual(
      mine.filter((m) => m.url === '/throttled').map((m) => m.body.data[0].v.value),
      [0, 2],
    );
    assert.deepEqual(
      mine.filter((m) => m.url === '/oneshot').map((m) => m.body.data[0].v.value),
      [0],
    );
    assert.equal(
      (await call(b.url, 'GET', `/v2/subscriptions/${oneshot}`, { headers: h })).body.status,
      'inactive',
    );
    assert.equal(
      (await call(b.url, 'GET', `/v2/subscriptions/${throttled}`, { headers: h })).body.status,
      'active',
    );
  });

  it('keeps per-subscription order under a burst of updates', async () => {
    const h = tenant();
    await subscribe(h, {
      subject: { entities: [{ id: 'O1' }] },
      notification: { http: { url: `${rx.url}/order` }, attrsFormat: 'keyValues' },
    });
    const start = rx.received.length;
    await call(b.url, 'POST', '/v2/entities', { headers: h, body: { id: 'O1', n: { value: 0 } } });
    for (let i = 1; i <= 20; i++)
      await call(b.url, 'PATCH', '/v2/entities/O1/attrs', { headers: h, body: { n: { value: i } } });
    await rx.waitFor(start + 21);
    const values = rx.received
      .slice(start)
      .filter((m) => m.url === '/order')
      .map((m) => m.body.data[0].n);
    assert.deepEqual(
      values,
      Array.from({ length: 21 }, (_, i) => i),
    );
  });

  it('retries a 5xx answer, then records its status as Orion does', async () => {
    const h = tenant();
    const flaky = await startReceiver();
    flaky.status = (n) => (n === 1 ? 503 : 200);
    try {
      const id = await subscribe(h, {
        subject: { entities: [{ id: 'F1' }] },
        notification: { http: { url: `${flaky.url}/flaky` } },
      });
      await call(b.url, 'POST', '/v2/entities', { headers: h, body: { id: 'F1' } });
      await flaky.waitFor(2);
      assert.equal(flaky.received[1]!.text, flaky.received[0]!.text);
      await eventually(async () => {
        const sub = (await call(b.url, 'GET', `/v2/subscriptions/${id}`, { headers: h })).body;
        assert.equal(sub.notification.lastSuccessCode, 200);
        assert.equal(sub.notification.timesSent, 1);
      });
    } finally {
      await flaky.close();
    }
  });

  it('a dead receiver counts failures, turns the subscription failed, then inactive at maxFailsLimit', async () => {
    const h = tenant();
    const port = await deadPort();
    const id = await subscribe(h, {
      subject: { entities: [{ id: 'D1' }] },
      notification: { http: { url: `http://127.0.0.1:${port}/dead` }, maxFailsLimit: 2 },
    });
    await call(b.url, 'POST', '/v2/entities', { headers: h, body: { id: 'D1', v: { value: 1 } } });
    await eventually(async () => {
      const sub = (await call(b.url, 'GET', `/v2/subscriptions/${id}`, { headers: h })).body;
      assert.equal(sub.status, 'failed');
      assert.equal(sub.notification.failsCounter, 1);
      assert.equal(sub.notification.lastFailureReason, "Couldn't connect to server");
    });
    await call(b.url, 'PATCH', '/v2/entities/D1/attrs', { headers: h, body: { v: { value: 2 } } });
    await eventually(async () => {
      const sub = (await call(b.url, 'GET', `/v2/subscriptions/${id}`, { headers: h })).body;
      assert.equal(sub.status, 'inactive');
      assert.equal(sub.notification.failsCounter, 2);
      assert.equal(sub.notification.timesSent, 2);
    });
  });

  it('a slow receiver never delays updates', async () => {
    const h = tenant();
    const slow = await startReceiver();
    slow.delayMs = 1500;
    try {
      await subscribe(h, {
        subject: { entities: [{ id: 'Slow1' }] },
        notification: { http: { url: `${slow.url}/slow` } },
      });
      await call(b.url, 'POST', '/v2/entities', { headers: h, body: { id: 'Slow1', v: { value: 0 } } });
      const started = Date.now();
      for (let i = 1; i <= 5; i++) {
        const r = await call(b.url, 'PATCH', '/v2/entities/Slow1/attrs', {
          headers: h,
          body: { v: { value: i } },
        });
        assert.equal(r.status, 204);
      }
      assert.ok(Date.now() - started < 1000, `updates took ${Date.now() - started} ms`);
      await slow.waitFor(1);
    } finally {
      await slow.close();
    }
  });

  it('the notification deny list refuses targets', async () => {
    const denied = await startBroker({ notifyDeny: ['127.0.0.0/8', 'localhost'] });
    try {
      const r = await call(denied.url, 'POST', '/v2/subscriptions', {
        body: { subject: { entities: [{ id: 'E' }] }, notification: { http: { url: `${rx.url}/x` } } },
      });
      assert.equal(r.status, 400);
      assert.deepEqual(r.body, {
        error: 'BadRequest',
        description: 'notification URL not allowed by the broker notification policy',
      });
      const allowed = await call(denied.url, 'POST', '/v2/subscriptions', {
        body: {
          subject: { entities: [{ id: 'E' }] },
          notification: { http: { url: 'http://receiver.example.jp/x' } },
        },
      });
      assert.equal(allowed.status, 201);
    } finally {
      await denied.stop();
    }
  });

  it('two broker processes on one database share subscriptions and their runtime fields', async () => {
    const { startTestPlatform } = await import('../support/platform.ts');
    const { brokerModule } = await import('../../broker/index.ts');
    const { createCoreModule } = await import('../../core/index.ts');
    const second = await startTestPlatform({
      databaseUrl: b.t.databaseUrl,
      modules: [createCoreModule, brokerModule()],
      env: { RATE_LIMIT_PER_MINUTE: '100000' },
    });
    try {
      const h = tenant();
      const id = await subscribe(h, {
        subject: { entities: [{ id: 'Shared1' }] },
        notification: { http: { url: `${rx.url}/shared` } },
      });
      const start = rx.received.length;
      // the other process learns of the subscription (LISTEN/NOTIFY) and notifies for its own update
      await eventually(async () => {
        await call(second.url, 'POST', '/v2/entities?options=upsert', {
          headers: h,
          body: { id: 'Shared1', n: { value: Math.random() } },
        });
        await rx.waitFor(start + 1, 200);
      });
      await eventually(async () => {
        const sub = (await call(second.url, 'GET', `/v2/subscriptions/${id}`, { headers: h })).body;
        assert.ok(sub.notification.timesSent >= 1);
      });
      assert.equal(
        (await call(b.url, 'PATCH', `/v2/subscriptions/${id}`, { headers: h, body: { status: 'inactive' } }))
          .status,
        204,
      );
      await eventually(async () => {
        const before = rx.received.length;
        await call(second.url, 'PATCH', '/v2/entities/Shared1/attrs', {
          headers: h,
          body: { n: { value: Math.random() } },
        });
        await new Promise((r) => setTimeout(r, 150));
        assert.equal(rx.received.length, before);
      });
      assert.equal((await call(second.url, 'DELETE', `/v2/subscriptions/${id}`, { headers: h })).status, 204);
      assert.equal((await call(b.url, 'GET', `/v2/subscriptions/${id}`, { headers: h })).status, 404);
    } finally {
      await second.stop();
    }
  });

  it('subscriptions survive a restart (loaded from PostgreSQL)', async () => {
    const again = await startBroker();
    const db = again.t.databaseUrl;
    const h = tenant();
    const r = await call(again.url, 'POST', '/v2/subscriptions', {
      headers: h,
      body: { subject: { entities: [{ id: 'P1' }] }, notification: { http: { url: `${rx.url}/persist` } } },
    });
    const id = r.header('Location')!.split('/').pop();
    await again.t.platform.stop();
    const { startTestPlatform } = await import('../support/platform.ts');
    const { brokerModule } = await import('../../broker/index.ts');
    const { createCoreModule } = await import('../../core/index.ts');
    const restarted = await startTestPlatform({
      databaseUrl: db,
      modules: [createCoreModule, brokerModule()],
      env: { RATE_LIMIT_PER_MINUTE: '100000' },
    });
    try {
      const start = rx.received.length;
      const got = await call(restarted.url, 'GET', `/v2/subscriptions/${id}`, { headers: h });
      assert.equal(got.status, 200);
      await call(restarted.url, 'POST', '/v2/entities', { headers: h, body: { id: 'P1' } });
      await rx.waitFor(start + 1);
      assert.equal(rx.received[start]!.url, '/persist');
    } finally {
      await restarted.stop();
    }
  });
});
