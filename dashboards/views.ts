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
  /**
   * A monthly rollup of this daily view: queries that neither group nor filter by single days (day
   * filters on month boundaries only) read `table`, whose `month` column replaces `day`.
   */
  monthly?: { table: string };
  /** The dimension holding a boundary area code (map charts join it to a boundary layer). */
  area?: string;
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
    monthly: { table: 'analytics.points_flow_monthly' },
  },
  {
    name: 'points_flow_monthly',
    table: 'analytics.points_flow_monthly',
    title: { ja: 'ポイントの発行・利用・失効（月別）', en: 'Points issued, used and expired per month' },
    dimensions: {
      month: 'date',
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
  {
    name: 'broker_entities_area',
    table: 'analytics.broker_entities_area',
    title: { ja: 'オープンデータ（地区別エンティティ数）', en: 'NGSIv2 entities per area' },
    dimensions: { layer: 'text', area: 'text', service: 'text', entity_type: 'text' },
    measures: { entities: 'number' },
    personal: false,
    area: 'area',
  },
  {
    name: 'visits_daily',
    table: 'analytics.visits_daily',
    title: { ja: '施設の利用（日別・地区・年齢層）', en: 'Facility visits per day, area and age band' },
    dimensions: { day: 'date', facility: 'text', facility_kind: 'text', area: 'text', age_band: 'text' },
    measures: { visitors: 'number', visits: 'number' },
    personal: true,
    individuals: 'visitors',
    area: 'area',
  },
];

export function findView(name: string): AnalyticsView | undefined {
  return VIEWS.find((v) => v.name === name);
}
