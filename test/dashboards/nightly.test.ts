/** The nightly refresh: at the first tick after midnight JST, the day that ended is aggregated. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dashboardsModule } from '../../dashboards/index.ts';
import { CURRENCY, type Fixture, seedPoints, startDashboards } from './fixtures.ts';

async function until<T>(fn: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('nightly refresh', () => {
  let f: Fixture;
  before(async () => {
    f = await startDashboards(
      dashboardsModule({
        tickMs: 20,
        refreshCurrencies: [CURRENCY, 'no-such-currency'],
        refreshBrokerServices: [''],
      }),
    );
    await seedPoints(f); // leaves the clock at 2026-04-04 12:00 JST
  });
  after(() => f.t.stop());

  it('after each midnight JST aggregates the days that ended, for every currency, despite one failing', async () => {
    // Seeding moved the clock from 04-01 to 04-04 JST, finishing each day before leaving it, so
    // every run saw whole days; which tick caught which days varies, the result does not.
    const db = f.t.platform.db;
    await until(async () => {
      const k = await db.query(`SELECT 1 FROM analytics.points_kpi_daily WHERE day = '2026-04-03'`);
      const b = await db.query(
        `SELECT 1 FROM core.audit_log WHERE action = 'dashboards.refresh' AND target = 'broker'`,
      );
      return k.rows.length > 0 && b.rows.length > 0 ? true : undefined;
    });
    const { rows } = await db.query<{ day: string; active_residents: number; payments: number }>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, active_residents, payments FROM analytics.points_kpi_daily ORDER BY day`,
    );
    assert.deepEqual(rows, [
      { day: '2026-04-01', active_residents: 12, payments: 12 },
      { day: '2026-04-02', active_residents: 3, payments: 3 },
      { day: '2026-04-03', active_residents: 10, payments: 10 },
    ]);
    const audit = await db.query<{ actor: string; target: string }>(
      `SELECT DISTINCT actor, target FROM core.audit_log WHERE action = 'dashboards.refresh' ORDER BY target`,
    );
    assert.deepEqual(audit.rows, [
      { actor: 'system:dashboards', target: 'broker' },
      { actor: 'system:dashboards', target: `currency:${CURRENCY}` },
    ]);
  });

  it('never aggregates the JST day still in progress', async () => {
    const { rows } = await f.t.platform.db.query(
      `SELECT 1 FROM analytics.points_kpi_daily WHERE day >= '2026-04-04'`,
    );
    assert.equal(rows.length, 0);
  });
});
