/**
 * Property-based: random sequences of grants, payments, expiries, reversals and replays never break
 * the ledger's invariants, every acknowledged journal stays present, and replayed keys change nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ProblemError } from '../../core/index.ts';
import { newKey, type PointsFixture, STAFF, START, startPoints } from './fixtures.ts';

type Op =
  | { op: 'grant'; resident: number; amount: number; type: 'event' | 'health' }
  | { op: 'pay'; resident: number; merchant: number; amount: number }
  | { op: 'advance'; days: number }
  | { op: 'reverse'; pick: number }
  | { op: 'earn'; resident: number; amount: number }
  | { op: 'exchange'; resident: number; amount: number }
  | { op: 'replay'; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('grant' as const),
    resident: fc.integer({ min: 0, max: 3 }),
    amount: fc.integer({ min: 1, max: 400 }),
    type: fc.constantFrom('event' as const, 'health' as const),
  }),
  fc.record({
    op: fc.constant('pay' as const),
    resident: fc.integer({ min: 0, max: 3 }),
    merchant: fc.integer({ min: 1, max: 2 }),
    amount: fc.integer({ min: 1, max: 300 }),
  }),
  fc.record({ op: fc.constant('advance' as const), days: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ op: fc.constant('reverse' as const), pick: fc.nat() }),
  fc.record({
    op: fc.constant('earn' as const),
    resident: fc.integer({ min: 0, max: 3 }),
    amount: fc.integer({ min: 1, max: 500 }),
  }),
  fc.record({
    op: fc.constant('exchange' as const),
    resident: fc.integer({ min: 0, max: 3 }),
    amount: fc.integer({ min: 1, max: 400 }),
  }),
  fc.record({ op: fc.constant('replay' as const), pick: fc.nat() }),
);

const EXPECTED_FAILURES = new Set([
  'insufficient-points',
  'pool-exhausted',
  'already-reversed',
  'points-already-spent',
]);

describe('points ledger properties', () => {
  let f: PointsFixture;
  before(async () => {
    f = await startPoints({ pool: 20_000, ports: { exchangePolicy: { mayExchange: async () => true } } });
    await f.points.createCurrency(
      { code: 'steps', municipality: 'saijo', name: '歩数ポイント', service: 'walk-app' },
      STAFF,
    );
    await f.points.createPointType(
      { currency: 'steps', code: 'walk', name: '歩数', validityDays: 20, issuer: 'walk-app' },
      STAFF,
    );
    await f.points.createPool({ currency: 'steps', pool: 'walk-app' }, STAFF);
    await f.points.fundPool({
      currency: 'steps',
      pool: 'walk-app',
      amount: 1_000_000,
      idempotency: newKey(),
      actor: STAFF,
    });
    await f.points.setRate(
      {
        source: 'steps',
        target: 'saijo-lsp',
        targetPointType: 'health',
        rateNum: 3,
        rateDen: 4,
        rounding: 'round',
      },
      STAFF,
    );
  });
  after(() => f.t.stop());

  async function snapshot(): Promise<string> {
    const { rows } = await f.t.platform.db.query(
      `SELECT (SELECT count(*) FROM points.journal) AS journals,
              (SELECT string_agg(id || ':' || balance, ',' ORDER BY id) FROM points.account) AS balances`,
    );
    return JSON.stringify(rows[0]);
  }

  it('invariants hold over random operation sequences', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 25 }), async (ops) => {
        run += 1;
        f.clock.now = START;
        const acknowledged: string[] = [];
        const sent: Array<{
          call: () => Promise<{ journalId: string }>;
          journalId: string | null;
          code: string | null;
        }> = [];
        const resident = (i: number) => `prop-${run}-r${i}`;
        for (const o of ops) {
          let call: (() => Promise<{ journalId: string }>) | null = null;
          if (o.op === 'grant') {
            const key = newKey('staff');
            call = () =>
              f.points.grant({
                currency: 'saijo-lsp',
                pool: 'city',
                resident: resident(o.resident),
                amount: o.amount,
                pointType: o.type,
                idempotency: key,
                actor: STAFF,
              });
          } else if (o.op === 'pay') {
            const key = newKey('pos');
            call = () =>
              f.points.pay({
                currency: 'saijo-lsp',
                resident: resident(o.resident),
                merchant: `m${o.merchant}`,
                amount: o.amount,
                idempotency: key,
                actor: 'client:pos',
              });
          } else if (o.op === 'earn') {
            const key = newKey('walk');
            call = () =>
              f.points.grant({
                currency: 'steps',
                pool: 'walk-app',
                resident: resident(o.resident),
                amount: o.amount,
                pointType: 'walk',
                idempotency: key,
                actor: 'client:walk-app',
              });
          } else if (o.op === 'exchange') {
            const eventId = newKey('ex').key;
            call = () =>
              f.points
                .exchange({
                  service: 'walk-app',
                  eventId,
                  resident: resident(o.resident),
                  source: 'steps',
                  target: 'saijo-lsp',
                  amount: o.amount,
                  actor: 'client:walk-app',
                })
                .then((e) => ({ journalId: e.holdJournalId }));
          } else if (o.op === 'advance') {
            f.clock.now = new Date(f.clock.now.getTime() + o.days * 86_400_000);
            await f.points.runExpiry();
          } else if (o.op === 'reverse') {
            const target = acknowledged[o.pick % Math.max(acknowledged.length, 1)];
            if (target) {
              const key = newKey('staff');
              call = () =>
                f.points.reverse({ journalId: target, reason: 'property', idempotency: key, actor: STAFF });
            }
          } else if (sent.length > 0) {
            const previous = sent[o.pick % sent.length]!;
            const before = await snapshot();
            const again = await previous.call().then(
              (a) => ({ journalId: a.journalId, code: null }),
              (e: unknown) => ({ journalId: null, code: (e as ProblemError).code }),
            );
            assert.deepEqual(again, { journalId: previous.journalId, code: previous.code });
            assert.equal(await snapshot(), before, 'a replay changed the ledger');
          }
          if (!call) continue;
          try {
            const answer = await call();
            acknowledged.push(answer.journalId);
            sent.push({ call, journalId: answer.journalId, code: null });
          } catch (error) {
            assert.ok(error instanceof ProblemError && EXPECTED_FAILURES.has(error.code), String(error));
            sent.push({ call, journalId: null, code: error.code });
          }
        }
        const violations = await f.points.invariants();
        assert.deepEqual(
          Object.entries(violations).filter(([, n]) => n !== 0),
          [],
        );
        const present = await f.t.platform.db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM points.journal WHERE id = ANY ($1::bigint[])',
          [acknowledged],
        );
        assert.equal(present.rows[0]!.n, acknowledged.length);
      }),
      { numRuns: 25 },
    );
  });
});
