import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ProblemError } from '../../core/index.ts';
import { assertHealthy, grant, newKey, type PointsFixture, pay, STAFF, startPoints } from './fixtures.ts';

async function rejects(promise: Promise<unknown>, code: string): Promise<ProblemError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ProblemError, `expected ProblemError, got ${String(error)}`);
    assert.equal(error.code, code);
    return error;
  }
  assert.fail(`expected ${code}`);
}

describe('points ledger', () => {
  let f: PointsFixture;
  before(async () => {
    f = await startPoints();
  });
  after(() => f.t.stop());

  it('a grant moves points from the pool to the resident as a lot with its type and JST expiry', async () => {
    const answer = await grant(f, 'r-grant', 500, 'event');
    assert.equal(answer.kind, 'grant');
    assert.deepEqual(
      answer.postings?.map((p) => [p.kind, p.holder, p.amount, p.balanceAfter]),
      [
        ['pool', 'city', -500, 999_500],
        ['resident', 'r-grant', 500, 500],
      ],
    );
    const balance = await f.points.balance({ currency: 'saijo-lsp', holder: 'r-grant' });
    // granted 2026-04-01 12:00 JST, valid 180 days → expires at the end of 2026-09-28 JST
    assert.deepEqual(balance.lots, [
      { pointType: 'event', amount: 500, expiresAt: '2026-09-28T15:00:00.000Z', expired: false },
    ]);
    assert.equal(balance.spendable, 500);
  });

  it('a payment spends lots by type priority, then soonest expiry', async () => {
    await grant(f, 'r-order', 100, 'health'); // priority 20
    await grant(f, 'r-order', 100, 'event', '2026-06-01T00:00:00Z'); // priority 10, later expiry
    await grant(f, 'r-order', 100, 'event', '2026-05-01T00:00:00Z'); // priority 10, soonest
    await pay(f, 'r-order', 'm1', 150);
    const balance = await f.points.balance({ currency: 'saijo-lsp', holder: 'r-order' });
    assert.deepEqual(
      balance.lots.map((l) => [l.pointType, l.amount, l.expiresAt]),
      [
        ['event', 50, '2026-06-01T00:00:00.000Z'],
        ['health', 100, '2026-05-01T15:00:00.000Z'],
      ],
    );
    const merchant = await f.points.balance({ currency: 'saijo-lsp', kind: 'merchant', holder: 'm1' });
    assert.equal(merchant.balance, 150);
  });

  it('refuses a payment beyond the spendable balance and changes nothing', async () => {
    await grant(f, 'r-poor', 100);
    const before = await f.points.history({ currency: 'saijo-lsp', holder: 'r-poor' });
    const error = await rejects(pay(f, 'r-poor', 'm1', 101), 'insufficient-points');
    assert.equal(error.status, 409);
    assert.equal((await f.points.balance({ currency: 'saijo-lsp', holder: 'r-poor' })).balance, 100);
    assert.deepEqual(await f.points.history({ currency: 'saijo-lsp', holder: 'r-poor' }), before);
  });

  it('a retried idempotency key returns the first answer, failures included, and posts nothing new', async () => {
    await grant(f, 'r-idem', 300);
    const key = newKey('pos');
    const first = await pay(f, 'r-idem', 'm2', 200, key);
    const again = await pay(f, 'r-idem', 'm2', 200, key);
    assert.equal(again.journalId, first.journalId);
    assert.equal(again.replayed, true);
    assert.equal((await f.points.balance({ currency: 'saijo-lsp', holder: 'r-idem' })).balance, 100);
    await rejects(pay(f, 'r-idem', 'm2', 999, key), 'idempotency-key-reused');

    const failing = newKey('pos');
    await rejects(pay(f, 'r-idem', 'm2', 150, failing), 'insufficient-points');
    await grant(f, 'r-idem', 1000);
    // the same key still answers with the stored failure even though the balance would now allow it
    const replayed = await rejects(pay(f, 'r-idem', 'm2', 150, failing), 'insufficient-points');
    assert.equal(replayed.extensions['replayed'], true);
    assert.equal((await f.points.balance({ currency: 'saijo-lsp', holder: 'r-idem' })).balance, 1100);
  });

  it('the pool balance caps grants', async () => {
    await f.points.createPool({ currency: 'saijo-lsp', pool: 'small' }, STAFF);
    await f.points.fundPool({
      currency: 'saijo-lsp',
      pool: 'small',
      amount: 100,
      idempotency: newKey(),
      actor: STAFF,
    });
    const ok = {
      currency: 'saijo-lsp',
      pool: 'small',
      resident: 'r-cap',
      pointType: 'event',
      actor: STAFF,
    };
    await f.points.grant({ ...ok, amount: 60, idempotency: newKey() });
    await rejects(f.points.grant({ ...ok, amount: 41, idempotency: newKey() }), 'pool-exhausted');
    assert.equal((await f.points.balance({ currency: 'saijo-lsp', holder: 'r-cap' })).balance, 60);
  });

  it('unknown merchants and pools are refused', async () => {
    await grant(f, 'r-unknown', 10);
    await rejects(pay(f, 'r-unknown', 'no-such-shop', 5), 'unknown-account');
    await rejects(
      f.points.grant({
        currency: 'saijo-lsp',
        pool: 'nope',
        resident: 'r-unknown',
        amount: 1,
        pointType: 'event',
        idempotency: newKey(),
        actor: STAFF,
      }),
      'unknown-account',
    );
    await rejects(pay(f, 'r-unknown', 'm1', 0), 'invalid-ledger-request');
  });

  it('a reversal restores the exact lots, is audited with its reason, and happens once', async () => {
    await grant(f, 'r-rev', 100, 'health');
    await grant(f, 'r-rev', 100, 'event');
    const paid = await pay(f, 'r-rev', 'm2', 150);
    const beforeAudit = await f.t.platform.db.query(
      `SELECT count(*)::int AS n FROM core.audit_log WHERE action = 'points.reverse'`,
    );
    const reversal = await f.points.reverse({
      journalId: paid.journalId,
      reason: '二重決済',
      idempotency: newKey('staff'),
      actor: STAFF,
    });
    assert.equal(reversal.kind, 'reversal');
    const balance = await f.points.balance({ currency: 'saijo-lsp', holder: 'r-rev' });
    assert.deepEqual(
      balance.lots.map((l) => [l.pointType, l.amount]),
      [
        ['event', 100],
        ['health', 100],
      ],
    );
    const { rows } = await f.t.platform.db.query(
      `SELECT actor, target, details FROM core.audit_log WHERE action = 'points.reverse' ORDER BY seq DESC LIMIT 1`,
    );
    assert.deepEqual(rows[0], {
      actor: STAFF,
      target: `points.journal:${paid.journalId}`,
      details: { reversal: reversal.journalId, reason: '二重決済' },
    });
    const afterAudit = await f.t.platform.db.query(
      `SELECT count(*)::int AS n FROM core.audit_log WHERE action = 'points.reverse'`,
    );
    assert.equal(afterAudit.rows[0]!.n, beforeAudit.rows[0]!.n + 1);
    await rejects(
      f.points.reverse({
        journalId: paid.journalId,
        reason: 'again',
        idempotency: newKey('staff'),
        actor: STAFF,
      }),
      'already-reversed',
    );
    await rejects(
      f.points.reverse({
        journalId: reversal.journalId,
        reason: 'undo',
        idempotency: newKey('staff'),
        actor: STAFF,
      }),
      'already-reversed',
    );
  });

  it('a reversal is refused once the credited points were spent', async () => {
    const granted = await grant(f, 'r-spent', 100);
    await pay(f, 'r-spent', 'm1', 30);
    await rejects(
      f.points.reverse({
        journalId: granted.journalId,
        reason: 'wrong person',
        idempotency: newKey(),
        actor: STAFF,
      }),
      'points-already-spent',
    );
    assert.equal((await f.points.balance({ currency: 'saijo-lsp', holder: 'r-spent' })).balance, 70);
  });

  it('the database refuses edits, deletions, negative holders and unbalanced journals', async () => {
    const db = f.t.platform.db;
    await assert.rejects(db.query('UPDATE points.posting SET amount = amount + 1'), /append-only/);
    await assert.rejects(db.query('DELETE FROM points.journal'), /append-only/);
    await assert.rejects(
      db.query(`UPDATE points.account SET balance = -1 WHERE kind = 'resident' AND holder = 'r-grant'`),
      /account_non_negative/,
    );
    await assert.rejects(
      db.query(`UPDATE points.account SET allow_negative = true WHERE kind = 'pool'`),
      /account_negative_only_for_system/,
    );
    await assert.rejects(
      db.transaction(async (tx) => {
        const { rows } = await tx.query(
          `INSERT INTO points.journal (kind, actor, created_at) VALUES ('grant', 'x', now()) RETURNING id`,
        );
        const account = await tx.query(
          `SELECT id, currency_id FROM points.account WHERE kind = 'issuer' LIMIT 1`,
        );
        await tx.query(
          `INSERT INTO points.posting (journal_id, account_id, currency_id, amount, balance_after) VALUES ($1, $2, $3, 5, 0)`,
          [rows[0].id, account.rows[0].id, account.rows[0].currency_id],
        );
      }),
      /does not sum to zero/,
    );
    const old = await db.query(`SELECT id FROM points.journal ORDER BY id LIMIT 1`);
    const issuer = await db.query(`SELECT id, currency_id FROM points.account WHERE kind = 'issuer' LIMIT 1`);
    await assert.rejects(
      db.query(
        `INSERT INTO points.posting (journal_id, account_id, currency_id, amount, balance_after) VALUES ($1, $2, $3, 5, 0)`,
        [old.rows[0]!.id, issuer.rows[0]!.id, issuer.rows[0]!.currency_id],
      ),
      /same transaction/,
    );
    await assertHealthy(f.points);
  });
});
