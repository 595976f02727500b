/**
 * The adapters' kit through a test adapter: inbox dedupe in one transaction with the effect, outbox
 * retries with backoff, dead letters, staff retry, restart survival, and the admin-only staff API.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { adaptersModule } from '../../../adapters/index.ts';
import {
  type AdapterFactory,
  backoffDelay,
  type Kit,
  PermanentFailure,
} from '../../../adapters/kit/index.ts';
import { createCoreModule } from '../../../core/index.ts';
import { send } from '../../support/http.ts';
import { staticTokens, startTestPlatform, type TestPlatform } from '../../support/platform.ts';

const tokens = staticTokens({
  staff: { subject: 'st-1', clientId: 'console', scopes: ['adapters:admin'] },
  other: { subject: 'st-2', clientId: 'console', scopes: ['points:admin'] },
});
const MASTER_KEY = randomBytes(32).toString('base64');
const ENV = {
  ADAPTERS_OUTBOX_POLL_MS: '0',
  ADAPTERS_OUTBOX_BACKOFF_MS: '1',
  ADAPTERS_OUTBOX_MAX_ATTEMPTS: '3',
};

/** A test adapter whose outbox handler fails as many times as `failures[key]` says. */
function testAdapter(state: {
  failures: Record<string, number | 'permanent'>;
  delivered: string[];
}): AdapterFactory {
  return () => ({
    name: 'probe',
    outboxHandlers: {
      async call(message) {
        const { key } = message.payload as { key: string };
        const left = state.failures[key];
        if (left === 'permanent') throw new PermanentFailure('refused: 400 invalid');
        if (left && left > 0) {
          state.failures[key] = left - 1;
          throw new Error('outside system answered 503');
        }
        state.delivered.push(key);
      },
    },
    async status() {
      return { configured: true };
    },
  });
}

async function start(state: Parameters<typeof testAdapter>[0], databaseUrl?: string) {
  return startTestPlatform({
    tokenVerifier: tokens,
    modules: [createCoreModule, adaptersModule({ env: ENV, adapters: [testAdapter(state)] })],
    // Instances of one deployment share MASTER_KEY (the sealed payloads must open after the restart).
    env: { MASTER_KEY },
    ...(databaseUrl ? { databaseUrl } : {}),
  });
}

const kitOf = (t: TestPlatform) => (t.platform.services['adapters'] as { kit: Kit }).kit;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function enqueue(t: TestPlatform, key: string) {
  const kit = kitOf(t);
  return t.platform.db.transaction((tx) =>
    kit.outbox.enqueue(tx, { adapter: 'probe', kind: 'call', payload: { key }, key }),
  );
}

/** Runs delivery rounds until nothing is due (backoff is 1 ms here). */
async function drain(kit: Kit) {
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 5));
    await kit.outbox.runOnce();
  }
}

