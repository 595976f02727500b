/**
 * The profile fields a city asks for at sign-up (`SIGNUP_PROFILE_FIELDS`, comma-separated, a `?`
 * suffix makes a field optional; default `name,birthdate,postal_code`), their labels and checks.
 * The profile is keyed by e-mail and sealed at rest; these values are self-declared (lowest `acr`).
 */

export const CATEGORIES = ['resident', 'worker', 'student', 'visitor'] as const;
export type Category = (typeof CATEGORIES)[number];

export const CATEGORY_LABELS: Record<Category, [string, string]> = {
  resident: ['市内在住', 'Live in the city'],
  worker: ['市内在勤', 'Work in the city'],
  student: ['市内在学', 'Study in the city'],
  visitor: ['観光・来訪', 'Visitor'],
};

interface FieldSpec {
  label: [string, string];
  autocomplete: string;
  type: string;
  check(value: string, today: Date): boolean;
  normalise(value: string): string;
}

const nfkc = (v: string) => v.normalize('NFKC').trim();

export const KNOWN_FIELDS: Record<string, FieldSpec> = {
  name: {
    label: ['氏名', 'Name'],
    autocomplete: 'name',
    type: 'text',
    check: (v) => v.length >= 1 && v.length <= 100,
    normalise: (v) => v.trim().replace(/\s+/gu, ' '),
  },
  birthdate: {
    label: ['生年月日', 'Date of birth'],
    autocomplete: 'bday',
    type: 'date',
    check: (v, today) => {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
      const d = new Date(`${v}T00:00:00Z`);
      return (
        !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v && d <= today && v >= '1900-01-01'
      );
    },
    normalise: (v) => nfkc(v).replaceAll('/', '-'),
  },
  postal_code: {
    label: ['郵便番号', 'Postal code'],
    autocomplete: 'postal-code',
    type: 'text',
    check: (v) => /^\d{3}-\d{4}$/.test(v),
    normalise: (v) => {
      const digits = nfkc(v).replace(/[^0-9]/g, '');
      return digits.length === 7 ? `${digits.slice(0, 3)}-${digits.slice(3)}` : nfkc(v);
    },
  },
  address: {
    label: ['住所', 'Address'],
    autocomplete: 'street-address',
    type: 'text',
    check: (v) => v.length >= 1 && v.length <= 200,
    normalise: (v) => v.trim(),
  },
  phone: {
    label: ['電話番号', 'Phone'],
    autocomplete: 'tel',
    type: 'tel',
    check: (v) => /^[0-9-]{10,13}$/.test(v),
    normalise: (v) => nfkc(v).replace(/[^0-9-]/g, ''),
  },
};

export interface ProfileField {
  name: string;
  required: boolean;
  spec: FieldSpec;
}

export function profileFieldsFrom(setting: string | undefined): ProfileField[] {
  const fields = (setting ?? 'name,birthdate,postal_code')
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean)
    .map((f) => ({ name: f.replace(/\?$/, ''), required: !f.endsWith('?') }));
  return fields.map((f) => {
    const spec = KNOWN_FIELDS[f.name];
    if (!spec) throw new Error(`SIGNUP_PROFILE_FIELDS: unknown field ${f.name}`);
    return { ...f, spec };
  });
}

export type Profile = Record<string, string>;

/** Normalised profile, or the names of the fields that are missing or invalid. */
export function validateProfile(
  fields: ProfileField[],
  input: Record<string, unknown>,
  today: Date,
): { ok: true; profile: Profile } | { ok: false; invalid: string[] } {
  const profile: Profile = {};
  const invalid: string[] = [];
  for (const f of fields) {
    const raw = typeof input[f.name] === 'string' ? (input[f.name] as string) : '';
    const value = f.spec.normalise(raw);
    if (!value) {
      if (f.required) invalid.push(f.name);
      continue;
    }
    if (!f.spec.check(value, today)) invalid.push(f.name);
    else profile[f.name] = value;
  }
  return invalid.length > 0 ? { ok: false, invalid } : { ok: true, profile };
}

export function isCategory(value: unknown): value is Category {
  return typeof value === 'string' && (CATEGORIES as readonly string[]).includes(value);
}

/** Lower case, NFKC, trimmed; a plausible address or undefined. */
export function normaliseEmail(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const email = value.normalize('NFKC').trim().toLowerCase();
  return email.length <= 254 && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) ? email : undefined;
}
