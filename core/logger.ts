/**
 * Structured JSON logging (pino) that never writes personal data.
 *
 * Fields that may hold the basic 4 info or contact data are censored wherever they appear up to
 * three levels deep; modules still must not pass personal values to the logger at all.
 */
import { type Logger, pino } from 'pino';

export type { Logger };

/** Keys whose values are personal data (basic 4 info, contact data, identifiers, secrets). */
export const PERSONAL_FIELDS = [
  'name',
  'fullName',
  'kanaName',
  'address',
  'birthdate',
  'birthDate',
  'dateOfBirth',
  'gender',
  'sex',
  'email',
  'phone',
  'phoneNumber',
  'myNumber',
  'password',
  'authorization',
  'cookie',
  'token',
  'accessToken',
  'refreshToken',
  'idToken',
  'secret',
  'clientSecret',
] as const;

function redactPaths(): string[] {
  const paths: string[] = [];
  for (const field of PERSONAL_FIELDS) {
    paths.push(field, `*.${field}`, `*.*.${field}`, `*.*.*.${field}`);
  }
  return paths;
}

export interface LoggerOptions {
  level: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to inspect output. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'tsunagu' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactPaths(), censor: '[REDACTED]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}