describe('adapters kit', () => {
  const state = { failures: {} as Record<string, number | 'permanent'>, delivered: [] as string[] };
  let t: TestPlatform;
  before(async () => {
    t = await start(state);
  });
  after(() => t.stop());

  it('acts on an event once: a replay and a concurrent twin find the row and change nothing', async () => {
    const kit = kitOf(t);
    const event = { adapter: 'probe', source: 'probe:sys', eventId: 'ev-1', kind: 'ping' };
    // The effect's write: an outbox message (due in an hour, so it stays put).
    const effect = async (tx: Parameters<Parameters<Kit['inbox']['receive']>[1]>[0]) => {
      await kit.outbox.enqueue(tx, { adapter: 'probe', kind: 'effect', payload: {}, delayMs: 3_600_000 });
      return { answer: 42 };
    };
    const effects = async () =>
      (await t.platform.db.query(`SELECT 1 FROM adapters.outbox WHERE kind = 'effect'`)).rowCount;
    const results = await Promise.all([kit.inbox.receive(event, effect), kit.inbox.receive(event, effect)]);
    assert.equal(await effects(), 1);
    assert.deepEqual(results.map((r) => r.duplicate).sort(), [false, true]);
    const replay = await kit.inbox.receive(event, effect);
    assert.equal(replay.duplicate, true);
    assert.deepEqual(replay.outcome, { answer: 42 });
    assert.equal(await effects(), 1);
  });

  it('an effect that throws leaves no inbox row and none of its writes, so a redelivery runs it again', async () => {
    const kit = kitOf(t);
    const event = { adapter: 'probe', source: 'probe:sys', eventId: 'ev-2', kind: 'ping' };
    await assert.rejects(
      kit.inbox.receive(event, async (tx) => {
        await kit.outbox.enqueue(tx, {
          adapter: 'probe',
          kind: 'call',
          payload: { key: 'lost' },
          key: 'lost',
        });
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await kit.inbox.seen('probe:sys', 'ev-2'), false);
    assert.equal(
      (await t.platform.db.query(`SELECT 1 FROM adapters.outbox WHERE dedupe_key = 'lost'`)).rowCount,
      0,
    );
    const again = await kit.inbox.receive(event, async () => ({ ok: true }));
    assert.equal(again.duplicate, false);
  });

  it('retries with backoff until delivered; the same business key is enqueued once', async () => {
    const kit = kitOf(t);
    state.failures['r-1'] = 2;
    const first = await enqueue(t, 'r-1');
    const second = await enqueue(t, 'r-1');
    assert.equal(first.created, true);
    assert.deepEqual(second, { id: first.id, created: false });
    await drain(kit);
    const entry = await kit.outbox.get(first.id);
    assert.equal(entry?.status, 'done');
    assert.equal(entry?.attempts, 3);
    assert.equal(state.delivered.filter((k) => k === 'r-1').length, 1);
  });

  it('the payload is sealed at rest', async () => {
    await enqueue(t, 'sealed-secret-value');
    const { rows } = await t.platform.db.query<{ payload_sealed: string }>(
      `SELECT payload_sealed FROM adapters.outbox WHERE dedupe_key = 'sealed-secret-value'`,
    );
    assert.match(rows[0]!.payload_sealed, /^v1\./);
    assert.doesNotMatch(rows[0]!.payload_sealed, /sealed-secret-value/);
  });

  it('backoff doubles per attempt, with jitter, up to the cap', () => {
    const s = { baseMs: 1000, maxMs: 10_000 };
    assert.equal(
      backoffDelay(1, s, () => 0.5),
      1000,
    );
    assert.equal(
      backoffDelay(3, s, () => 0.5),
      4000,
    );
    assert.equal(
      backoffDelay(10, s, () => 0.5),
      10_000,
    );
    assert.equal(
      backoffDelay(1, s, () => 0),
      800,
    );
  });

  it('gives up past the budget or on a permanent refusal; staff see the dead letter and retry it', async () => {
    const kit = kitOf(t);
    state.failures['d-1'] = 99;
    state.failures['d-2'] = 'permanent';
    const d1 = await enqueue(t, 'd-1');
    const d2 = await enqueue(t, 'd-2');
    await drain(kit);
    assert.equal((await kit.outbox.get(d1.id))?.attempts, 3);
    assert.equal((await kit.outbox.get(d2.id))?.attempts, 1);

    const dead = await send(`${t.url}/api/admin/adapters/dead-letters?adapter=probe`, {
      headers: bearer('staff'),
    });
    assert.equal(dead.status, 200);
    const ids = dead.body.items.map((i: { id: string }) => i.id);
    assert.ok(ids.includes(d1.id) && ids.includes(d2.id));
    const d2Entry = dead.body.items.find((i: { id: string }) => i.id === d2.id);
    assert.equal(d2Entry.lastError, 'PermanentFailure: refused: 400 invalid');
    assert.equal(d2Entry.payload, undefined);

    const status = await send(`${t.url}/api/admin/adapters/status`, { headers: bearer('staff') });
    const probe = status.body.adapters.find((a: { name: string }) => a.name === 'probe');
    assert.ok(probe.outbox.dead >= 2);
    assert.deepEqual(probe.details, { configured: true });

    state.failures['d-2'] = 0;
    const retried = await send(`${t.url}/api/admin/adapters/outbox/${d2.id}/retry`, {
      method: 'POST',
      headers: bearer('staff'),
    });
    assert.equal(retried.status, 200);
    assert.equal(retried.body.status, 'pending');
    await drain(kit);
    assert.equal((await kit.outbox.get(d2.id))?.status, 'done');
    const audit = await t.platform.db.query(
      `SELECT actor FROM core.audit_log WHERE action = 'adapters.outbox.retry' AND target = $1`,
      [`adapters.outbox:${d2.id}`],
    );
    assert.deepEqual(audit.rows, [{ actor: 'staff:st-1' }]);

    const notDead = await send(`${t.url}/api/admin/adapters/outbox/${d2.id}/retry`, {
      method: 'POST',
      headers: bearer('staff'),
    });
    assert.equal(notDead.status, 409);
    assert.equal(notDead.body.code, 'outbox-not-dead');
    const unknown = await send(`${t.url}/api/admin/adapters/outbox/999999/retry`, {
      method: 'POST',
      headers: bearer('staff'),
    });
    assert.equal(unknown.status, 404);
  });

  it('the staff API needs a token with adapters:admin', async () => {
    assert.equal((await send(`${t.url}/api/admin/adapters/status`)).status, 401);
    const wrong = await send(`${t.url}/api/admin/adapters/outbox`, { headers: bearer('other') });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.body.code, 'insufficient-scope');
    const bad = await send(`${t.url}/api/admin/adapters/outbox?status=lost`, { headers: bearer('staff') });
    assert.equal(bad.status, 400);
  });
});

describe('adapters kit across a restart', () => {
  it('pending messages and their attempt counts survive the process; the next one delivers them', async () => {
    const state = {
      failures: { 'restart-1': 1 } as Record<string, number | 'permanent'>,
      delivered: [] as string[],
    };
    const first = await start(state);
    const { id } = await enqueue(first, 'restart-1');
    await kitOf(first).outbox.runOnce();
    assert.equal((await kitOf(first).outbox.get(id))?.attempts, 1);
    await first.stop();

    const second = await start(state, first.databaseUrl);
    try {
      await drain(kitOf(second));
      const entry = await kitOf(second).outbox.get(id);
      assert.equal(entry?.status, 'done');
      assert.equal(entry?.attempts, 2);
      assert.deepEqual(state.delivered, ['restart-1']);
    } finally {
      await second.stop();
    }
  });

  it('a message leased by a worker that died is delivered once its lease runs out', async () => {
    const state = { failures: {} as Record<string, number | 'permanent'>, delivered: [] as string[] };
    const t = await start(state);
    try {
      const { id } = await enqueue(t, 'leased-1');
      // What a worker killed mid-delivery leaves: the attempt counted and a lease in the future.
      await t.platform.db.query(
        `UPDATE adapters.outbox SET attempts = 1, leased_until = now() + interval '1 hour' WHERE id = $1`,
        [id],
      );
      await kitOf(t).outbox.runOnce();
      assert.deepEqual(state.delivered, []);
      await t.platform.db.query(
        `UPDATE adapters.outbox SET leased_until = now() - interval '1 second' WHERE id = $1`,
        [id],
      );
      await kitOf(t).outbox.runOnce();
      assert.deepEqual(state.delivered, ['leased-1']);
      assert.equal((await kitOf(t).outbox.get(id))?.attempts, 2);
    } finally {
      await t.stop();
    }
  });
});
