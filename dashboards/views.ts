/**
 * The analytics views analysts build charts on. Each names its table in the `analytics` schema, its
 * dimensions and measures, and — for views over personal data — the column counting the
 * individuals behind a row, which small-cell suppression checks before a figure is published.
 * Identifiers in generated SQL come only from this catalogue, never from a request.
 */
export type ColumnType = 'date' | 'text' | 'number';

export interface AnalyticsView {
  name: string;
  table: string;
  title: { ja: string; en: string };
  dimensions: Record<string, ColumnType>;
  measures: Record<string, 'number'>;
  /** True when rows derive from residents' activity. */
  personal: boolean;
  /** The measure counting distinct individuals behind a row; publishing needs it for personal views. */
  individuals?: string;
}

export const VIEWS: readonly AnalyticsView[] = [
  {
    name: 'points_flow_daily',
    table: 'analytics.points_flow_daily',
    title: { ja: 'ポイントの発行・利用・失効（日別）', en: 'Points issued, used and expired per day' },
    dimensions: {
      day: 'date',
      currency: 'text',
      point_type: 'text',
      issuer: 'text',
      flow: 'text',
      merchant: 'text',
      place: 'text',
    },
    measures: { amount: 'number' },
    personal: true,
  },
  {
    name: 'points_kpi_daily',
    table: 'analytics.points_kpi_daily',
    title: { ja: 'ポイントKPI（日別）', en: 'Points KPIs per day' },
    dimensions: { day: 'date', currency: 'text' },
    measures: {
      active_residents: 'number',
      active_merchants: 'number',
      payments: 'number',
      issued: 'number',
      used: 'number',
      expired: 'number',
    },
    personal: true,
    individuals: 'active_residents',
  },
  {
    name: 'broker_entity_types',
    table: 'analytics.broker_entity_types',
    title: { ja: 'オープンデータ（NGSIエンティティ数）', en: 'NGSIv2 entities per type' },
    dimensions: { service: 'text', entity_type: 'text' },
    measures: { entities: 'number' },
    personal: false,
  },
];

export function findView(name: string): AnalyticsView | undefined {
  return VIEWS.find((v) => v.name === name);
}
