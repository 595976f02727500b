import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { webhookSignature } from '../../consent/index.ts';
import { send } from '../support/http.ts';
import {
  type ConsentTest,
  count,
  HEALTH,
  publishNotices,
  RESIDENT,
  SDGS,
  startConsentPlatform,
} from './support.ts';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real HTTP receiver on localhost that answers with the next queued status (default 204). */
async function receiver(): Promise<{
  url: string;
  received: Received[];
  statuses: number[];
  server: Server;
}> {
  const received: Received[] = [];
  const statuses: number[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.statusCode = statuses.shift() ?? 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/consent-hook`, received, statuses, server };
}

describe('consent status records to services (outbox + webhook)', () => {
  let t: ConsentTest;
  let hook: Awaited<ReturnType<typeof receiver>>;
  let secret: string;
  before(async () => {
    t = await startConsentPlatform();
    await publishNotices(t);
    hook = await receiver();
  });
  after(async () => {
    await t.stop();
    hook.server.closeAllConnections();
    await new Promise((resolve) => hook.server.close(resolve));
  });

  it('a service registers its webhook and gets a secret once', async () => {
    const res = await send(`${t.url}/api/consent/webhook`, {
      method: 'PUT',
      headers: t.auth('health'),
      body: { url: hook.url },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.url, hook.url);
    assert.match(res.body.secret, /^[\w-]{43}$/);
    secret = res.body.secret;
    const { rows } = await t.platform.db.query<{ sealed_secret: string }>(
      'SELECT sealed_secret FROM consent.webhooks',
    );
    assert.ok(!rows[0]!.sealed_secret.includes(secret));
    const bad = await send(`${t.url}/api/consent/webhook`, {
      method: 'PUT',
      headers: t.auth('health'),
      body: { url: 'ftp://x' },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'validation-failed');
  });

  it('delivers a signed record of each change under the service’s pairwise subject', async () => {
    const { records } = await t.consent.give({
      resident: RESIDENT,
      service: HEALTH,
      items: ['birthdate'],
      purpose: 'age-check',
      notice: { id: 'health-app', version: 1 },
    });
    const id = records[0]!.id;
    await t.consent.change({ id, resident: RESIDENT, action: 'withdraw' });
    assert.deepEqual(await t.consent.deliverDue(), { delivered: 2, failed: 0 });
    assert.equal(hook.received.length, 2);
    const subject = await t.directory.subjectFor(RESIDENT, HEALTH);
    const bodies = hook.received.map((r) => JSON.parse(r.body));
    assert.deepEqual(
      bodies.map((b) => [b.type, b.event, b.consentId, b.version, b.state, b.subject, b.dataItem, b.purpose]),
      [
        ['consent.status', 'given', id, 1, 'given', subject, 'birthdate', 'age-check'],
        ['consent.status', 'withdrawn', id, 2, 'withdrawn', subject, 'birthdate', 'age-check'],
      ],
    );
    for (const r of hook.received) {
      assert.ok(!r.body.includes(RESIDENT), 'the common ID never leaves the platform');
      const t0 = Math.floor(t.clock.now().getTime() / 1000);
      assert.equal(r.headers['tsunagu-signature'], webhookSignature(secret, t0, r.body));
      assert.match(String(r.headers['tsunagu-event-id']), /^\d+$/);
    }
    assert.deepEqual(await t.consent.deliverDue(), { delivered: 0, failed: 0 });
    assert.equal(await count(t, 'consent.outbox WHERE delivered_at IS NULL'), 0);
  });

  it('retries with backoff until the receiver accepts, and never delivers twice', async () => {
    hook.received.length = 0;
    hook.statuses.push(503);
    const { records } = await t.consent.give({
      resident: RESIDENT,
      service: HEALTH,
      items: ['gender'],
      purpose: 'age-check',
      notice: { id: 'health-app', version: 1 },
    });
    assert.deepEqual(await t.consent.deliverDue(), { delivered: 0, failed: 1 });
    const { rows } = await t.platform.db.query<{
      last_status: number;
      last_error: string;
      attempts: number;
      next_attempt_at: Date;
    }>(
      'SELECT last_status, last_error, attempts, next_attempt_at FROM consent.outbox WHERE delivered_at IS NULL',
    );
    assert.deepEqual(
      rows.map((r) => [
        r.last_status,
        r.last_error,
        r.attempts,
        r.next_attempt_at.getTime() - t.clock.now().getTime(),
      ]),
      [[503, 'HTTP 503', 1, 5_000]],
    );
    // Not due yet.
    assert.deepEqual(await t.consent.deliverDue(), { delivered: 0, failed: 0 });
    t.clock.advance(5_000);
    assert.deepEqual(await t.consent.deliverDue(), { delivered: 1, failed: 0 });
    assert.equal(hook.received.length, 2);
    assert.equal(hook.received[0]!.body, hook.received[1]!.body);
    assert.equal(JSON.parse(hook.received[1]!.body).consentId, records[0]!.id);
    assert.deepEqual(await t.consent.deliverDue(), { delivered: 0, failed: 0 });
  });

  it('keeps records for a service without a webhook until it registers one', async () => {
    await t.consent.give({
      resident: RESIDENT,
      service: SDGS,
      items: ['name'],
      purpose: 'activity-points',
      notice: { id: 'sdgs-site', version: 1 },
    });
    assert.deepEqual(await t.consent.deliverDue(), { delivered: 0, failed: 1 });
    const { rows } = await t.platform.db.query<{ last_error: string }>(
      `SELECT last_error FROM consent.outbox WHERE service_id = $1`,
      [SDGS],
    );
    assert.deepEqual(rows, [{ last_error: 'no webhook registered' }]);
    hook.received.length = 0;
    await send(`${t.url}/api/consent/webhook`, {
      method: 'PUT',
      headers: t.auth('sdgs'),
      body: { url: hook.url },
    });
    t.clock.advance(5_000);
    assert.deepEqual(await t.consent.deliverDue(), { delivered: 1, failed: 0 });
    assert.equal(JSON.parse(hook.received[0]!.body).subject, await t.directory.subjectFor(RESIDENT, SDGS));
  });

  it('an unreachable receiver counts as a failure, not a crash', async () => {
    await send(`${t.url}/api/consent/webhook`, {
      method: 'PUT',
      headers: t.auth('sdgs'),
      body: { url: 'http://127.0.0.1:9/closed' },
    });
    await t.consent.give({
      resident: RESIDENT,
      service: SDGS,
      items: ['gender'],
      purpose: 'activity-points',
      notice: { id: 'sdgs-site', version: 1 },
    });
    assert.deepEqual(await t.consent.deliverDue(), { delivered: 0, failed: 1 });
    const { rows } = await t.platform.db.query<{ last_error: string }>(
      `SELECT last_error FROM consent.outbox WHERE delivered_at IS NULL`,
    );
    assert.deepEqual(rows, [{ last_error: 'connection failed' }]);
  });
});

describe('the delivery timer', () => {
  it('delivers without being asked, and stops with the platform', async () => {
    const t = await startConsentPlatform({}, { deliveryIntervalMs: 50 });
    const hook = await receiver();
    try {
      await publishNotices(t);
      await t.consent.registerWebhook(HEALTH, hook.url, 'test');
      await t.consent.give({
        resident: RESIDENT,
        service: HEALTH,
        items: ['name'],
        purpose: 'age-check',
        notice: { id: 'health-app', version: 1 },
      });
      const deadline = Date.now() + 10_000;
      const pending = () => count(t, 'consent.outbox WHERE delivered_at IS NULL');
      while ((await pending()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(hook.received.length, 1);
      assert.equal(JSON.parse(hook.received[0]!.body).event, 'given');
      assert.equal(await pending(), 0);
    } finally {
      await t.stop();
      hook.server.closeAllConnections();
      await new Promise((resolve) => hook.server.close(resolve));
    }
  });
});
