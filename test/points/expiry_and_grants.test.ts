import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ProblemError } from '../../core/index.ts';
import { assertHealthy, grant, newKey, type PointsFixture, pay, STAFF, startPoints } from './fixtures.ts';

describe('points expiry (frozen clock)', () => {
  let f: PointsFixture;
  before(async () => {
    f = await startPoints();
  });
  after(() => f.t.stop());

  it('health points (30 days) expire at JST midnight into the expiry account; spending skips expired lots', async () => {
    f.clock.now = new Date('2026-04-01T03:00:00Z');
    await grant(f, 'r-exp', 100, 'health'); // expires 2026-05-01T15:00Z = 2026-05-02 00:00 JST
    await grant(f, 'r-exp', 40, 'event'); // 180 days
    f.clock.now = new Date('2026-05-01T14:59:59Z');
    assert.deepEqual(await f.points.runExpiry(), { lots: 0, amount: 0 });
    f.clock.now = new Date('2026-05-01T15:00:00Z');
    // before the sweep runs, the expired lot is already not spendable
    const before = await f.points.balance({ currency: 'saijo-lsp', holder: 'r-exp' });
    assert.equal(before.balance, 140);
    assert.equal(before.spendable, 40);
    await assert.rejects(
      pay(f, 'r-exp', 'm1', 41),
      (e: unknown) => (e as ProblemError).code === 'insufficient-points',
    );

    assert.deepEqual(await f.points.runExpiry(), { lots: 1, amount: 100 });
    assert.deepEqual(await f.points.runExpiry(), { lots: 0, amount: 0 });
    const after = await f.points.balance({ currency: 'saijo-lsp', holder: 'r-exp' });
    assert.equal(after.balance, 40);
    const history = await f.points.history({ currency: 'saijo-lsp', holder: 'r-exp' });
    assert.deepEqual(
      history.items.map((i) => [i.kind, i.amount, i.balanceAfter]),
      [
        ['expiry', -100, 40],
        ['grant', 40, 140],
        ['grant', 100, 100],
      ],
    );
    const sink = await f.t.platform.db.query(
      `SELECT balance FROM points.account a JOIN points.currency c ON c.id = a.currency_id
        WHERE c.code = 'saijo-lsp' AND a.kind = 'expiry'`,
    );
    assert.equal(sink.rows[0]!.balance, '100');
    const audit = await f.t.platform.db.query(
      `SELECT details FROM core.audit_log WHERE action = 'points.expiry.run' ORDER BY seq DESC LIMIT 1`,
    );
    assert.deepEqual(audit.rows[0]!.details, { lots: 1, amount: 100 });
    await assertHealthy(f.points);
  });
});

