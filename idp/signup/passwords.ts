/**
 * Residents' passwords: a strength policy, a breached-password check and scrypt hashing.
 *
 * The breached-password port answers "has this password appeared in a breach?" using the
 * k-anonymity range protocol of Have I Been Pwned (`GET {base}/range/{first 5 hex of SHA-1}` →
 * lines `SUFFIX:COUNT`): only the first five characters of the hash leave the platform.
 * `createRangeApiClient` speaks that protocol to a configured URL (`BREACHED_PASSWORDS_URL`);
 * `createLocalBreachList` answers from a list of SHA-1 hashes shipped with the deployment (the
 * default: a small list of the most common passwords, so no outside call is needed).
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

export const MIN_PASSWORD_LENGTH = 10;

export interface BreachedPasswords {
  /** How often the password was seen in breaches (0: never). */
  count(password: string): Promise<number>;
}

function sha1(password: string): string {
  return createHash('sha1').update(password, 'utf8').digest('hex').toUpperCase();
}

function countIn(lines: string, suffix: string): number {
  for (const line of lines.split(/\r?\n/)) {
    const [s, n] = line.trim().split(':');
    if (s?.toUpperCase() === suffix) return Number(n ?? 1) || 1;
  }
  return 0;
}

export function createRangeApiClient(options: { url: string; fetch?: typeof fetch }): BreachedPasswords {
  const get = options.fetch ?? fetch;
  return {
    async count(password) {
      const hash = sha1(password);
      const res = await get(`${options.url.replace(/\/$/, '')}/range/${hash.slice(0, 5)}`, {
        headers: { 'Add-Padding': 'true' },
      });
      if (!res.ok) throw new Error(`breached-password range API answered ${res.status}`);
      return countIn(await res.text(), hash.slice(5));
    },
  };
}

/** A list of `SHA1:COUNT` (or bare SHA-1) lines, like the range API's answers without the prefix split. */
export function createLocalBreachList(text: string): BreachedPasswords {
  const counts = new Map<string, number>();
  for (const line of text.split(/\r?\n/)) {
    const [hash, n] = line.trim().split(':');
    if (hash && /^[0-9A-Fa-f]{40}$/.test(hash)) counts.set(hash.toUpperCase(), Number(n ?? 1) || 1);
  }
  return { count: async (password) => counts.get(sha1(password)) ?? 0 };
}

/** The list shipped in `idp/signup/common_passwords.txt` (SHA-1 of the most common passwords). */
export function defaultBreachList(): BreachedPasswords {
  return createLocalBreachList(readFileSync(new URL('./common_passwords.txt', import.meta.url), 'utf8'));
}

export type PasswordProblem = 'TOO_SHORT' | 'TOO_SIMPLE' | 'CONTAINS_EMAIL' | 'BREACHED';

/** Length, variety and not the e-mail; then the breach list. */
export async function checkPassword(
  password: string,
  email: string,
  breached: BreachedPasswords,
): Promise<PasswordProblem | null> {
  if ([...password].length < MIN_PASSWORD_LENGTH) return 'TOO_SHORT';
  if (new Set(password).size < 5) return 'TOO_SIMPLE';
  const local = email.split('@')[0]?.toLowerCase() ?? '';
  if (local.length >= 4 && password.toLowerCase().includes(local)) return 'CONTAINS_EMAIL';
  if ((await breached.count(password)) > 0) return 'BREACHED';
  return null;
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password.normalize('NFKC'), salt, 32);
  return `scrypt$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  // A dummy hash keeps the timing the same when there is no password.
  const [scheme, salt, key] = (stored ?? 'scrypt$AAAAAAAAAAAAAAAAAAAAAA$').split('$');
  if (scheme !== 'scrypt' || salt === undefined || key === undefined) return false;
  const derived = await scryptAsync(password.normalize('NFKC'), Buffer.from(salt, 'base64url'), 32);
  const expected = Buffer.from(key, 'base64url');
  return stored !== null && expected.length === derived.length && timingSafeEqual(expected, derived);
}
