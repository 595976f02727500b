/**
 * Batch operations: `POST /v2/op/update` (append, appendStrict, update, delete, replace) applied
 * entity by entity like Orion (each entity atomically; failures reported together as 404 or 422
 * `PartialUpdate`), and `POST /v2/op/query`.
 */

import {
  applyAttrs,
  type BrokerContext,
  entityRef,
  insertEntity,
  type Mode,
  mutate,
  newEntity,
  refreshDerived,
} from '../entity_ops.ts';
import { badRequest, OrionError } from '../errors.ts';
import {
  type BrokerReply,
  type BrokerRequest,
  format,
  integerParam,
  jsonBody,
  list,
  noContent,
  options,
} from '../http/request.ts';
import { parseGeoQuery } from '../query/geo.ts';
import { parseQuery } from '../query/simple_query.ts';
import { renderEntities } from '../render.ts';
import type { Selector } from '../store.ts';
import { queryScopes, updatePath } from '../tenancy.ts';
import { asObject, checkIdentifier, type InputAttr, parseAttrs } from '../validate.ts';
import { parseOrderBy } from './entities.ts';

const ACTIONS: Record<string, Mode | 'delete'> = {
  append: 'append',
  appendStrict: 'appendStrict',
  update: 'update',
  delete: 'delete',
  replace: 'replace',
  APPEND: 'append',
  APPEND_STRICT: 'appendStrict',
  UPDATE: 'update',
  DELETE: 'delete',
  REPLACE: 'replace',
};

interface Item {
  id: string;
  type: string | undefined;
  attrs: Map<string, InputAttr>;
}

