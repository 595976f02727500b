/**
 * The Express 5 application every module's routers are mounted on. The pipeline, in order:
 *
 *   observe           X-Request-Id in and out (generated when absent or malformed); on finish, the
 *                     metrics hook (duration per route pattern and status) and the access log line
 *   security headers  helmet (CSP, HSTS behind https, no sniffing, frame denial)
 *   CORS              only the origins in CORS_ORIGINS
 *   rate limit        per client: the bearer token when present, else the client address
 *   body parsers      JSON (limit BODY_LIMIT) and URL-encoded forms, for requests that have a body
 *   [module routers]  mounted by `mount()`
 *   405 / 404         method not allowed (with Allow) or unknown route
 *   errors            RFC 9457 problem+json; 5xx details go to the log only
 */
import { createHash, randomUUID } from 'node:crypto';
import cors from 'cors';
import express, { type ErrorRequestHandler, type Express, type RequestHandler, type Router } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import helmet from 'helmet';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { ProblemError } from './problem.ts';
import { fixedWindowRateLimit } from './rate_limit.ts';
import { RouteRegistry } from './routes.ts';

declare module 'express-serve-static-core' {
  interface Request {
    id: string;
  }
}

export interface HttpApp {
  app: Express;
  registry: RouteRegistry;
  /**
   * Mounts a router under a prefix, before the 404/405 and error handlers. With `parseBody: false`
   * the platform's JSON and form parsers leave requests under the prefix untouched; with
   * `rateLimit: false` the per-client rate limit does not apply to them.
   */
  mount(
    prefix: string,
    router: Router | RequestHandler,
    options?: { parseBody?: boolean; rateLimit?: boolean },
  ): void;
  /** Installs the 404/405 and error handlers; call once, after every mount. */
  seal(): void;
}

const REQUEST_ID = /^[A-Za-z0-9\-_.:]{1,128}$/;

/** What the platform learns when a response has been sent (metrics); one listener per request. */
export type OnFinish = (req: express.Request, res: express.Response, seconds: number) => void;

/**
 * Request id in and out, then one `finish` listener for the access log and the metrics hook:
 * the per-request bookkeeping every response pays, kept to one closure.
 */
function observe(logger: Logger, onFinish: OnFinish | undefined): RequestHandler {
  return (req, res, next) => {
    const incoming = req.headers['x-request-id'];
    req.id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', req.id);
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      onFinish?.(req, res, seconds);
      // Only failures are logged at the default level; skip building the line when it would be dropped.
      if (res.statusCode < 500 && !logger.isLevelEnabled('debug')) return;
      const line = {
        reqId: req.id,
        method: req.method,
        path: req.path,
        status: res.statusCode,
        ms: Math.round(seconds * 1e4) / 10,
      };
      if (res.statusCode >= 500) logger.error(line, 'request');
      else logger.debug(line, 'request');
    });
    next();
  };
}

function rateLimitKey(req: express.Request): string {
  const auth = req.get('authorization');
  if (auth) return `t:${createHash('sha256').update(auth).digest('base64url').slice(0, 22)}`;
  // IPv6 clients are keyed by their /56, so rotating addresses within one allocation does not evade the limit.
  return `ip:${ipKeyGenerator(req.ip ?? 'unknown')}`;
}

function sendProblem(res: express.Response, error: ProblemError, instance: string): void {
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  res
    .status(error.status)
    .type('application/problem+json')
    .send(JSON.stringify(error.toBody(instance)));
}

/** SQLSTATE classes and socket errors that mean the server is down or restarting, not a bad request. */
function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  if (typeof e?.code === 'string') {
    if (/^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT)$/.test(e.code)) return true;
    // 08: connection exception; 57P01–57P03: admin shutdown, crash shutdown, cannot connect now.
    if (/^08/.test(e.code) || /^57P0[123]$/.test(e.code)) return true;
  }
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(
    e?.message ?? '',
  );
}

/** Translates body-parser and other library errors into the stable problem codes. */
function toProblem(error: unknown): ProblemError {
  if (error instanceof ProblemError) return error;
  const e = error as { type?: string; status?: number; message?: string };
  switch (e.type) {
    case 'entity.parse.failed':
      return new ProblemError('malformed-json', { detail: 'The body could not be parsed as JSON.' });
    case 'entity.too.large':
      return new ProblemError('body-too-large', { detail: 'The body exceeds the size limit.' });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ProblemError('unsupported-media-type', { detail: e.message ?? 'unsupported encoding' });
  }
  // Library errors that carry their own client status (http-errors: serve-static, raw-body, …).
  if (e.status === 404) return new ProblemError('not-found', { detail: 'Not found.' });
  if (e.status === 403) return new ProblemError('forbidden', { detail: 'Forbidden.' });
  if (e.status === 405) return new ProblemError('method-not-allowed', { detail: 'Method not allowed.' });
  if (isDatabaseUnavailable(error)) {
    // Nothing was committed; the pool reconnects on its own once the server is back.
    return new ProblemError('database-unavailable', { headers: { 'Retry-After': '5' }, cause: error });
  }
  return new ProblemError('internal', { cause: error });
}

