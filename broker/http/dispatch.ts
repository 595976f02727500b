/**
 * The broker's routes at a glance, and the steps every request passes, in Orion's order:
 *
 *   correlator      Fiware-Correlator echoed, or a new UUID
 *   route           unknown path → 400 "Service not found…", known path, other method → 405 + Allow
 *   URI checks      forbidden characters, empty parameter values
 *   length          POST/PUT/PATCH without a body → 411; body over the limit → 413
 *   media type      body without Content-Type or not JSON/text → 415
 *   tenant          Fiware-Service (multi-service only)
 *   handler         Orion-style `{"error","description"}` on every failure
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../core/index.ts';
import type { BrokerContext } from '../entity_ops.ts';
import { badRequest, methodNotAllowed, OrionError, serviceNotFound } from '../errors.ts';
import * as batch from '../routes/batch.ts';
import * as entities from '../routes/entities.ts';
import * as registrations from '../routes/registrations.ts';
import * as subscriptions from '../routes/subscriptions.ts';
import * as types from '../routes/types.ts';
import type { SubscriptionService } from '../subscriptions/service.ts';
import { tenantOf } from '../tenancy.ts';
import type { BrokerReply, BrokerRequest } from './request.ts';
import { versionReply } from './version.ts';

export interface Engine extends BrokerContext {
  subscriptions: SubscriptionService;
  registrations: registrations.RegistrationStore;
  startedAt: number;
  multiservice: boolean;
  maxBodyBytes: number;
  logger: Logger;
  /** Records administrative changes (subscriptions, registrations) in the platform's audit log. */
  audit?: (entry: { action: string; target: string; details: Record<string, unknown> }) => Promise<void>;
}

type Handler = (engine: Engine, req: BrokerRequest, params: string[]) => Promise<BrokerReply>;

const ID = '([^/]+)';
const on = (pattern: string) => new RegExp(`^${pattern}$`);

// biome-ignore format: the route table reads best aligned
const ROUTES: Array<[RegExp, Partial<Record<string, Handler>>]> = [
  [on('/version'), { GET: async (e) => versionReply(e.startedAt) }],
  [on('/v2'), { GET: async () => ({ status: 200, json: ENTRY_POINTS }) }],
  [on('/v2/entities'), { GET: entities.listEntities, POST: entities.createEntity }],
  [on(`/v2/entities/${ID}`), { GET: entities.getEntity, DELETE: entities.deleteEntity }],
  [
    on(`/v2/entities/${ID}/attrs`),
    {
      GET: entities.getEntityAttrs,
      POST: entities.appendAttrs,
      PATCH: entities.updateAttrs,
      PUT: entities.replaceAttrs,
    },
  ],
  [
    on(`/v2/entities/${ID}/attrs/${ID}`),
    { GET: entities.getAttr, PUT: entities.putAttr, DELETE: entities.deleteAttr },
  ],
  [on(`/v2/entities/${ID}/attrs/${ID}/value`), { GET: entities.getAttrValue, PUT: entities.putAttrValue }],
  [on('/v2/types'), { GET: types.listTypes }],
  [on(`/v2/types/${ID}`), { GET: types.getType }],
  [on('/v2/op/update'), { POST: batch.batchUpdate }],
  [on('/v2/op/notify'), { POST: batch.notify }],
  [on('/v2/op/query'), { POST: batch.batchQuery }],
  [
    on('/v2/subscriptions'),
    {
      GET: (e, r) => subscriptions.listSubscriptions(e.subscriptions, r),
      POST: (e, r) => subscriptions.createSubscription(e.subscriptions, r),
    },
  ],
  [
    on(`/v2/subscriptions/${ID}`),
    {
      GET: (e, r, p) => subscriptions.getSubscription(e.subscriptions, r, p),
      PATCH: (e, r, p) => subscriptions.patchSubscription(e.subscriptions, r, p),
      DELETE: (e, r, p) => subscriptions.deleteSubscription(e.subscriptions, r, p),
    },
  ],
  [
    on('/v2/registrations'),
    {
      GET: (e, r) => registrations.listRegistrations(e.registrations, r),
      POST: (e, r) => registrations.createRegistration(e.registrations, r),
    },
  ],
  [
    on(`/v2/registrations/${ID}`),
    {
      GET: (e, r, p) => registrations.getRegistration(e.registrations, r, p),
      DELETE: (e, r, p) => registrations.deleteRegistration(e.registrations, r, p),
    },
  ],
];

const ENTRY_POINTS = {
  entities_url: '/v2/entities',
  types_url: '/v2/types',
  subscriptions_url: '/v2/subscriptions',
  registrations_url: '/v2/registrations',
};

const FORBIDDEN = /[<>"'=;()]/;
const UNCHECKED_PARAMS = new Set(['q', 'mq', 'idPattern', 'typePattern', 'georel', 'geometry', 'coords']);

/** A request as it arrives: method, URL (path and query), lower-case headers, body. */
export interface RawRequest {
  method: string;
  url: string;
  headers: Record<string, string | undefined>;
  body: Buffer | undefined;
  /** Declared Content-Length, when the body was not read because it is too large. */
  declaredLength?: number;
}

export interface RawReply {
  status: number;
  headers: Array<[string, string]>;
  body: Buffer | undefined;
}

function route(path: string, method: string): { handler: Handler; params: string[] } {
  for (const [pattern, methods] of ROUTES) {
    const m = pattern.exec(path);
    if (!m) continue;
    const handler = methods[method];
    if (!handler) throw methodNotAllowed(Object.keys(methods));
    return { handler, params: m.slice(1) };
  }
  throw serviceNotFound();
}

function checkUri(path: string, query: URLSearchParams): void {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    throw badRequest('invalid character in URI');
  }
  if (FORBIDDEN.test(decoded)) throw badRequest('invalid character in URI');
  for (const [name, value] of query) {
    if (value === '') throw badRequest(`Empty right-hand-side for URI param /${name}/`);
    if (!UNCHECKED_PARAMS.has(name) && (FORBIDDEN.test(name) || FORBIDDEN.test(value))) {
      throw badRequest('invalid character in URI parameter');
    }
  }
}