export async function batchUpdate(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerReply> {
  const opts = options(req);
  const body = asObject(jsonBody(req));
  const action = ACTIONS[String(body['actionType'])];
  if (body['actionType'] === undefined) throw badRequest('Invalid JSON payload: actionType missing');
  if (!action) {
    throw badRequest(
      'invalid update action type: right ones are: append, appendStrict, delete, replace, update',
    );
  }
  const raw = body['entities'];
  if (!Array.isArray(raw)) throw badRequest('Invalid JSON payload: /entities/ must be a JSON array');
  if (raw.length === 0) throw badRequest('empty entities vector');
  return applyBatch(ctx, req, action, raw, opts);
}

/**
 * `POST /v2/op/notify`: a notification payload (as another broker sends it) applied like
 * `op/update` with `append`.
 */
export async function notify(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerReply> {
  const opts = options(req);
  if (opts.has('keyValues')) throw badRequest('Invalid value for URI param /options/');
  const body = asObject(jsonBody(req));
  if (typeof body['subscriptionId'] !== 'string') throw badRequest('/subscriptionId/ must be a JSON String');
  if (!Array.isArray(body['data'])) throw badRequest('/data/ must be a JSON Array');
  if (body['data'].length === 0) throw badRequest('empty entities vector');
  return applyBatch(ctx, req, 'append', body['data'], opts);
}

async function applyBatch(
  ctx: BrokerContext,
  req: BrokerRequest,
  action: Mode | 'delete',
  raw: unknown[],
  opts: Set<string>,
): Promise<BrokerReply> {
  // Validate every entity before applying any, so a malformed item changes nothing.
  const items: Item[] = raw.map((e) => {
    const o = asObject(e);
    if ('idPattern' in o)
      throw new OrionError(501, 'NotImplemented', 'idPattern is not supported in update operations');
    if (o['id'] === undefined) throw badRequest('entity id length: 0, min length supported: 1');
    return {
      id: checkIdentifier('entity id', o['id']),
      type: o['type'] === undefined ? undefined : checkIdentifier('entity type', o['type']),
      attrs: parseAttrs(o, opts.has('keyValues')),
    };
  });
  const servicePath = updatePath(req.headers['fiware-servicepath']);
  const now = ctx.now().getTime();
  const failures: string[] = [];
  let notFound = 0;
  for (const item of items) {
    const ref = entityRef({ id: item.id, type: item.type ?? 'Thing' });
    const k = { tenant: req.tenant, id: item.id, type: item.type, servicePath };
    try {
      if (action === 'append' || action === 'appendStrict') {
        const created = newEntity(req.tenant, servicePath, item.id, item.type ?? 'Thing', item.attrs, now);
        if (await insertEntity(ctx, created, req.correlator)) continue;
        k.type = item.type ?? 'Thing';
      }
      await mutate(
        ctx,
        k,
        req.correlator,
        (e) => {
          if (action === 'delete') {
            if (item.attrs.size === 0) return { result: undefined, changed: [], touched: [], remove: true };
            const missing = [...item.attrs.keys()].filter((n) => !e.attrs[n]);
            if (missing.length > 0)
              throw new OrionError(
                422,
                'Unprocessable',
                `do not exist: ${entityRef(e)} - [ ${missing.join(', ')} ]`,
              );
            for (const name of item.attrs.keys()) delete e.attrs[name];
            e.attrNames = e.attrNames.filter((n) => !item.attrs.has(n));
            e.modified = now;
            refreshDerived(e);
            return { result: undefined, changed: [...item.attrs.keys()], touched: [...item.attrs.keys()] };
          }
          const r = applyAttrs(e, item.attrs, action, now, opts.has('overrideMetadata'));
          if (r.existing.length > 0) {
            throw new OrionError(
              422,
              'Unprocessable',
              `one or more of the attributes in the request already exist: ${entityRef(e)} - [ ${r.existing.join(', ')} ]`,
            );
          }
          if (r.missing.length > 0) {
            throw new OrionError(
              422,
              'Unprocessable',
              `do not exist: ${entityRef(e)} - [ ${r.missing.join(', ')} ]`,
            );
          }
          return { result: undefined, changed: r.changed, touched: [...item.attrs.keys()] };
        },
        opts.has('forcedUpdate'),
      );
    } catch (error) {
      if (!(error instanceof OrionError)) throw error;
      if (error.status === 404) {
        notFound += 1;
        failures.push(`${ref} [entity itself]`);
      } else {
        failures.push(error.description);
      }
    }
  }
  if (failures.length === 0) return noContent();
  if (notFound === items.length) {
    throw new OrionError(404, 'NotFound', 'The requested entity has not been found. Check type and id');
  }
  throw new OrionError(422, 'PartialUpdate', failures.join(', '));
}

export async function batchQuery(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerReply> {
  const opts = options(req);
  const body = asObject(jsonBody(req));
  const selectors: Selector[] = [];
  if (body['entities'] !== undefined) {
    if (!Array.isArray(body['entities'])) throw badRequest('/entities/ must be a JSON array');
    for (const raw of body['entities']) {
      const o = asObject(raw);
      const s: Selector = {};
      if (o['id'] !== undefined) s.id = checkIdentifier('entity id', o['id']);
      if (o['idPattern'] !== undefined) s.idPattern = String(o['idPattern']);
      if (o['type'] !== undefined) s.type = checkIdentifier('entity type', o['type']);
      if (o['typePattern'] !== undefined) s.typePattern = String(o['typePattern']);
      selectors.push(s);
    }
  }
  const expression = body['expression'] === undefined ? {} : asObject(body['expression']);
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const geo = parseGeoQuery(
    str(expression['georel']),
    str(expression['geometry']),
    str(expression['coords']),
  );
  const attrs = body['attrs'];
  if (attrs !== undefined && !(Array.isArray(attrs) && attrs.every((a) => typeof a === 'string'))) {
    throw badRequest('/attrs/ must be a JSON array of strings');
  }
  const metadata = body['metadata'];
  const { entities, total } = await ctx.store.query({
    tenant: req.tenant,
    scopes: queryScopes(req.headers['fiware-servicepath']),
    selectors,
    q: typeof expression['q'] === 'string' ? parseQuery(expression['q']) : undefined,
    mq: typeof expression['mq'] === 'string' ? parseQuery(expression['mq'], true) : undefined,
    orderBy: parseOrderBy(req.query.get('orderBy'), geo?.rel === 'near'),
    geo,
    limit: integerParam(req, 'limit', 20),
    offset: integerParam(req, 'offset', 0),
    count: opts.has('count'),
  });
  const selection = {
    attrs: (attrs as string[] | undefined)?.length ? (attrs as string[]) : list(req, 'attrs'),
    metadata: Array.isArray(metadata) ? (metadata as string[]) : undefined,
  };
  const headers: Record<string, string> = total === null ? {} : { 'Fiware-Total-Count': String(total) };
  return { status: 200, headers, json: renderEntities(entities, selection, format(opts)) };
}