export function createHttpApp(
  config: Config,
  logger: Logger,
  options: { onFinish?: OnFinish } = {},
): HttpApp {
  const app = express();
  const registry = new RouteRegistry();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustedProxies.length > 0 ? config.trustedProxies : false);
  app.set('query parser', 'extended');

  app.use(observe(logger, options.onFinish));
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          'default-src': ["'self'"],
          'img-src': ["'self'", 'data:', 'https:'],
          'script-src': ["'self'"],
          'style-src': ["'self'", "'unsafe-inline'"],
          'form-action': ["'self'", 'http:', 'https:'],
          'upgrade-insecure-requests': config.publicUrl.startsWith('https://') ? [] : null,
        },
      },
      strictTransportSecurity: config.publicUrl.startsWith('https://'),
    }),
  );
  app.use(
    cors({
      origin: config.corsOrigins.length > 0 ? config.corsOrigins : false,
      exposedHeaders: ['X-Request-Id', 'Location', 'RateLimit', 'RateLimit-Policy', 'Retry-After'],
      maxAge: 600,
    }),
  );
  // Routers mounted with `rateLimit: false` (the NGSIv2 broker, which Orion clients expect unthrottled)
  // skip the per-client limit.
  const unlimitedPrefixes: string[] = [];
  const under = (prefixes: string[], path: string) =>
    prefixes.some((p) => path === p || path.startsWith(`${p}/`));
  app.use(
    fixedWindowRateLimit({
      windowMs: 60_000,
      limit: config.rateLimitPerMinute,
      key: rateLimitKey,
      skip: (req) => req.path === '/healthz' || req.path === '/readyz' || under(unlimitedPrefixes, req.path),
    }),
  );
  // Routers mounted with `parseBody: false` (the OpenID provider, the NGSIv2 broker) read bodies themselves.
  const rawPrefixes: string[] = [];
  const isRaw = (path: string) => under(rawPrefixes, path);
  const json = express.json({ limit: config.bodyLimit, strict: true });
  const form = express.urlencoded({ limit: config.bodyLimit, extended: false });
  // Most requests carry no body (GET, HEAD, DELETE): they skip both parsers without entering them.
  const hasBody = (req: express.Request) =>
    req.headers['transfer-encoding'] !== undefined ||
    (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
  app.use((req, res, next) => {
    if (!hasBody(req) || isRaw(req.path)) return next();
    json(req, res, (error?: unknown) => (error ? next(error) : form(req, res, next)));
  });

  let sealed = false;
  const groups = new Map<string, Router>();
  return {
    app,
    registry,
    mount(prefix, router, options = {}) {
      if (sealed) throw new Error('cannot mount after seal()');
      if (options.parseBody === false) rawPrefixes.push(prefix);
      if (options.rateLimit === false) unlimitedPrefixes.push(prefix);
      // Routers are grouped by their first path segment, so a request walks the few groups and then
      // only its own group's routers instead of every router of every module. A router mounted at the
      // root closes the open groups: later routers go into new groups after it, keeping mount order.
      const [, first, rest] = /^(\/[^/]+)(\/.*)?$/.exec(prefix) ?? [];
      if (!first) {
        groups.clear();
        app.use(prefix || '/', router);
        return;
      }
      let group = groups.get(first);
      if (!group) {
        group = express.Router();
        groups.set(first, group);
        app.use(first, group);
      }
      if (rest) group.use(rest, router);
      else group.use(router);
    },
    seal() {
      if (sealed) return;
      sealed = true;
      app.use((req, _res, next) => {
        const allowed = registry.allowedMethods(req.path);
        if (allowed.length > 0 && !allowed.includes(req.method)) {
          return next(
            new ProblemError('method-not-allowed', {
              detail: `${req.method} is not allowed on ${req.path}.`,
              headers: { Allow: allowed.join(', ') },
            }),
          );
        }
        next(new ProblemError('not-found', { detail: `No route for ${req.method} ${req.path}.` }));
      });
      const onError: ErrorRequestHandler = (error, req, res, _next) => {
        const problem = toProblem(error);
        if (problem.status >= 500) {
          logger.error({ reqId: req.id, err: problem.cause ?? error }, 'request failed');
        }
        if (res.headersSent) return res.end();
        sendProblem(res, problem, req.originalUrl.split('?')[0] ?? req.path);
      };
      app.use(onError);
    },
  };
}
