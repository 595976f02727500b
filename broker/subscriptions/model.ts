/**
 * Subscriptions as stored (`doc`) and their validation from a request body, following Orion's
 * field set and error texts.
 */
import { randomBytes } from 'node:crypto';
import { badRequest } from '../errors.ts';
import type { JsonValue } from '../model.ts';
import { parseGeoQuery } from '../query/geo.ts';
import { parseQuery } from '../query/simple_query.ts';
import { parseDate } from '../validate.ts';

export interface SubjectEntity {
  id?: string;
  idPattern?: string;
  type?: string;
  typePattern?: string;
}

export interface HttpCustom {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  qs?: Record<string, string>;
  payload?: string | null;
  json?: JsonValue;
  /** Attributes (normalized, `${…}` macros allowed) laid over the notified entity. */
  ngsi?: Record<string, JsonValue>;
  timeout?: number;
}

export interface SubscriptionDoc {
  description?: string;
  subject: {
    entities: SubjectEntity[];
    condition: {
      attrs: string[];
      expression?: { q?: string; mq?: string; georel?: string; geometry?: string; coords?: string };
      alterationTypes?: string[];
      notifyOnMetadataChange?: boolean;
    };
  };
  notification: {
    attrs?: string[];
    exceptAttrs?: string[];
    attrsFormat: string;
    metadata?: string[];
    onlyChangedAttrs: boolean;
    covered: boolean;
    http?: { url: string; timeout?: number };
    httpCustom?: HttpCustom;
    maxFailsLimit?: number;
  };
  expires?: string;
  throttling?: number;
  status: 'active' | 'inactive' | 'oneshot';
}

export const ATTRS_FORMATS = [
  'normalized',
  'keyValues',
  'values',
  'simplifiedNormalized',
  'simplifiedKeyValues',
  'legacy',
];
const ALTERATIONS = ['entityCreate', 'entityUpdate', 'entityChange', 'entityDelete'];

export function newSubscriptionId(): string {
  return randomBytes(12).toString('hex');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function stringArray(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw badRequest(`${what} must be an array of strings`);
  }
  return value as string[];
}

function checkUrl(raw: unknown): string {
  if (typeof raw !== 'string') throw badRequest('Invalid URL parsing notification url');
  let url: URL;
  try {
    url = new URL(raw.replace(/\$\{[^}]*\}/g, 'x'));
  } catch {
    throw badRequest('Invalid URL parsing notification url');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw badRequest('Invalid URL parsing notification url');
  return raw;
}

function parseSubject(raw: unknown): SubscriptionDoc['subject'] {
  if (!isObject(raw)) throw badRequest('no subject for subscription specified');
  if (!Array.isArray(raw['entities']) || raw['entities'].length === 0)
    throw badRequest('no subject entities specified');
  const entities = raw['entities'].map((e): SubjectEntity => {
    if (!isObject(e)) throw badRequest('subject entities must be objects');
    if (e['id'] === undefined && e['idPattern'] === undefined)
      throw badRequest('subject entities must have id or idPattern');
    if (e['id'] !== undefined && e['idPattern'] !== undefined)
      throw badRequest('Invalid JSON payload: id and idPattern in the same subject entity');
    const out: SubjectEntity = {};
    for (const k of ['id', 'idPattern', 'type', 'typePattern'] as const) {
      if (e[k] === undefined) continue;
      if (typeof e[k] !== 'string') throw badRequest(`Invalid JSON type for entity ${k}`);
      if (k.endsWith('Pattern')) {
        try {
          new RegExp(e[k] as string);
        } catch {
          throw badRequest(`Invalid regex for entity ${k}`);
        }
      }
      out[k] = e[k] as string;
    }
    return out;
  });
  const condition: SubscriptionDoc['subject']['condition'] = { attrs: [] };
  const c = raw['condition'];
  if (c !== undefined) {
    if (!isObject(c)) throw badRequest('condition must be an object');
    if (c['attrs'] !== undefined) condition.attrs = stringArray(c['attrs'], 'condition attrs');
    if (c['expression'] !== undefined) {
      if (!isObject(c['expression'])) throw badRequest('expression must be an object');
      const ex = c['expression'];
      condition.expression = {};
      if (typeof ex['q'] === 'string') {
        parseQuery(ex['q']);
        condition.expression.q = ex['q'];
      }
      const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
      if (parseGeoQuery(str(ex['georel']), str(ex['geometry']), str(ex['coords']))) {
        condition.expression.georel = ex['georel'] as string;
        condition.expression.geometry = ex['geometry'] as string;
        condition.expression.coords = ex['coords'] as string;
      }
      if (typeof ex['mq'] === 'string') {
        parseQuery(ex['mq'], true);
        condition.expression.mq = ex['mq'];
      }
    }
    if (c['alterationTypes'] !== undefined) {
      const types = stringArray(c['alterationTypes'], 'alterationTypes');
      for (const t of types) if (!ALTERATIONS.includes(t)) throw badRequest(`Unknown alterationType: ${t}`);
      condition.alterationTypes = types;
    }
    if (c['notifyOnMetadataChange'] !== undefined)
      condition.notifyOnMetadataChange = Boolean(c['notifyOnMetadataChange']);
  }
  return { entities, condition };
}

