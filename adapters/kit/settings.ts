/**
 * Reading an adapter's own environment variables (core's `SETTINGS` lists only the platform's).
 * Every adapter documents its variables in its README; bad values stop the start with the name.
 */
export type Env = Readonly<Record<string, string | undefined>>;

export function text(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

export function integer(env: Env, name: string, fallback: number, min = 0): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min)
    throw new Error(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

/** A rate `N:M`: N outside units give M points. */
export function rate(env: Env, name: string, fallback: string): { units: number; points: number } {
  const raw = text(env, name) ?? fallback;
  const m = /^([1-9][0-9]{0,8}):([1-9][0-9]{0,8})$/.exec(raw);
  if (!m) throw new Error(`${name} must look like N:M (N units give M points), got ${JSON.stringify(raw)}`);
  return { units: Number(m[1]), points: Number(m[2]) };
}