describe('points grants', () => {
  let f: PointsFixture;
  before(async () => {
    f = await startPoints({ pool: 10_000 });
  });
  after(() => f.t.stop());

  it('a bulk CSV grant credits every row in one journal, capped by the pool', async () => {
    const csv = '\uFEFFresident,amount,expires_at\r\nb-1,100,\r\nb-2,250,2026-12-31T15:00:00Z\r\nb-1,50,\r\n';
    const answer = await f.points.grantBulk({
      currency: 'saijo-lsp',
      pool: 'city',
      pointType: 'event',
      csv,
      idempotency: newKey('staff'),
      actor: STAFF,
    });
    assert.equal(answer['rows'], 3);
    assert.equal(answer['total'], 400);
    const b1 = await f.points.balance({ currency: 'saijo-lsp', holder: 'b-1' });
    assert.equal(b1.balance, 150);
    assert.equal(b1.lots.length, 2);
    const b2 = await f.points.balance({ currency: 'saijo-lsp', holder: 'b-2' });
    assert.deepEqual(b2.lots, [
      { pointType: 'event', amount: 250, expiresAt: '2026-12-31T15:00:00.000Z', expired: false },
    ]);

    const tooMuch = 'resident,amount\nb-3,9000\nb-4,1000\n'; // pool has 9,600 left
    await assert.rejects(
      f.points.grantBulk({
        currency: 'saijo-lsp',
        pool: 'city',
        pointType: 'event',
        csv: tooMuch,
        idempotency: newKey('staff'),
        actor: STAFF,
      }),
      (e: unknown) => (e as ProblemError).code === 'pool-exhausted',
    );
    assert.equal((await f.points.balance({ currency: 'saijo-lsp', holder: 'b-3' })).balance, 0);
    await assertHealthy(f.points);
  });

  it('a CSV with bad rows is refused whole, naming the lines', async () => {
    const error = await f.points
      .grantBulk({
        currency: 'saijo-lsp',
        pool: 'city',
        pointType: 'event',
        csv: 'resident,amount\nc-1,10\n,5\nc-2,-3\n',
        idempotency: newKey('staff'),
        actor: STAFF,
      })
      .catch((e: unknown) => e as ProblemError);
    assert.ok(error instanceof ProblemError);
    assert.equal(error.code, 'csv-invalid');
    assert.deepEqual(error.extensions['errors'], [
      { line: 3, message: 'resident is empty' },
      { line: 4, message: 'amount must be a positive integer' },
    ]);
    assert.equal((await f.points.balance({ currency: 'saijo-lsp', holder: 'c-1' })).balance, 0);
  });

  it('a cash charge funds the pool and credits a cash-charged lot; other types are refused', async () => {
    const charged = await f.points.charge({
      currency: 'saijo-lsp',
      pool: 'city',
      resident: 'cash-1',
      merchant: 'm1',
      amount: 1000,
      pointType: 'cash',
      idempotency: newKey('pos'),
      actor: 'client:pos',
    });
    assert.deepEqual(
      charged.postings?.map((p) => [p.kind, p.amount]),
      [
        ['issuer', -1000],
        ['pool', 1000],
        ['pool', -1000],
        ['resident', 1000],
      ],
    );
    const balance = await f.points.balance({ currency: 'saijo-lsp', holder: 'cash-1' });
    assert.deepEqual(balance.lots, [{ pointType: 'cash', amount: 1000, expiresAt: null, expired: false }]);
    await assert.rejects(
      f.points.charge({
        currency: 'saijo-lsp',
        pool: 'city',
        resident: 'cash-1',
        merchant: 'm1',
        amount: 1000,
        pointType: 'event',
        idempotency: newKey('pos'),
        actor: 'client:pos',
      }),
      (e: unknown) => (e as ProblemError).code === 'invalid-ledger-request',
    );
  });
});

describe('points notices', () => {
  let f: PointsFixture;
  const sent: Array<{ to: { kind: string; holder: string }; event: string; amount: number; at: string }> = [];
  before(async () => {
    f = await startPoints({
      ports: {
        notifier: {
          async notify(n) {
            sent.push({ to: n.to, event: n.event, amount: n.amount, at: n.at.toISOString() });
          },
        },
      },
    });
  });
  after(() => f.t.stop());

  it('notifies both sides of a payment and residents once before points expire', async () => {
    await grant(f, 'n-1', 100, 'health'); // expires 2026-05-01T15:00Z
    await pay(f, 'n-1', 'm1', 40);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      sent.map((n) => [n.to.kind, n.to.holder, n.event, n.amount]),
      [
        ['resident', 'n-1', 'balance-changed', 100],
        ['resident', 'n-1', 'balance-changed', -40],
        ['merchant', 'm1', 'balance-changed', 40],
      ],
    );
    sent.length = 0;
    assert.deepEqual(await f.points.sendExpiryNotices(new Date('2026-04-17T14:59:59Z')), { notices: 0 });
    assert.deepEqual(await f.points.sendExpiryNotices(new Date('2026-04-17T15:00:00Z')), { notices: 1 });
    assert.deepEqual(await f.points.sendExpiryNotices(new Date('2026-04-20T00:00:00Z')), { notices: 0 });
    assert.deepEqual(sent, [
      {
        to: { kind: 'resident', holder: 'n-1' },
        event: 'expiry-soon',
        amount: 60,
        at: '2026-05-01T15:00:00.000Z',
      },
    ]);
  });
});
