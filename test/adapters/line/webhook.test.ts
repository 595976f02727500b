/**
 * LINE webhook end to end against the LINE Platform double: signed deliveries as LINE sends them,
 * replays, bad signatures and malformed bodies, the account link, balance and history replies from
 * the points ledger, notices pushed when the resident turned them on, and a push surviving a restart.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { send } from '../../support/http.ts';
import { lineUserId, signBody } from './line_platform_double.ts';
import { type LineTest, startLine } from './support.ts';

const RESIDENT = 'r'.repeat(26);

async function counts(f: LineTest) {
  const { rows } = await f.t.platform.db.query<{ inbox: string; outbox: string; users: string }>(
    `SELECT (SELECT count(*) FROM adapters.inbox)::text AS inbox, (SELECT count(*) FROM adapters.outbox)::text AS outbox,
            (SELECT count(*) FROM adapters.line_user)::text AS users`,
  );
  return rows[0];
}

const post = (f: LineTest, body: string, signature?: string) =>
  send(f.webhook, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature ? { 'x-line-signature': signature } : {}) },
    raw: body,
  });

describe('LINE webhook', () => {
  let f: LineTest;
  before(async () => {
    f = await startLine();
  });
  after(() => f.stop());

  it('a follow gets a greeting and the account-link button; the replayed delivery changes nothing', async () => {
    const user = lineUserId();
    const delivery = f.line.delivery([f.line.event('follow', user)]);
    const first = await post(f, delivery.body, delivery.signature);
    assert.equal(first.status, 200);
    await f.flush();
    const reply = f.line.replies.at(-1)!;
    assert.equal(reply.messages.length, 2);
    assert.match(reply.messages[0]!.text!, /^友だち追加ありがとうございます。/);
    const button = reply.messages[1]!.template!.actions[0]!;
    assert.match(button.uri!, /^http:\/\/[^/]+\/adapters\/line\/link\?linkToken=[0-9A-Za-z_-]+$/);

    const before = await counts(f);
    const replies = f.line.replies.length;
    const replay = await post(f, delivery.body, delivery.signature);
    assert.equal(replay.status, 200);
    await f.flush();
    assert.deepEqual(await counts(f), before);
    assert.equal(f.line.replies.length, replies);
  });

  it('refuses a missing or wrong signature with 401 and changes nothing', async () => {
    const before = await counts(f);
    const { body } = f.line.delivery([f.line.textMessage(lineUserId(), '残高')]);
    for (const signature of [undefined, signBody(body, 'another-channel-secret'), 'bm90LWEtc2lnbmF0dXJl']) {
      const res = await post(f, body, signature);
      assert.equal(res.status, 401);
      assert.equal(res.body.code, 'signature-invalid');
      assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    }
    // The signature covers the exact bytes: the same JSON re-serialised does not pass.
    const tampered = body.replace('残高', '履歴');
    assert.equal((await post(f, tampered, signBody(body, f.line.channelSecret))).status, 401);
    assert.deepEqual(await counts(f), before);
  });

  it('refuses a correctly signed body that is not a LINE webhook with 400 and changes nothing', async () => {
    const before = await counts(f);
    const good = f.line.textMessage(lineUserId(), '残高');
    const bodies = [
      'not json',
      JSON.stringify({ events: [] }),
      JSON.stringify({ destination: f.line.botUserId, events: [{ ...good, webhookEventId: undefined }] }),
      JSON.stringify({
        destination: f.line.botUserId,
        events: [{ ...good, source: { type: 'user', userId: 'x' } }],
      }),
      // a valid first event does not slip through with an invalid second one
      JSON.stringify({ destination: f.line.botUserId, events: [good, { ...good, mode: 'sleepy' }] }),
    ];
    for (const body of bodies) {
      const res = await post(f, body, signBody(body, f.line.channelSecret));
      assert.equal(res.status, 400, body);
      assert.equal(res.body.code, 'payload-malformed');
    }
    assert.deepEqual(await counts(f), before);
  });

  it("answers LINE's verification delivery (no events) with 200", async () => {
    const { body, signature } = f.line.delivery([]);
    assert.equal((await post(f, body, signature)).status, 200);
  });

  it('links through the account-link flow, then answers balance and history from the ledger', async () => {
    const user = lineUserId();
    await f.line.deliver([f.line.event('follow', user)]);
    await f.link(user, RESIDENT);
    assert.deepEqual(f.line.webhookAnswers.at(-1), 200);
    assert.match(f.line.replies.at(-1)!.messages[0]!.text!, /^アカウントを連携しました。/);
    const linked = await f.t.platform.db.query('SELECT 1 FROM adapters.line_user WHERE common_id = $1', [
      RESIDENT,
    ]);
    assert.equal(linked.rowCount, 1);
    const audit = await f.t.platform.db.query(
      `SELECT actor FROM core.audit_log WHERE action = 'adapters.line.link'`,
    );
    assert.deepEqual(audit.rows, [{ actor: `resident:${RESIDENT}` }]);

    await f.grant(RESIDENT, 300);
    await f.grant(RESIDENT, 1200);
    await f.line.deliver([f.line.textMessage(user, '残高')]);
    await f.flush();
    assert.match(
      f.line.replies.at(-1)!.messages[0]!.text!,
      /^【saijo-lsp】残高 1,500 pt（利用可能 1,500 pt）\nBalance 1500 pt/,
    );
    await f.line.deliver([f.line.postback(user, 'action=history')]);
    await f.flush();
    const history = f.line.replies.at(-1)!.messages[0]!.text!;
    assert.match(history, /最近の履歴 \/ Recent history/);
    assert.match(history, /付与 \+1200 pt（残 1500）\n.*付与 \+300 pt（残 300）/);
    const reads = await f.t.platform.db.query(
      `SELECT action FROM core.audit_log WHERE target = $1 AND action LIKE 'adapters.line.%.read' ORDER BY seq`,
      [`resident:${RESIDENT}`],
    );
    assert.deepEqual(
      reads.rows.map((r) => r.action),
      ['adapters.line.balance.read', 'adapters.line.history.read'],
    );
  });

  it('a used or unknown nonce links nobody', async () => {
    const user = lineUserId();
    await f.line.deliver([f.line.event('follow', user)]);
    await f.flush();
    const nonce = f.line.linkDialogs.at(-1)!.nonce; // the nonce used by the link above
    const res = await f.line.deliver([f.line.event('accountLink', user, { link: { result: 'ok', nonce } })]);
    assert.equal(res.status, 200);
    await f.flush();
    assert.match(f.line.replies.at(-1)!.messages[0]!.text!, /^アカウント連携を完了できませんでした。/);
    const { rows } = await f.t.platform.db.query<{ n: string }>(
      'SELECT count(*)::text AS n FROM adapters.line_user WHERE common_id IS NOT NULL',
    );
    assert.equal(rows[0]!.n, '1');
  });

  it('a user who is not linked is offered the link instead of a balance', async () => {
    await f.line.deliver([f.line.textMessage(lineUserId(), 'balance')]);
    await f.flush();
    assert.equal(f.line.replies.at(-1)!.messages[0]!.template?.type, 'buttons');
  });

  it('pushes point notices only while the resident has them on and follows the account', async () => {
    const user = lineUserId();
    const resident = 'n'.repeat(26);
    await f.line.deliver([f.line.event('follow', user)]);
    await f.link(user, resident);
    await f.grant(resident, 10);
    await f.flush();
    assert.equal(
      f.line.pushes.filter((p) => p.to === user).length,
      0,
      'notices are off until the resident says so',
    );

    await f.line.deliver([f.line.postback(user, 'action=notices-on')]);
    await f.grant(resident, 50);
    await f.flush();
    const pushed = f.line.pushes.filter((p) => p.to === user);
    assert.equal(pushed.length, 1);
    assert.match(pushed[0]!.messages[0]!.text!, /^【saijo-lsp】ポイントが \+50 pt 変動しました。/);
    assert.ok(pushed[0]!.retryKey);

    await f.line.deliver([f.line.event('unfollow', user)]);
    await f.grant(resident, 70);
    await f.flush();
    assert.equal(f.line.pushes.filter((p) => p.to === user).length, 1);
  });

  it('a push LINE already accepted is not sent twice when the outbox retries it (X-Line-Retry-Key → 409)', async () => {
    const user = lineUserId();
    const resident = 'q'.repeat(26);
    await f.line.deliver([f.line.event('follow', user)]);
    await f.link(user, resident);
    await f.line.deliver([f.line.textMessage(user, '通知オン')]);
    await f.grant(resident, 5);
    await f.flush();
    assert.equal(f.line.pushes.filter((p) => p.to === user).length, 1);
    // As if the process died after LINE accepted the push but before it was marked done.
    const { rows } = await f.t.platform.db.query<{ id: string }>(
      `UPDATE adapters.outbox SET status = 'pending', next_attempt_at = now(), leased_until = NULL
        WHERE id = (SELECT max(id) FROM adapters.outbox WHERE kind = 'push') RETURNING id::text AS id`,
    );
    await f.flush();
    assert.equal(f.line.pushes.filter((p) => p.to === user).length, 1);
    assert.equal((await f.kit.outbox.get(rows[0]!.id))?.status, 'done');
  });

  it('a reply LINE refuses (expired token) becomes a dead letter at once', async () => {
    const event = f.line.textMessage(lineUserId(), 'help');
    event.replyToken = 'ffffffffffffffffffffffffffffffff'; // never issued
    await f.line.deliver([event]);
    await f.flush();
    const dead = await f.kit.outbox.list({ adapter: 'line', status: 'dead' });
    assert.equal(dead[0]?.lastError, 'PermanentFailure: LINE reply answered 400: Invalid reply token');
    assert.equal(dead[0]?.attempts, 1);
  });

  it('staff see the adapter status', async () => {
    const res = await send(`${f.t.url}/api/admin/adapters/status`, {
      headers: { authorization: 'Bearer staff' },
    });
    const line = res.body.adapters.find((a: { name: string }) => a.name === 'line');
    assert.equal(line.details.configured, true);
    assert.ok(line.details.linked >= 2);
    assert.ok(line.inbox.last24h > 5);
  });
});

describe('LINE push across a restart', () => {
  it('a push that failed before the restart is delivered by the next process, once', async () => {
    const first = await startLine();
    const user = lineUserId();
    const resident = 'z'.repeat(26);
    try {
      await first.line.deliver([first.line.event('follow', user)]);
      await first.link(user, resident);
      await first.line.deliver([first.line.textMessage(user, '通知オン')]);
      await first.flush();
      first.line.failNext('/v2/bot/message/push', 500, 1000); // LINE is down until the restart
      await first.grant(resident, 40);
      await first.flush();
      assert.equal(first.line.pushes.length, 0);
      const pending = await first.kit.outbox.list({ adapter: 'line', status: 'pending' });
      assert.equal(pending.length, 1);
      assert.match(pending[0]!.lastError!, /LINE push answered 500/);
    } finally {
      await first.t.stop();
    }
    first.line.clearFailures();
    const second = await startLine({ line: first.line, databaseUrl: first.t.databaseUrl });
    try {
      await second.flush();
      assert.equal(first.line.pushes.length, 1);
      assert.equal(first.line.pushes[0]!.to, user);
      assert.deepEqual(await second.kit.outbox.list({ adapter: 'line', status: 'pending' }), []);
    } finally {
      await second.stop();
      await first.line.stop();
    }
  });
});