/** Orion produces JSON, and text for attribute values; an Accept naming neither is refused. */
function checkAccept(path: string, accept: string | undefined): void {
  if (accept === undefined) return;
  const ranges = accept
    .split(',')
    .map((r) => r.split(';')[0]!.trim().toLowerCase())
    .filter((r) => ['*/*', 'application/*', 'application/json', 'text/*', 'text/plain'].includes(r));
  if (ranges.length === 0) {
    throw new OrionError(406, 'NotAcceptable', 'no acceptable mime-type in accept header');
  }
  const json = ranges.some((r) => r === '*/*' || r.startsWith('application/'));
  if (!json && !path.endsWith('/value')) {
    throw new OrionError(406, 'NotAcceptable', 'accepted MIME types: application/json');
  }
}

function reply(correlator: string, r: BrokerReply): RawReply {
  const headers: Array<[string, string]> = [['Fiware-Correlator', correlator]];
  for (const name of ['Location', 'Fiware-Total-Count', 'Allow']) {
    const value = r.headers?.[name];
    if (value !== undefined) headers.push([name, value]);
  }
  let body: Buffer | undefined;
  if (r.text !== undefined) {
    body = Buffer.from(r.text);
    headers.push(['Content-Type', 'text/plain']);
  } else if (r.json !== undefined || r.rawJson !== undefined) {
    body = Buffer.from(r.rawJson ?? JSON.stringify(r.json));
    headers.push(['Content-Type', 'application/json']);
  }
  if (body !== undefined || r.status === 201) headers.push(['Content-Length', String(body?.length ?? 0)]);
  return { status: r.status, headers, body };
}

const AUDITED: Record<string, string> = { POST: 'create', PATCH: 'update', DELETE: 'delete' };

/** Subscriptions and registrations are administrative state: each change leaves an audit entry. */
async function auditChange(
  engine: Engine,
  req: BrokerRequest,
  params: string[],
  result: BrokerReply,
): Promise<void> {
  const kind = /^\/v2\/(subscriptions|registrations)/.exec(req.path)?.[1];
  const verb = AUDITED[req.method];
  if (!engine.audit || !kind || !verb || result.status >= 300) return;
  const id = params[0] ?? result.headers?.['Location']?.split('/').pop() ?? '';
  await engine.audit({
    action: `broker.${kind === 'subscriptions' ? 'subscription' : 'registration'}.${verb}`,
    target: `${kind === 'subscriptions' ? 'subscription' : 'registration'}:${id}`,
    details: { tenant: req.tenant },
  });
}

export async function dispatch(engine: Engine, raw: RawRequest): Promise<RawReply> {
  const correlator = raw.headers['fiware-correlator'] || randomUUID();
  try {
    const q = raw.url.indexOf('?');
    let path = q < 0 ? raw.url : raw.url.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : raw.url.slice(q + 1));
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
    const { handler, params } = route(path, raw.method);
    checkUri(path, query);
    checkAccept(path, raw.headers['accept']);
    const hasBodyMethod = raw.method === 'POST' || raw.method === 'PUT' || raw.method === 'PATCH';
    const length = raw.declaredLength ?? raw.body?.length ?? 0;
    if (hasBodyMethod && length === 0) {
      throw new OrionError(411, 'ContentLengthRequired', 'Zero/No Content-Length in PUT/POST/PATCH request');
    }
    if (length > engine.maxBodyBytes) {
      throw new OrionError(
        413,
        'RequestEntityTooLarge',
        `payload size: ${length}, max size supported: ${engine.maxBodyBytes}`,
      );
    }
    const rawType = raw.headers['content-type'];
    const contentType = rawType?.split(';')[0]?.trim().toLowerCase();
    if (length > 0) {
      if (!contentType) {
        throw new OrionError(
          415,
          'UnsupportedMediaType',
          'Content-Type header not used, default application/octet-stream is not supported',
        );
      }
      if (contentType !== 'application/json' && contentType !== 'text/plain') {
        throw new OrionError(415, 'UnsupportedMediaType', `not supported content type: ${contentType}`);
      }
    }
    const req: BrokerRequest = {
      method: raw.method,
      path,
      query,
      headers: raw.headers,
      body: raw.body,
      contentType,
      tenant: tenantOf(raw.headers['fiware-service'], engine.multiservice),
      correlator,
    };
    const result = await handler(engine, req, params);
    await auditChange(engine, req, params, result);
    return reply(correlator, result);
  } catch (error) {
    if (error instanceof OrionError) {
      return reply(correlator, { status: error.status, headers: error.headers, json: error.toJSON() });
    }
    engine.logger.error({ err: error, correlator }, 'broker: request failed');
    return reply(correlator, {
      status: 500,
      json: { error: 'InternalServerError', description: 'internal error' },
    });
  }
}
