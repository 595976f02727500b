/** Monthly KPI targets per currency (the operator dashboard's tiles show progress against them); changes are audited. */
import type { AuditLog, Database } from '../core/index.ts';
import type { KpiName } from './operator_page.ts';

export interface KpiTarget {
  currency: string;
  kpi: KpiName;
  /** YYYY-MM */
  month: string;
  target: number;
}

export function createKpiTargets({ db, audit }: { db: Database; audit: AuditLog }) {
  return {
    async put(input: KpiTarget, actor: string): Promise<KpiTarget> {
      await db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO analytics.kpi_target (currency, kpi, month, target) VALUES ($1, $2, ($3 || '-01')::date, $4)
           ON CONFLICT (currency, kpi, month) DO UPDATE SET target = EXCLUDED.target`,
          [input.currency, input.kpi, input.month, input.target],
        );
        await audit.recordInTransaction(tx, {
          actor,
          action: 'dashboards.target.put',
          target: `currency:${input.currency}`,
          details: { kpi: input.kpi, month: input.month, target: input.target },
        });
      });
      return input;
    },
    async list(currency: string): Promise<KpiTarget[]> {
      const { rows } = await db.query<KpiTarget>(
        `SELECT currency, kpi, to_char(month, 'YYYY-MM') AS month, target::float8 AS target
           FROM analytics.kpi_target WHERE currency = $1 ORDER BY month, kpi`,
        [currency],
      );
      return rows;
    },
  };
}

export type KpiTargets = ReturnType<typeof createKpiTargets>;
