/**
 * `/v2/registrations`: create, list, get and delete context provider registrations, stored and
 * rendered like Orion's. Forwarding queries and updates to providers is not implemented (see
 * COMPATIBILITY.md), so registrations are records only.
 */
import type { Queryable } from '../../core/index.ts';
import { badRequest, OrionError } from '../errors.ts';
import {
  type BrokerReply,
  type BrokerRequest,
  integerParam,
  jsonBody,
  noContent,
  options,
} from '../http/request.ts';
import { newSubscriptionId } from '../subscriptions/model.ts';
import { updatePath } from '../tenancy.ts';
import { asObject } from '../validate.ts';

export interface RegistrationStore {
  db: Queryable;
}

const notFound = () =>
  new OrionError(404, 'NotFound', 'The requested registration has not been found. Check id');

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function parseRegistration(body: Record<string, unknown>): Record<string, unknown> {
  const data = body['dataProvided'];
  if (!isObject(data) || !Array.isArray(data['entities']) || data['entities'].length === 0) {
    throw badRequest('no dataProvided entities in registration');
  }
  for (const e of data['entities']) {
    if (!isObject(e) || (e['id'] === undefined && e['idPattern'] === undefined))
      throw badRequest('registration entities must have id or idPattern');
    if (e['idPattern'] !== undefined && e['idPattern'] !== '.*')
      throw new OrionError(
        501,
        'NotImplemented',
        'idPattern different from .* is not supported in registrations',
      );
    if (e['typePattern'] !== undefined)
      throw new OrionError(501, 'NotImplemented', 'typePattern is not supported in registrations');
  }
  const provider = body['provider'];
  if (!isObject(provider) || !isObject(provider['http']) || typeof provider['http']['url'] !== 'string') {
    throw badRequest('no provider url in registration');
  }
  try {
    new URL(provider['http']['url']);
  } catch {
    throw badRequest('Invalid URL parsing provider url');
  }
  const mode = provider['supportedForwardingMode'] ?? 'all';
  if (!['all', 'query', 'update', 'none'].includes(String(mode)))
    throw badRequest('invalid supportedForwardingMode');
  const doc: Record<string, unknown> = {};
  if (typeof body['description'] === 'string') doc['description'] = body['description'];
  doc['dataProvided'] = data;
  doc['provider'] = {
    http: { url: provider['http']['url'] },
    supportedForwardingMode: mode,
    legacyForwarding: provider['legacyForwarding'] === true,
  };
  if (body['expires'] !== undefined) doc['expires'] = body['expires'];
  doc['status'] = 'active';
  return doc;
}

function render(id: string, doc: Record<string, unknown>): Record<string, unknown> {
  return { id, ...doc };
}

export async function createRegistration(store: RegistrationStore, req: BrokerRequest): Promise<BrokerReply> {
  const doc = parseRegistration(asObject(jsonBody(req)));
  const id = newSubscriptionId();
  await store.db.query(
    'INSERT INTO broker.registrations (tenant, id, service_path, doc) VALUES ($1, $2, $3, $4)',
    [req.tenant, id, updatePath(req.headers['fiware-servicepath']), JSON.stringify(doc)],
  );
  return { status: 201, headers: { Location: `/v2/registrations/${id}` } };
}

export async function listRegistrations(store: RegistrationStore, req: BrokerRequest): Promise<BrokerReply> {
  const opts = options(req);
  const { rows } = await store.db.query<{ id: string; doc: Record<string, unknown> }>(
    'SELECT id, doc FROM broker.registrations WHERE tenant = $1 ORDER BY seq LIMIT $2 OFFSET $3',
    [req.tenant, integerParam(req, 'limit', 20), integerParam(req, 'offset', 0)],
  );
  const headers: Record<string, string> = {};
  if (opts.has('count')) {
    const { rows: c } = await store.db.query<{ n: string }>(
      'SELECT count(*) AS n FROM broker.registrations WHERE tenant = $1',
      [req.tenant],
    );
    headers['Fiware-Total-Count'] = c[0]!.n;
  }
  return { status: 200, headers, json: rows.map((r) => render(r.id, r.doc)) };
}

export async function getRegistration(
  store: RegistrationStore,
  req: BrokerRequest,
  [id]: string[],
): Promise<BrokerReply> {
  const { rows } = await store.db.query<{ id: string; doc: Record<string, unknown> }>(
    'SELECT id, doc FROM broker.registrations WHERE tenant = $1 AND id = $2',
    [req.tenant, decodeURIComponent(id!)],
  );
  if (!rows[0]) throw notFound();
  return { status: 200, json: render(rows[0].id, rows[0].doc) };
}

export async function deleteRegistration(
  store: RegistrationStore,
  req: BrokerRequest,
  [id]: string[],
): Promise<BrokerReply> {
  const { rowCount } = await store.db.query(
    'DELETE FROM broker.registrations WHERE tenant = $1 AND id = $2',
    [req.tenant, decodeURIComponent(id!)],
  );
  if (rowCount !== 1) throw notFound();
  return noContent();
}
