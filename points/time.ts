/** Japan Standard Time helpers: expiry and reporting days are JST days (UTC+9, no daylight saving). */
const JST_OFFSET_MS = 9 * 3600_000;

/** The JST calendar date of an instant, as `YYYY-MM-DD`. */
export function jstDate(at: Date): string {
  return new Date(at.getTime() + JST_OFFSET_MS).toISOString().slice(0, 10);
}

/** Midnight JST at the end of the JST day that lies `days` days after `at`'s JST day. */
export function jstMidnightAfter(at: Date, days: number): Date {
  const jst = new Date(at.getTime() + JST_OFFSET_MS);
  const midnight = Date.UTC(jst.getUTCFullYear(), jst.getUTCMonth(), jst.getUTCDate() + days + 1);
  return new Date(midnight - JST_OFFSET_MS);
}
