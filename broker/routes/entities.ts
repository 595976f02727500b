/**
 * `/v2/entities` and its sub-resources: entity, attributes, attribute and attribute value.
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
import {
  alreadyExists,
  attributeNotFound,
  badRequest,
  entityNotFound,
  OrionError,
  tooManyResults,
  unprocessable,
} from '../errors.ts';
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
import type { Entity, JsonValue } from '../model.ts';
import { GEO_TYPES, parseGeoQuery } from '../query/geo.ts';
import { parseQuery } from '../query/simple_query.ts';
import { renderAttr, renderEntities, renderEntity } from '../render.ts';
import type { OrderToken } from '../store.ts';
import { queryScopes, updatePath } from '../tenancy.ts';
import { operatorOf } from '../update_operators.ts';
import {
  asObject,
  checkIdentifier,
  checkUrlIdentifier,
  defaultType,
  parseAttr,
  parseAttrs,
} from '../validate.ts';

export function location(entity: { id: string; type: string }): string {
  return `/v2/entities/${encodeURIComponent(entity.id)}?type=${encodeURIComponent(entity.type)}`;
}

export function parseOrderBy(raw: string | null, near = false): OrderToken[] | undefined {
  if (raw === null) return undefined;
  const tokens = raw
    .split(',')
    .map((t) =>
      t.startsWith('!') ? { name: t.slice(1), descending: true } : { name: t, descending: false },
    );
  const names = tokens.map((t) => t.name);
  if (new Set(names).size !== names.length) throw badRequest('duplicate orderBy token detected');
  if (names.includes('geo:distance') && !near) {
    throw badRequest('Orderby geo:distance is only valid with georel=near');
  }
  return tokens;
}

export async function listEntities(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerReply> {
  const opts = options(req);
  const ids = list(req, 'id');
  const idPattern = req.query.get('idPattern') ?? undefined;
  const types = list(req, 'type');
  const typePattern = req.query.get('typePattern') ?? undefined;
  if (ids && idPattern !== undefined) throw badRequest('Incompatible parameters: id, IdPattern');
  if (types && typePattern !== undefined) throw badRequest('Incompatible parameters: type, typePattern');
  const geo = parseGeoQuery(req.query.get('georel'), req.query.get('geometry'), req.query.get('coords'));
  const q = req.query.get('q');
  const mq = req.query.get('mq');
  const { entities, total } = await ctx.store.query({
    tenant: req.tenant,
    scopes: queryScopes(req.headers['fiware-servicepath']),
    ids,
    idPattern,
    types,
    typePattern,
    q: q === null ? undefined : parseQuery(q),
    mq: mq === null ? undefined : parseQuery(mq, true),
    orderBy: parseOrderBy(req.query.get('orderBy'), geo?.rel === 'near'),
    geo,
    limit: integerParam(req, 'limit', 20),
    offset: integerParam(req, 'offset', 0),
    count: opts.has('count'),
  });
  const selection = { attrs: list(req, 'attrs'), metadata: list(req, 'metadata') };
  const headers: Record<string, string> = total === null ? {} : { 'Fiware-Total-Count': String(total) };
  return { status: 200, headers, json: renderEntities(entities, selection, format(opts)) };
}

export async function createEntity(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerReply> {
  const opts = options(req);
  const body = asObject(jsonBody(req));
  if (body['id'] === undefined) throw badRequest('entity id length: 0, min length supported: 1');
  const id = checkIdentifier('entity id', body['id']);
  const type = body['type'] === undefined ? 'Thing' : checkIdentifier('entity type', body['type']);
  const attrs = parseAttrs(body, opts.has('keyValues'));
  const servicePath = updatePath(req.headers['fiware-servicepath']);
  const now = ctx.now().getTime();
  const entity = newEntity(req.tenant, servicePath, id, type, attrs, now);
  const special = [...attrs.values()].some(
    (a) => (a.type !== undefined && GEO_TYPES.includes(a.type)) || operatorOf(a.value) !== undefined,
  );
  if (opts.has('upsert') && !ctx.watched(req.tenant) && !special) {
    // Nobody needs the previous state: create-or-append in one statement.
    for (const [name, input] of attrs) {
      if (input.type === undefined) Object.assign(entity.attrs[name]!, { typeGiven: false });
    }
    await ctx.store.upsertMerge(entity, opts.has('overrideMetadata'));
    return noContent({ Location: location(entity) });
  }
  if (await insertEntity(ctx, entity, req.correlator)) {
    return opts.has('upsert')
      ? noContent({ Location: location(entity) })
      : { status: 201, headers: { Location: location(entity) } };
  }
  if (!opts.has('upsert')) throw alreadyExists();
  await mutate(
    ctx,
    { tenant: req.tenant, id, type, servicePath },
    req.correlator,
    (e) => {
      const r = applyAttrs(e, attrs, 'append', now, opts.has('overrideMetadata'));
      return { result: undefined, changed: r.changed, touched: [...attrs.keys()] };
    },
    opts.has('forcedUpdate'),
  );
  return noContent({ Location: location(entity) });
}

interface Target {
  id: string;
  type: string | undefined;
}

function target(req: BrokerRequest, rawId: string): Target {
  const id = checkUrlIdentifier('entity id', decodeURIComponent(rawId));
  const type = req.query.get('type') ?? undefined;
  if (type !== undefined) checkUrlIdentifier('entity type', type);
  return { id, type };
}

async function findOne(ctx: BrokerContext, req: BrokerRequest, t: Target): Promise<Entity> {
  const found = await ctx.store.find(
    req.tenant,
    t.id,
    t.type,
    queryScopes(req.headers['fiware-servicepath']),
  );
  if (found.length === 0) throw entityNotFound();
  if (found.length > 1) throw tooManyResults();
  return found[0]!;
}

export async function getEntity(
  ctx: BrokerContext,
  req: BrokerRequest,
  [rawId]: string[],
  attrsOnly = false,
): Promise<BrokerReply> {
  const opts = options(req);
  const entity = await findOne(ctx, req, target(req, rawId!));
  const selection = { attrs: list(req, 'attrs'), metadata: list(req, 'metadata') };
  const fmt = format(opts);
  return {
    status: 200,
    json: renderEntity(entity, selection, fmt === 'unique' ? 'values' : fmt, !attrsOnly),
  };
}

export function getEntityAttrs(
  ctx: BrokerContext,
  req: BrokerRequest,
  params: string[],
): Promise<BrokerReply> {
  return getEntity(ctx, req, params, true);
}

function key(req: BrokerRequest, t: Target) {
  return {
    tenant: req.tenant,
    id: t.id,
    type: t.type,
    servicePath: updatePath(req.headers['fiware-servicepath']),
  };
}

export async function deleteEntity(
  ctx: BrokerContext,
  req: BrokerRequest,
  [rawId]: string[],
): Promise<BrokerReply> {
  const t = target(req, rawId!);
  await mutate(ctx, key(req, t), req.correlator, () => ({
    result: undefined,
    changed: [],
    touched: [],
    remove: true,
  }));
  return noContent();
}

async function changeAttrs(
  ctx: BrokerContext,
  req: BrokerRequest,
  rawId: string,
  mode: Mode,
): Promise<BrokerReply> {
  const opts = options(req);
  const t = target(req, rawId);
  const body = asObject(jsonBody(req));
  if ('id' in body || 'type' in body) {
    throw badRequest(`invalid input, '${'id' in body ? 'id' : 'type'}' as attribute`);
  }
  const attrs = parseAttrs(body, opts.has('keyValues'));
  const now = ctx.now().getTime();
  const effective: Mode = mode === 'append' && opts.has('append') ? 'appendStrict' : mode;
  let failure: OrionError | undefined;
  await mutate(
    ctx,
    key(req, t),
    req.correlator,
    (e) => {
      const r = applyAttrs(e, attrs, effective, now, opts.has('overrideMetadata'));
      failure = undefined;
      if (r.existing.length > 0) {
        failure = unprocessable(
          `one or more of the attributes in the request already exist: ${entityRef(e)} - [ ${r.existing.join(', ')} ]`,
        );
        if (r.existing.length === attrs.size) throw failure;
        failure = new OrionError(422, 'PartialUpdate', failure.description);
      }
      if (r.missing.length > 0) {
        const text = `do not exist: ${entityRef(e)} - [ ${r.missing.join(', ')} ]`;
        if (r.missing.length === attrs.size) throw unprocessable(text);
        failure = new OrionError(422, 'PartialUpdate', text);
      }
      const touched = [...attrs.keys()].filter((n) => !r.missing.includes(n) && !r.existing.includes(n));
      return { result: undefined, changed: r.changed, touched };
    },
    opts.has('forcedUpdate'),
  );
  if (failure) throw failure;
  return noContent();
}

export const appendAttrs = (ctx: BrokerContext, req: BrokerRequest, [id]: string[]) =>
  changeAttrs(ctx, req, id!, 'append');
export const updateAttrs = (ctx: BrokerContext, req: BrokerRequest, [id]: string[]) =>
  changeAttrs(ctx, req, id!, 'update');
export const replaceAttrs = (ctx: BrokerContext, req: BrokerRequest, [id]: string[]) =>
  changeAttrs(ctx, req, id!, 'replace');

function attrName(raw: string): string {
  return checkUrlIdentifier('attribute name', decodeURIComponent(raw));
}

/** One attribute of one entity, as the URL names them; 404 when either is missing. */
async function findAttr(ctx: BrokerContext, req: BrokerRequest, rawId: string, rawAttr: string) {
  const entity = await findOne(ctx, req, target(req, rawId));
  const attr = entity.attrs[attrName(rawAttr)];
  if (!attr) throw attributeNotFound();
  return attr;
}

