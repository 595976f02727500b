/** Concurrency: many payments at once never double-spend and never lose a point. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ProblemError } from '../../core/index.ts';
import { assertHealthy, grant, newKey, type PointsFixture, pay, startPoints } from './fixtures.ts';

describe('points under concurrency', () => {
  let f: PointsFixture;
  before(async () => {
    f = await startPoints({ env: { DB_POOL_MAX: '24' } });
  });
  after(() => f.t.stop());

  it('200 simultaneous payments from 200 residents to one hot merchant all land', async () => {
    const residents = Array.from({ length: 200 }, (_, i) => `hot-${i}`);
    for (const r of residents) await grant(f, r, 100);
    const before = (await f.points.balance({ currency: 'saijo-lsp', kind: 'merchant', holder: 'm1' }))
      .balance;
    const results = await Promise.allSettled(residents.map((r) => pay(f, r, 'm1', 30)));
    assert.deepEqual(
      results.filter((r) => r.status === 'rejected'),
      [],
    );
    const after = await f.points.balance({ currency: 'saijo-lsp', kind: 'merchant', holder: 'm1' });
    assert.equal(after.balance - before, 200 * 30);
    await assertHealthy(f.points);
  });

  it('a resident with barely enough for 10 payments gets exactly 10 of 60 concurrent ones', async () => {
    await grant(f, 'barely', 100);
    const results = await Promise.allSettled(
      Array.from({ length: 60 }, (_, i) => pay(f, 'barely', i % 2 ? 'm1' : 'm2', 10)),
    );
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const codes = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as ProblemError).code] : []));
    assert.equal(ok, 10);
    assert.deepEqual(new Set(codes), new Set(['insufficient-points']));
    assert.equal(codes.length, 50);
    assert.equal((await f.points.balance({ currency: 'saijo-lsp', holder: 'barely' })).balance, 0);
    await assertHealthy(f.points);
  });

  it('the same idempotency key sent 30 times at once posts one journal', async () => {
    await grant(f, 'twin', 1000);
    const key = newKey('pos');
    const answers = await Promise.all(Array.from({ length: 30 }, () => pay(f, 'twin', 'm2', 7, key)));
    assert.equal(new Set(answers.map((a) => a.journalId)).size, 1);
    assert.equal(answers.filter((a) => !a.replayed).length, 1);
    assert.equal((await f.points.balance({ currency: 'saijo-lsp', holder: 'twin' })).balance, 993);
  });

  it('concurrent grants, payments and an expiry sweep do not deadlock or break invariants', async () => {
    const residents = Array.from({ length: 40 }, (_, i) => `mix-${i}`);
    for (const r of residents) await grant(f, r, 50, 'health', '2026-04-01T03:00:01Z');
    f.clock.now = new Date('2026-04-01T03:00:02Z');
    const work: Array<Promise<unknown>> = [];
    for (const r of residents) {
      work.push(grant(f, r, 20));
      work.push(pay(f, r, 'm1', 10).catch(() => null));
      work.push(pay(f, r, 'm2', 10).catch(() => null));
    }
    work.push(f.points.runExpiry());
    await Promise.all(work);
    await f.points.runExpiry();
    for (const r of residents) {
      const b = await f.points.balance({ currency: 'saijo-lsp', holder: r });
      assert.ok(b.balance >= 0 && b.balance <= 20, `${r}: ${b.balance}`);
    }
    await assertHealthy(f.points);
  });
});
