/**
 * A small municipality with known activity over three JST days, for hand-checked aggregates:
 *   2026-04-01: 12 residents receive 100 event points each; each pays 10 at m1  → active 12, payments 12
 *   2026-04-02: 3 of them pay 20 each at m2                                      → active 3 (a small cell)
 *   2026-04-03: 10 of them pay 5 each at m1                                      → active 10 (exactly k)
 */

import { createBrokerModule } from '../../broker/index.ts';
import { createCoreModule, type ModuleFactory } from '../../core/index.ts';
import { BI_ROLE, createDashboardsModule, type DashboardsServices } from '../../dashboards/index.ts';
import { createPointsModule, type PointsService } from '../../points/index.ts';
import { startTestPlatform, staticTokens, type TestPlatform } from '../support/platform.ts';

export const STAFF = 'staff:seed';
export const CURRENCY = 'saijo-lsp';

export interface Fixture {
  t: TestPlatform;
  points: PointsService;
  dashboards: DashboardsServices;
  clock: { now: Date };
  /** Bearer headers per role. */
  maintainer: Record<string, string>;
  viewer: Record<string, string>;
}

let counter = 0;
const key = (scope: string) => ({ scope, key: `dash-${process.pid}-${++counter}` });

export async function startDashboards(
  dashboardsModule: ModuleFactory = createDashboardsModule,
): Promise<Fixture> {
  const clock = { now: new Date('2026-04-01T03:00:00Z') };
  const t = await startTestPlatform({
    modules: [createCoreModule, createPointsModule, createBrokerModule, dashboardsModule],
    now: () => clock.now,
    tokenVerifier: staticTokens({
      maintainer: { subject: 'sato', clientId: 'console', scopes: ['dashboards:read', 'dashboards:write'] },
      viewer: { subject: 'suzuki', clientId: 'console', scopes: ['dashboards:read'] },
    }),
  });
  const points = t.platform.services['points'] as PointsService;
  const dashboards = t.platform.services['dashboards'] as DashboardsServices;
  return {
    t,
    points,
    dashboards,
    clock,
    maintainer: { authorization: 'Bearer maintainer' },
    viewer: { authorization: 'Bearer viewer' },
  };
}

export async function seedPoints(f: Fixture): Promise<void> {
  const p = f.points;
  await p.createCurrency({ code: CURRENCY, municipality: 'saijo', name: 'LOVESAIJO ポイント' }, STAFF);
  await p.createPointType(
    { currency: CURRENCY, code: 'event', name: 'イベント', validityDays: 180, issuer: 'saijo-city' },
    STAFF,
  );
  await p.registerMerchant({ id: 'm1', municipality: 'saijo', name: '西条商店', place: 'ekimae' }, STAFF);
  await p.registerMerchant({ id: 'm2', municipality: 'saijo', name: '石鎚食堂', place: 'ishizuchi' }, STAFF);
  await p.createPool({ currency: CURRENCY, pool: 'city' }, STAFF);
  await p.fundPool({
    currency: CURRENCY,
    pool: 'city',
    amount: 100_000,
    idempotency: key('staff'),
    actor: STAFF,
  });
  const residents = Array.from({ length: 12 }, (_, i) => `r-${i + 1}`);
  const pay = (resident: string, merchant: string, amount: number) =>
    p.pay({ currency: CURRENCY, resident, merchant, amount, idempotency: key('pos'), actor: 'client:pos' });
  for (const resident of residents) {
    await p.grant({
      currency: CURRENCY,
      pool: 'city',
      resident,
      amount: 100,
      pointType: 'event',
      idempotency: key('staff'),
      actor: STAFF,
    });
    await pay(resident, 'm1', 10);
  }
  f.clock.now = new Date('2026-04-02T03:00:00Z');
  for (const resident of residents.slice(0, 3)) await pay(resident, 'm2', 20);
  f.clock.now = new Date('2026-04-03T03:00:00Z');
  for (const resident of residents.slice(0, 10)) await pay(resident, 'm1', 5);
  f.clock.now = new Date('2026-04-04T03:00:00Z');
}

/**
 * Gives the (cluster-wide) BI role LOGIN and a password, as a deployment does once, and returns
 * this test database's URL for it. Test files share the cluster, so all use the same password and
 * retry when another file alters the role at the same moment.
 */
export async function enableBiLogin(f: Fixture): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      await f.t.platform.db.query(`ALTER ROLE ${BI_ROLE} WITH LOGIN PASSWORD '${BI_PASSWORD}'`);
      break;
    } catch (error) {
      if (attempt >= 5 || !/concurrently updated/.test(String(error))) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const url = new URL(f.t.databaseUrl);
  url.username = BI_ROLE;
  url.password = BI_PASSWORD;
  return url.toString();
}

export const BI_PASSWORD = 'bi-test-password';
