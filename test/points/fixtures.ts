/** A Saijo-like municipality: one currency, three point types, a funded city pool, two merchants. */
import { createCoreModule, type ModuleFactory } from '../../core/index.ts';
import { type PointsPorts, type PointsService, pointsModule } from '../../points/index.ts';
import { startTestPlatform, type TestPlatform, type TestPlatformOptions } from '../support/platform.ts';

export const STAFF = 'staff:tester';
export const START = new Date('2026-04-01T03:00:00Z'); // 12:00 JST

export interface PointsFixture {
  t: TestPlatform;
  points: PointsService;
  clock: { now: Date };
  key: () => { scope: string; key: string };
}

let counter = 0;
export function newKey(scope = 'test'): { scope: string; key: string } {
  counter += 1;
  return { scope, key: `k-${process.pid}-${counter}` };
}

export async function startPoints(
  options: { ports?: PointsPorts; pool?: number; before?: ModuleFactory[] } & Omit<
    TestPlatformOptions,
    'modules' | 'now'
  > = {},
): Promise<PointsFixture> {
  const clock = { now: START };
  const { ports, pool, before, ...rest } = options;
  const t = await startTestPlatform({
    ...rest,
    modules: [createCoreModule, ...(before ?? []), pointsModule(ports ?? {})],
    now: () => clock.now,
  });
  const points = t.platform.services['points'] as PointsService;
  await points.createCurrency(
    { code: 'saijo-lsp', municipality: 'saijo', name: 'LOVESAIJO ポイント' },
    STAFF,
  );
  await points.createPointType(
    {
      currency: 'saijo-lsp',
      code: 'event',
      name: 'イベント',
      spendPriority: 10,
      validityDays: 180,
      issuer: 'saijo-city',
    },
    STAFF,
  );
  await points.createPointType(
    {
      currency: 'saijo-lsp',
      code: 'health',
      name: '健康',
      spendPriority: 20,
      validityDays: 30,
      issuer: 'saijo-city',
    },
    STAFF,
  );
  await points.createPointType(
    {
      currency: 'saijo-lsp',
      code: 'cash',
      name: '現金チャージ',
      spendPriority: 90,
      validityDays: null,
      cashCharged: true,
      issuer: 'saijo-pay-co',
    },
    STAFF,
  );
  await points.registerMerchant(
    { id: 'm1', municipality: 'saijo', name: '西条商店', place: 'ekimae' },
    STAFF,
  );
  await points.registerMerchant(
    { id: 'm2', municipality: 'saijo', name: '石鎚食堂', place: 'ishizuchi' },
    STAFF,
  );
  await points.createPool({ currency: 'saijo-lsp', pool: 'city' }, STAFF);
  await points.fundPool({
    currency: 'saijo-lsp',
    pool: 'city',
    amount: pool ?? 1_000_000,
    idempotency: newKey('staff'),
    actor: STAFF,
  });
  return { t, points, clock, key: () => newKey() };
}

/** Grants `amount` of `pointType` to a resident from the city pool. */
export function grant(
  f: PointsFixture,
  resident: string,
  amount: number,
  pointType = 'event',
  expiresAt?: string,
) {
  return f.points.grant({
    currency: 'saijo-lsp',
    pool: 'city',
    resident,
    amount,
    pointType,
    ...(expiresAt ? { expiresAt } : {}),
    idempotency: newKey('staff'),
    actor: STAFF,
  });
}

export function pay(
  f: PointsFixture,
  resident: string,
  merchant: string,
  amount: number,
  key = newKey('pos'),
) {
  return f.points.pay({
    currency: 'saijo-lsp',
    resident,
    merchant,
    amount,
    idempotency: key,
    actor: 'client:pos',
  });
}

export async function assertHealthy(points: PointsService): Promise<Record<string, number>> {
  const inv = await points.invariants();
  for (const [name, count] of Object.entries(inv))
    if (count !== 0) throw new Error(`invariant ${name}: ${count}`);
  return inv;
}