export async function getAttr(
  ctx: BrokerContext,
  req: BrokerRequest,
  [rawId, rawAttr]: string[],
): Promise<BrokerReply> {
  const attr = await findAttr(ctx, req, rawId!, rawAttr!);
  return { status: 200, json: renderAttr(attr, list(req, 'metadata')) };
}

export async function putAttr(
  ctx: BrokerContext,
  req: BrokerRequest,
  [rawId, rawAttr]: string[],
): Promise<BrokerReply> {
  const t = target(req, rawId!);
  const name = attrName(rawAttr!);
  const input = parseAttr(name, jsonBody(req), false);
  const opts = options(req);
  const now = ctx.now().getTime();
  await mutate(
    ctx,
    key(req, t),
    req.correlator,
    (e) => {
      if (!e.attrs[name]) throw attributeNotFound();
      const r = applyAttrs(e, new Map([[name, input]]), 'update', now, opts.has('overrideMetadata'));
      return { result: undefined, changed: r.changed, touched: [name] };
    },
    opts.has('forcedUpdate'),
  );
  return noContent();
}

export async function deleteAttr(
  ctx: BrokerContext,
  req: BrokerRequest,
  [rawId, rawAttr]: string[],
): Promise<BrokerReply> {
  const t = target(req, rawId!);
  const name = attrName(rawAttr!);
  const now = ctx.now().getTime();
  await mutate(ctx, key(req, t), req.correlator, (e) => {
    if (!e.attrs[name]) throw attributeNotFound();
    delete e.attrs[name];
    e.attrNames = e.attrNames.filter((n) => n !== name);
    e.modified = now;
    refreshDerived(e);
    return { result: undefined, changed: [name], touched: [name] };
  });
  return noContent();
}

