/**
 * Picks the table a query reads. A daily view with a monthly rollup is answered from the rollup
 * when that gives the same figures: the query neither groups by day nor filters single days (its
 * day filters fall on month boundaries: `gte` a first day, `lte` a last day) and only sums. Sums
 * over whole months are then the same; minimums, maximums and averages are not (a monthly row sums
 * its days), so those stay on the daily table.
 */
import type { ChartDefinition, Filter } from './chart_definition.ts';
import type { AnalyticsView } from './views.ts';

export interface Source {
  table: string;
  filters: Filter[];
  /** True when the rollup answers the query. */
  rollup: boolean;
}

function isFirstOfMonth(day: string): boolean {
  return day.endsWith('-01');
}

function isLastOfMonth(day: string): boolean {
  const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000);
  return next.getUTCDate() === 1;
}

export function chooseSource(
  view: AnalyticsView,
  d: Pick<ChartDefinition, 'dimensions' | 'measures' | 'filters'>,
): Source {
  const daily = { table: view.table, filters: d.filters, rollup: false };
  if (!view.monthly || d.dimensions.includes('day')) return daily;
  if (d.measures.some((m) => m.aggregate !== 'sum')) return daily;
  const filters: Filter[] = [];
  for (const f of d.filters) {
    if (f.column !== 'day') {
      filters.push(f);
      continue;
    }
    const day = String(f.value);
    if (f.op === 'gte' && isFirstOfMonth(day)) filters.push({ column: 'month', op: 'gte', value: day });
    else if (f.op === 'lte' && isLastOfMonth(day))
      filters.push({ column: 'month', op: 'lte', value: `${day.slice(0, 8)}01` });
    else return daily;
  }
  return { table: view.monthly.table, filters, rollup: true };
}