function parseNotification(raw: unknown): SubscriptionDoc['notification'] {
  if (!isObject(raw)) throw badRequest('no notification for subscription specified');
  const n: SubscriptionDoc['notification'] = {
    attrsFormat: 'normalized',
    onlyChangedAttrs: false,
    covered: false,
  };
  if (raw['http'] !== undefined && raw['httpCustom'] !== undefined)
    throw badRequest('http and httpCustom are mutually exclusive');
  if (isObject(raw['http'])) {
    n.http = { url: checkUrl(raw['http']['url']) };
    if (typeof raw['http']['timeout'] === 'number') n.http.timeout = raw['http']['timeout'];
  } else if (isObject(raw['httpCustom'])) {
    const h = raw['httpCustom'];
    const custom: HttpCustom = { url: checkUrl(h['url']) };
    if (h['method'] !== undefined) {
      if (
        typeof h['method'] !== 'string' ||
        !['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(h['method'].toUpperCase())
      ) {
        throw badRequest('Invalid HTTP method in httpCustom');
      }
      custom.method = h['method'].toUpperCase();
    }
    for (const k of ['headers', 'qs'] as const) {
      if (h[k] === undefined) continue;
      if (!isObject(h[k]) || !Object.values(h[k]).every((v) => typeof v === 'string'))
        throw badRequest(`httpCustom ${k} must be an object of strings`);
      custom[k] = h[k] as Record<string, string>;
    }
    if (h['payload'] !== undefined && h['json'] !== undefined)
      throw badRequest('payload and json fields cannot be used at the same time');
    if (h['payload'] !== undefined) {
      if (h['payload'] !== null && typeof h['payload'] !== 'string')
        throw badRequest('httpCustom payload must be a string');
      custom.payload = h['payload'] as string | null;
    }
    if (h['json'] !== undefined) {
      if (typeof h['json'] !== 'object' || h['json'] === null)
        throw badRequest('httpCustom json must be an object or array');
      custom.json = h['json'] as JsonValue;
    }
    if (h['ngsi'] !== undefined) {
      if (h['payload'] !== undefined || h['json'] !== undefined) {
        throw badRequest('ngsi, payload and json fields cannot be used at the same time');
      }
      if (!isObject(h['ngsi'])) throw badRequest('httpCustom ngsi must be an object');
      for (const [name, attr] of Object.entries(h['ngsi'])) {
        if (name !== 'id' && name !== 'type' && !isObject(attr))
          throw badRequest('httpCustom ngsi attributes must be objects');
      }
      custom.ngsi = h['ngsi'] as Record<string, JsonValue>;
    }
    if (typeof h['timeout'] === 'number') custom.timeout = h['timeout'];
    n.httpCustom = custom;
  } else {
    throw badRequest('http or httpCustom is missing');
  }
  if (raw['attrs'] !== undefined && raw['exceptAttrs'] !== undefined)
    throw badRequest('http notification has exceptAttrs and attrs');
  if (raw['attrs'] !== undefined) n.attrs = stringArray(raw['attrs'], 'notification attrs');
  if (raw['exceptAttrs'] !== undefined)
    n.exceptAttrs = stringArray(raw['exceptAttrs'], 'notification exceptAttrs');
  if (raw['metadata'] !== undefined) n.metadata = stringArray(raw['metadata'], 'notification metadata');
  if (raw['attrsFormat'] !== undefined) {
    if (typeof raw['attrsFormat'] !== 'string' || !ATTRS_FORMATS.includes(raw['attrsFormat'])) {
      throw badRequest('invalid attrsFormat, accepted values: legacy, normalized, keyValues, values');
    }
    n.attrsFormat = raw['attrsFormat'];
  }
  if (raw['onlyChangedAttrs'] !== undefined) n.onlyChangedAttrs = raw['onlyChangedAttrs'] === true;
  if (raw['covered'] !== undefined) n.covered = raw['covered'] === true;
  if (raw['maxFailsLimit'] !== undefined) {
    if (!Number.isInteger(raw['maxFailsLimit']) || (raw['maxFailsLimit'] as number) < 1)
      throw badRequest('maxFailsLimit must be a positive integer');
    n.maxFailsLimit = raw['maxFailsLimit'] as number;
  }
  return n;
}

function parseExpires(raw: unknown): string {
  const ms = typeof raw === 'string' ? parseDate(raw) : null;
  if (ms === null) throw badRequest('expires has an invalid format');
  return new Date(ms).toISOString();
}

function parseStatus(raw: unknown): SubscriptionDoc['status'] {
  if (raw !== 'active' && raw !== 'inactive' && raw !== 'oneshot') {
    throw badRequest('status is not valid: it has to be either active, inactive or oneshot');
  }
  return raw;
}

function parseThrottling(raw: unknown): number {
  if (typeof raw !== 'number' || raw < 0) throw badRequest('throttling must be a non-negative number');
  return raw;
}

export function parseSubscription(body: Record<string, unknown>): SubscriptionDoc {
  const doc: SubscriptionDoc = {
    subject: parseSubject(body['subject']),
    notification: parseNotification(body['notification']),
    status: body['status'] === undefined ? 'active' : parseStatus(body['status']),
  };
  if (body['description'] !== undefined) {
    if (typeof body['description'] !== 'string') throw badRequest('description must be a string');
    doc.description = body['description'];
  }
  if (body['expires'] !== undefined) doc.expires = parseExpires(body['expires']);
  if (body['throttling'] !== undefined) doc.throttling = parseThrottling(body['throttling']);
  return doc;
}

/** Applies a PATCH body: each top-level field present replaces the stored one. */
export function patchSubscription(doc: SubscriptionDoc, body: Record<string, unknown>): SubscriptionDoc {
  const next: SubscriptionDoc = structuredClone(doc);
  if (Object.keys(body).length === 0) throw badRequest('empty payload');
  for (const key of Object.keys(body)) {
    if (!['description', 'subject', 'notification', 'expires', 'throttling', 'status'].includes(key)) {
      throw badRequest(`unrecognized field in subscription: ${key}`);
    }
  }
  if (body['subject'] !== undefined) next.subject = parseSubject(body['subject']);
  if (body['notification'] !== undefined) next.notification = parseNotification(body['notification']);
  if (body['status'] !== undefined) next.status = parseStatus(body['status']);
  if (body['description'] !== undefined) next.description = String(body['description']);
  if (body['expires'] !== undefined) {
    if (body['expires'] === null || body['expires'] === '') delete next.expires;
    else next.expires = parseExpires(body['expires']);
  }
  if (body['throttling'] !== undefined) next.throttling = parseThrottling(body['throttling']);
  return next;
}
