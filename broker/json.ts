/**
 * JSON parsing that keeps integers beyond 2^53 exact, as Orion does: such numbers become raw JSON
 * numbers (`JSON.rawJSON`), which `JSON.stringify` writes back digit for digit and PostgreSQL stores
 * as exact `numeric` inside jsonb.
 */

interface RawJsonApi {
  rawJSON(text: string): unknown;
  isRawJSON(value: unknown): boolean;
}

const RAW = JSON as unknown as RawJsonApi;

export function parseJson(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown, context?: { source?: string }) => {
    if (typeof value === 'number' && !Number.isSafeInteger(value) && /^-?\d+$/.test(context?.source ?? '')) {
      return RAW.rawJSON(context!.source!);
    }
    return value;
  });
}

/** True for a number kept exact by `parseJson`. */
export function isRawNumber(value: unknown): boolean {
  return RAW.isRawJSON(value);
}

/** The numeric value of a number, exact or raw (raw ones rounded to the nearest double). */
export function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (isRawNumber(value)) return Number((value as { rawJSON: string }).rawJSON);
  return undefined;
}
