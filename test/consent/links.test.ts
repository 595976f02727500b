import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { send } from '../support/http.ts';
import {
  type ConsentTest,
  count,
  HEALTH,
  OTHER_RESIDENT,
  RESIDENT,
  SDGS,
  startConsentPlatform,
} from './support.ts';

describe('service links with one-time link codes', () => {
  let t: ConsentTest;
  let api: string;
  let receiver: Server;
  const received: Array<Record<string, unknown>> = [];
  let firstCode = '';
  before(async () => {
    t = await startConsentPlatform();
    api = `${t.url}/api/consent`;
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.statusCode = 204;
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.address() as AddressInfo;
    await t.consent.registerWebhook(HEALTH, `http://127.0.0.1:${port}/hook`, 'test');
  });
  after(async () => {
    await t.stop();
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
  });

  const issue = (accountRef: string, token: 'health' | 'sdgs' = 'health') =>
    send(`${api}/link-codes`, { method: 'POST', headers: t.auth(token), body: { accountRef } });
  const link = (
    code: string,
    token: 'resident' | 'other' = 'resident',
    headers: Record<string, string> = {},
  ) => send(`${api}/me/links`, { method: 'POST', headers: { ...t.auth(token), ...headers }, body: { code } });

  it('only a service with the consent:link scope issues codes', async () => {
    const res = await issue('health-user-1', 'sdgs');
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'insufficient-scope');
    assert.equal(await count(t, 'consent.link_codes'), 0);
  });

  it('links the account behind a code, tells the service its pairwise subject, and keeps only a hash of the code', async () => {
    const issued = await issue('health-user-1');
    assert.equal(issued.status, 201);
    assert.match(issued.body.code, /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    firstCode = issued.body.code;
    assert.equal(issued.body.expiresAt, new Date(t.clock.now().getTime() + 600_000).toISOString());
    const { rows } = await t.platform.db.query<{ code_hash: string }>(
      'SELECT code_hash FROM consent.link_codes',
    );
    assert.ok(!rows[0]!.code_hash.includes(issued.body.code.replace('-', '')));

    // Typed in lower case and without the hyphen still works.
    const linked = await link(issued.body.code.replace('-', '').toLowerCase(), 'resident', {
      'idempotency-key': 'l1',
    });
    assert.equal(linked.status, 201);
    assert.deepEqual(
      [linked.body.resident, linked.body.service, linked.body.accountRef, linked.body.unlinkedAt],
      [RESIDENT, HEALTH, 'health-user-1', null],
    );
    const replay = await link(issued.body.code.replace('-', '').toLowerCase(), 'resident', {
      'idempotency-key': 'l1',
    });
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(replay.body, linked.body);
    assert.equal(await t.consent.isLinked(RESIDENT, HEALTH), true);

    assert.deepEqual(await t.consent.deliverDue(), { delivered: 1, failed: 0 });
    assert.deepEqual(received[0], {
      type: 'link.status',
      event: 'linked',
      linkId: linked.body.id,
      accountRef: 'health-user-1',
      at: t.clock.now().toISOString(),
      subject: await t.directory.subjectFor(RESIDENT, HEALTH),
    });
    assert.equal(await count(t, `core.audit_log WHERE action = 'consent.link.linked'`), 1);
  });

  it('refuses a used, wrong or expired code, and double links, changing nothing', async () => {
    const links = await count(t, 'consent.service_links');
    for (const code of [firstCode, 'ZZZZ-ZZZZ']) {
      const refused = await link(code, 'other');
      assert.equal(refused.status, 400);
      assert.equal(refused.body.code, 'link-code-invalid');
    }

    const second = await issue('health-user-2');
    const already = await link(second.body.code);
    assert.equal(already.status, 409);
    assert.equal(already.body.code, 'already-linked');

    const sameAccount = await issue('health-user-1');
    const other = await link(sameAccount.body.code, 'other');
    assert.equal(other.status, 409);
    assert.equal(other.body.code, 'already-linked');

    const late = await issue('health-user-3');
    t.clock.advance(600_000);
    const expired = await link(late.body.code, 'other');
    assert.equal(expired.status, 400);
    assert.equal(expired.body.code, 'link-code-invalid');
    assert.equal(await count(t, 'consent.service_links'), links);
    assert.equal(await t.consent.isLinked(OTHER_RESIDENT, HEALTH), false);
  });

  it('unlinks; the link stays in the record and cannot be deleted or revived', async () => {
    const res = await send(`${api}/me/links/${HEALTH}`, { method: 'DELETE', headers: t.auth('resident') });
    assert.equal(res.status, 200);
    assert.equal(res.body.unlinkedAt, t.clock.now().toISOString());
    assert.equal(await t.consent.isLinked(RESIDENT, HEALTH), false);
    const again = await send(`${api}/me/links/${HEALTH}`, { method: 'DELETE', headers: t.auth('resident') });
    assert.equal(again.status, 404);
    assert.equal(again.body.code, 'link-not-found');
    await t.consent.deliverDue();
    assert.deepEqual(
      received.map((r) => r['event']),
      ['linked', 'unlinked'],
    );
    await assert.rejects(t.platform.db.query('DELETE FROM consent.service_links'), /append-only/);
    await assert.rejects(
      t.platform.db.query('UPDATE consent.service_links SET unlinked_at = NULL, unlinked_by = NULL'),
      /only unlinking, once/,
    );
    const list = await send(`${api}/me/links`, { headers: t.auth('resident') });
    assert.deepEqual(
      list.body.links.map((l: { service: string; unlinkedAt: string | null }) => [
        l.service,
        l.unlinkedAt !== null,
      ]),
      [[HEALTH, true]],
    );

    // A fresh code links again (a new link record).
    const fresh = await issue('health-user-1');
    const relinked = await link(fresh.body.code);
    assert.equal(relinked.status, 201);
    assert.notEqual(relinked.body.id, res.body.id);
    assert.equal((await t.consent.links(RESIDENT)).length, 2);
    assert.equal(await t.consent.isLinked(RESIDENT, SDGS), false);
  });
});
