/**
 * The port through which facility visits reach the analytics schema. The card-reader adapter
 * (`adapters/card_readers`, being built) records card touches per facility; it implements this
 * port and publishes it as `services.adapters.adapters.card_readers` (the adapters module's
 * per-adapter services), or a deployment passes an implementation to `dashboardsModule({ visits })`.
 * Until one exists, `visits_daily` stays empty and the refresh says so.
 *
 * Only aggregates cross the port: no card identifier, no resident, no time of day. `visitors`
 * counts distinct residents behind the row, which small-cell suppression checks before publishing.
 *
 * @example
 *   const visits: VisitsSource = {
 *     async visitsPerDay(day) {
 *       return [{ facility: 'library-central', facilityKind: 'library', area: '3820101', ageBand: '30-39', visitors: 41, visits: 57 }];
 *     },
 *   };
 */
export interface VisitsRow {
  /** Facility identifier (the NGSIv2 entity id when the facility is published as open data). */
  facility: string;
  /** nursery, library, bus, gym, hall, shelter, … */
  facilityKind: string;
  /** Area code of the resident's home (a boundary layer's area), '' when unknown. */
  area: string;
  /** Age band such as '0-9', '10-19', …, '80+'; '' when unknown. */
  ageBand: string;
  /** Distinct residents. */
  visitors: number;
  /** Touches counted as visits. */
  visits: number;
}

export interface VisitsSource {
  /** Visits on one JST day (YYYY-MM-DD), aggregated per facility, area and age band. */
  visitsPerDay(day: string): Promise<VisitsRow[]>;
}

/** The age bands the platform uses, in order (ten-year bands; 80 and over together). */
export const AGE_BANDS = [
  '0-9',
  '10-19',
  '20-29',
  '30-39',
  '40-49',
  '50-59',
  '60-69',
  '70-79',
  '80+',
] as const;

/** Finds the visits source: an explicit one, else the card-reader adapter's services. */
export function findVisitsSource(
  explicit: VisitsSource | undefined,
  services: Readonly<Record<string, unknown>>,
): VisitsSource | undefined {
  if (explicit) return explicit;
  const adapters = services['adapters'] as { adapters?: Record<string, unknown> } | undefined;
  const candidate = adapters?.adapters?.['card_readers'] as Partial<VisitsSource> | undefined;
  return typeof candidate?.visitsPerDay === 'function' ? (candidate as VisitsSource) : undefined;
}
