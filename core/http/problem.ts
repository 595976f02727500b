/**
 * RFC 9457 problem details. Each failure has a stable code; its `type` is `urn:tsunagu:problem:<code>`
 * and clients branch on that, never on the human-readable title or detail. `detail` is public text;
 * internal causes go to the log only, and a 5xx never carries them.
 *
 * @example
 *   throw new ProblemError('validation-failed', { detail: 'amount must be positive', errors });
 */

export interface ProblemDefinition {
  status: number;
  title: string;
}

/** The platform-wide codes. Modules add their own through `defineProblem`. */
const PROBLEMS = new Map<string, ProblemDefinition>([
  ['malformed-json', { status: 400, title: 'Request body is not valid JSON' }],
  ['body-too-large', { status: 413, title: 'Request body is too large' }],
  ['unsupported-media-type', { status: 415, title: 'Unsupported media type' }],
  ['validation-failed', { status: 400, title: 'Request failed validation' }],
  ['not-found', { status: 404, title: 'Not found' }],
  ['method-not-allowed', { status: 405, title: 'Method not allowed' }],
  ['unauthorized', { status: 401, title: 'Authentication required' }],
  ['invalid-token', { status: 401, title: 'Access token is invalid or expired' }],
  ['forbidden', { status: 403, title: 'Forbidden' }],
  ['insufficient-scope', { status: 403, title: 'Access token lacks a required scope' }],
  ['ip-not-allowed', { status: 403, title: 'Client address is not allowed' }],
  ['conflict', { status: 409, title: 'Conflict' }],
  ['idempotency-key-reused', { status: 422, title: 'Idempotency-Key was used with a different request' }],
  ['rate-limited', { status: 429, title: 'Too many requests' }],
  ['not-ready', { status: 503, title: 'Service not ready' }],
  ['database-unavailable', { status: 503, title: 'Database temporarily unavailable' }],
  ['internal', { status: 500, title: 'Internal server error' }],
]);

export function defineProblem(code: string, definition: ProblemDefinition): void {
  const existing = PROBLEMS.get(code);
  if (existing && (existing.status !== definition.status || existing.title !== definition.title)) {
    throw new Error(`problem code ${code} is already defined differently`);
  }
  PROBLEMS.set(code, definition);
}

export function problemType(code: string): string {
  return `urn:tsunagu:problem:${code}`;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code: string;
  [extension: string]: unknown;
}

export class ProblemError extends Error {
  override name = 'ProblemError';
  readonly code: string;
  readonly status: number;
  readonly title: string;
  readonly detail: string | undefined;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(
    code: string,
    options: {
      detail?: string;
      headers?: Record<string, string>;
      cause?: unknown;
      [ext: string]: unknown;
    } = {},
  ) {
    const definition = PROBLEMS.get(code);
    if (!definition) throw new Error(`unknown problem code ${code}`);
    const { detail, headers, cause, ...extensions } = options;
    super(detail ?? definition.title, cause === undefined ? undefined : { cause });
    this.code = code;
    this.status = definition.status;
    this.title = definition.title;
    this.detail = detail;
    this.extensions = extensions;
    this.headers = headers ?? {};
  }

  toBody(instance?: string): ProblemBody {
    return {
      type: problemType(this.code),
      title: this.title,
      status: this.status,
      ...(this.detail === undefined ? {} : { detail: this.detail }),
      ...(instance === undefined ? {} : { instance }),
      code: this.code,
      ...this.extensions,
    };
  }
}

export function listProblems(): Array<{ code: string; type: string } & ProblemDefinition> {
  return [...PROBLEMS].map(([code, d]) => ({ code, type: problemType(code), ...d }));
}