function accepts(req: BrokerRequest, type: 'json' | 'text'): boolean {
  const accept = req.headers['accept'];
  if (accept === undefined || accept === '') return true;
  const ranges = accept.split(',').map((r) => r.split(';')[0]!.trim().toLowerCase());
  if (ranges.includes('*/*')) return true;
  return type === 'json'
    ? ranges.includes('application/json') || ranges.includes('application/*')
    : ranges.includes('text/plain') || ranges.includes('text/*');
}

export async function getAttrValue(
  ctx: BrokerContext,
  req: BrokerRequest,
  [rawId, rawAttr]: string[],
): Promise<BrokerReply> {
  const attr = await findAttr(ctx, req, rawId!, rawAttr!);
  const value = attr.value;
  if (value !== null && typeof value === 'object') {
    if (!accepts(req, 'json'))
      throw new OrionError(406, 'NotAcceptable', 'accepted MIME types: application/json');
    return { status: 200, json: value };
  }
  if (typeof value === 'string') {
    if (!accepts(req, 'text')) throw new OrionError(406, 'NotAcceptable', 'accepted MIME types: text/plain');
    return { status: 200, text: value };
  }
  if (accepts(req, 'json')) return { status: 200, json: value };
  return { status: 200, text: JSON.stringify(value) };
}

function textValue(text: string): JsonValue {
  const trimmed = text.trim();
  if (trimmed === 'true' || trimmed === 'false') return trimmed === 'true';
  if (trimmed === 'null') return null;
  if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(trimmed)) return Number(trimmed);
  if (trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"')) return trimmed.slice(1, -1);
  return text;
}

export async function putAttrValue(
  ctx: BrokerContext,
  req: BrokerRequest,
  [rawId, rawAttr]: string[],
): Promise<BrokerReply> {
  const t = target(req, rawId!);
  const name = attrName(rawAttr!);
  let value: JsonValue;
  if (req.contentType === 'text/plain') value = textValue(req.body?.toString('utf8') ?? '');
  else value = jsonBody(req) as JsonValue;
  const now = ctx.now().getTime();
  await mutate(ctx, key(req, t), req.correlator, (e) => {
    const prev = e.attrs[name];
    if (!prev) throw attributeNotFound();
    const input = parseAttr(
      name,
      { value, type: prev.type === defaultType(prev.value) ? defaultType(value) : prev.type },
      false,
    );
    const r = applyAttrs(e, new Map([[name, input]]), 'update', now, false);
    return { result: undefined, changed: r.changed, touched: [name] };
  });
  return noContent();
}
