/**
 * The broker's own request and reply, independent of Node's HTTP objects, so the same handlers
 * serve the standalone server, the platform mount and the in-process client transport.
 */
import { badRequest, OrionError, parseError } from '../errors.ts';
import { parseJson } from '../json.ts';
import type { Format } from '../render.ts';

export interface BrokerRequest {
  method: string;
  /** URL path without the query string, percent-encoded as received. */
  path: string;
  query: URLSearchParams;
  /** Header values by lower-case name. */
  headers: Record<string, string | undefined>;
  body: Buffer | undefined;
  /** Media type of the body without parameters, lower-case. */
  contentType: string | undefined;
  tenant: string;
  correlator: string;
}

export interface BrokerReply {
  status: number;
  headers?: Record<string, string>;
  /** Serialised as JSON. */
  json?: unknown;
  /** Sent as text/plain. */
  text?: string;
  /** Already-serialised JSON, sent as is (`/version` keeps Orion's layout). */
  rawJson?: string;
}

export const noContent = (headers?: Record<string, string>): BrokerReply =>
  headers ? { status: 204, headers } : { status: 204 };

/** The JSON body; Orion accepts only application/json here. */
export function jsonBody(req: BrokerRequest): unknown {
  if (req.contentType !== 'application/json') {
    throw new OrionError(415, 'UnsupportedMediaType', `not supported content type: ${req.contentType ?? ''}`);
  }
  const text = req.body?.toString('utf8') ?? '';
  if (text.trim() === '') throw badRequest('empty payload');
  try {
    return parseJson(text);
  } catch {
    throw parseError();
  }
}

const OPTIONS = new Set([
  'upsert',
  'keyValues',
  'values',
  'unique',
  'count',
  'append',
  'overrideMetadata',
  'forcedUpdate',
  'skipForwarding',
  'noAttrDetail',
  'flowControl',
  'skipInitialNotification',
  'dateCreated',
  'dateModified',
]);

export function options(req: BrokerRequest): Set<string> {
  const raw = req.query.get('options');
  if (raw === null) return new Set();
  const set = new Set(raw.split(',').map((o) => o.trim()));
  for (const o of set) if (!OPTIONS.has(o)) throw badRequest('Invalid value for URI param /options/');
  return set;
}

export function format(opts: Set<string>, attrsFormat?: string | null): Format {
  const chosen = [opts.has('keyValues'), opts.has('values'), opts.has('unique')].filter(Boolean).length;
  if (chosen > 1) throw badRequest('Invalid value for URI param /options/');
  if (opts.has('keyValues')) return 'keyValues';
  if (opts.has('values')) return 'values';
  if (opts.has('unique')) return 'unique';
  if (attrsFormat === 'keyValues' || attrsFormat === 'values') return attrsFormat;
  return 'normalized';
}

/** A comma-separated URI parameter as a list; undefined when absent. */
export function list(req: BrokerRequest, name: string): string[] | undefined {
  const raw = req.query.get(name);
  if (raw === null) return undefined;
  return raw.split(',').filter((s) => s !== '');
}

export function integerParam(req: BrokerRequest, name: 'limit' | 'offset', fallback: number): number {
  const raw = req.query.get(name);
  if (raw === null) return fallback;
  if (!/^\d+$/.test(raw)) throw badRequest(`Bad pagination ${name}: /${raw}/ [must be a decimal number]`);
  const value = Number(raw);
  if (name === 'limit' && value > 1000) throw badRequest(`Bad pagination limit: /${raw}/ [max: 1000]`);
  if (name === 'limit' && value === 0)
    throw badRequest(`Bad pagination limit: /${raw}/ [a value of ZERO is unacceptable]`);
  return value;
}
