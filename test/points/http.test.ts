/** The partner and staff HTTP APIs: scopes, Idempotency-Key, problem codes, nothing changed on refusal. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { send } from '../support/http.ts';
import { staticTokens } from '../support/platform.ts';
import { type PointsFixture, STAFF, startPoints } from './fixtures.ts';

const tokens = staticTokens({
  staff: { subject: 'tanaka', clientId: 'city-console', scopes: ['points:admin'] },
  pos: { clientId: 'pos-app', scopes: ['points:pay', 'points:read'] },
  health: { clientId: 'health-app', scopes: ['points:grant'] },
  reader: { clientId: 'reader', scopes: ['points:read'] },
  resident: { subject: 'h-1', clientId: 'resident-app', scopes: ['points:pay-self'] },
});
const auth = (token: string, extra: Record<string, string> = {}) => ({
  authorization: `Bearer ${token}`,
  ...extra,
});

describe('points HTTP API', () => {
  let f: PointsFixture;
  let v1: string;
  let admin: string;
  before(async () => {
    f = await startPoints({ tokenVerifier: tokens });
    v1 = `${f.t.url}/api/points/v1`;
    admin = `${f.t.url}/api/points/admin`;
    await f.points.createPool({ currency: 'saijo-lsp', pool: 'health-app' }, STAFF);
  });
  after(() => f.t.stop());

  it('staff fund a pool and grant; the grant is audited with the staff subject', async () => {
    const funded = await send(`${admin}/pools/health-app/fund`, {
      method: 'POST',
      headers: auth('staff', { 'idempotency-key': 'fund-1' }),
      body: { currency: 'saijo-lsp', amount: 5000 },
    });
    assert.equal(funded.status, 201);
    assert.deepEqual(
      funded.body.postings.map((p: { kind: string; amount: number }) => [p.kind, p.amount]),
      [
        ['issuer', -5000],
        ['pool', 5000],
      ],
    );
    const granted = await send(`${admin}/grants`, {
      method: 'POST',
      headers: auth('staff', { 'idempotency-key': 'grant-1' }),
      body: { currency: 'saijo-lsp', pool: 'city', resident: 'h-1', amount: 700, pointType: 'event' },
    });
    assert.equal(granted.status, 201);
    const { rows } = await f.t.platform.db.query(
      `SELECT actor FROM core.audit_log WHERE action = 'points.grant' AND target = $1`,
      [`points.journal:${granted.body.journalId}`],
    );
    assert.deepEqual(rows, [{ actor: 'staff:tanaka' }]);
  });

  it('a payment needs points:pay and an Idempotency-Key; a retry replays the first answer', async () => {
    const body = { currency: 'saijo-lsp', resident: 'h-1', merchant: 'm1', amount: 200 };
    const noToken = await send(`${v1}/payments`, { method: 'POST', body });
    assert.equal(noToken.status, 401);
    const wrongScope = await send(`${v1}/payments`, {
      method: 'POST',
      headers: auth('reader', { 'idempotency-key': 'p-1' }),
      body,
    });
    assert.equal(wrongScope.status, 403);
    assert.equal(wrongScope.body.code, 'insufficient-scope');
    const noKey = await send(`${v1}/payments`, { method: 'POST', headers: auth('pos'), body });
    assert.equal(noKey.status, 400);
    assert.equal(noKey.body.code, 'idempotency-key-missing');

    const first = await send(`${v1}/payments`, {
      method: 'POST',
      headers: auth('pos', { 'idempotency-key': 'p-1' }),
      body,
    });
    assert.equal(first.status, 201);
    assert.equal(first.headers.get('idempotent-replayed'), null);
    const again = await send(`${v1}/payments`, {
      method: 'POST',
      headers: auth('pos', { 'idempotency-key': 'p-1' }),
      body,
    });
    assert.equal(again.status, 201);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(again.body, first.body);
    const reused = await send(`${v1}/payments`, {
      method: 'POST',
      headers: auth('pos', { 'idempotency-key': 'p-1' }),
      body: { ...body, amount: 201 },
    });
    assert.equal(reused.status, 422);
    assert.equal(reused.body.code, 'idempotency-key-reused');

    const balance = await send(`${v1}/currencies/saijo-lsp/balances/h-1`, { headers: auth('pos') });
    assert.equal(balance.status, 200);
    assert.equal(balance.body.balance, 500);
  });

  it('an overdraft answers 409 insufficient-points and changes nothing', async () => {
    const before = await send(`${v1}/currencies/saijo-lsp/history/h-1`, { headers: auth('reader') });
    const res = await send(`${v1}/payments`, {
      method: 'POST',
      headers: auth('pos', { 'idempotency-key': 'p-big' }),
      body: { currency: 'saijo-lsp', resident: 'h-1', merchant: 'm1', amount: 501 },
    });
    assert.equal(res.status, 409);
    assert.equal(res.body.code, 'insufficient-points');
    assert.equal(res.body.type, 'urn:tsunagu:problem:insufficient-points');
    const after = await send(`${v1}/currencies/saijo-lsp/history/h-1`, { headers: auth('reader') });
    assert.deepEqual(after.body, before.body);
    const audit = await f.t.platform.db.query(
      `SELECT count(*)::int AS n FROM core.audit_log WHERE action = 'points.history.read' AND actor = 'client:reader'`,
    );
    assert.equal(audit.rows[0]!.n, 2);
  });

  it("a partner event grants from the partner's pool once per event id", async () => {
    const event = {
      eventId: 'walk-2026-04-01-h2',
      currency: 'saijo-lsp',
      resident: 'h-2',
      amount: 30,
      pointType: 'health',
    };
    const first = await send(`${v1}/events`, { method: 'POST', headers: auth('health'), body: event });
    assert.equal(first.status, 201);
    assert.deepEqual(
      first.body.postings.map((p: { kind: string; holder: string; amount: number }) => [
        p.kind,
        p.holder,
        p.amount,
      ]),
      [
        ['pool', 'health-app', -30],
        ['resident', 'h-2', 30],
      ],
    );
    const again = await send(`${v1}/events`, { method: 'POST', headers: auth('health'), body: event });
    assert.equal(again.status, 201);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(again.body.journalId, first.body.journalId);
    assert.equal((await f.points.balance({ currency: 'saijo-lsp', holder: 'h-2' })).balance, 30);
    const tooMuch = await send(`${v1}/events`, {
      method: 'POST',
      headers: auth('health'),
      body: { ...event, eventId: 'huge', amount: 1_000_000 },
    });
    assert.equal(tooMuch.status, 409);
    assert.equal(tooMuch.body.code, 'pool-exhausted');
  });

  it('staff reverse a payment through the API with a reason; bulk CSV grants work over HTTP', async () => {
    const paid = await send(`${v1}/payments`, {
      method: 'POST',
      headers: auth('pos', { 'idempotency-key': 'p-rev' }),
      body: { currency: 'saijo-lsp', resident: 'h-1', merchant: 'm2', amount: 100 },
    });
    const reversed = await send(`${admin}/reversals`, {
      method: 'POST',
      headers: auth('staff', { 'idempotency-key': 'rev-1' }),
      body: { journalId: paid.body.journalId, reason: '誤操作' },
    });
    assert.equal(reversed.status, 201);
    assert.equal(reversed.body.kind, 'reversal');
    assert.equal((await f.points.balance({ currency: 'saijo-lsp', holder: 'h-1' })).balance, 500);

    const bulk = await send(`${admin}/grants/bulk?currency=saijo-lsp&pool=city&pointType=event`, {
      method: 'POST',
      headers: auth('staff', { 'idempotency-key': 'bulk-1', 'content-type': 'text/csv' }),
      raw: 'resident,amount\nbk-1,10\nbk-2,20\n',
    });
    assert.equal(bulk.status, 201);
    assert.equal(bulk.body.total, 30);
    const invariants = await send(`${admin}/invariants`, { headers: auth('staff') });
    assert.equal(invariants.status, 200);
    assert.equal(invariants.body.healthy, true);
    const forbidden = await send(`${admin}/invariants`, { headers: auth('pos') });
    assert.equal(forbidden.status, 403);
  });

  it("a resident pays by scanning the merchant's signed QR; forged codes are refused", async () => {
    const code = await send(`${admin}/merchants/m2/qr?currency=saijo-lsp`, { headers: auth('staff') });
    assert.equal(code.status, 200);
    assert.match(code.body.payload, /^TSNG1\.saijo-lsp\.m2\.[A-Za-z0-9_-]{43}$/);
    const before = (await f.points.balance({ currency: 'saijo-lsp', holder: 'h-1' })).balance;
    const paid = await send(`${v1}/me/payments`, {
      method: 'POST',
      headers: auth('resident', { 'idempotency-key': 'scan-1' }),
      body: { qr: code.body.payload, amount: 25 },
    });
    assert.equal(paid.status, 201);
    assert.deepEqual(
      paid.body.postings.map((p: { kind: string; holder: string; amount: number }) => [
        p.kind,
        p.holder,
        p.amount,
      ]),
      [
        ['resident', 'h-1', -25],
        ['merchant', 'm2', 25],
      ],
    );
    const forged = await send(`${v1}/me/payments`, {
      method: 'POST',
      headers: auth('resident', { 'idempotency-key': 'scan-2' }),
      body: { qr: code.body.payload.replace('.m2.', '.m1.'), amount: 25 },
    });
    assert.equal(forged.status, 400);
    assert.equal(forged.body.code, 'invalid-qr');
    assert.equal((await f.points.balance({ currency: 'saijo-lsp', holder: 'h-1' })).balance, before - 25);
  });
});
