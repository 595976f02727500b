/**
 * `/v2/types`: the entity types in use, their attributes with the attribute types seen, and counts.
 */

import type { BrokerContext } from '../entity_ops.ts';
import { typeNotFound } from '../errors.ts';
import { type BrokerReply, type BrokerRequest, integerParam, options } from '../http/request.ts';
import type { TypeInfo } from '../store.ts';
import { queryScopes } from '../tenancy.ts';

function attrsOf(info: TypeInfo): Record<string, { types: string[] }> {
  const out: Record<string, { types: string[] }> = {};
  for (const [name, types] of Object.entries(info.attrs)) out[name] = { types };
  return out;
}

export async function listTypes(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerReply> {
  const opts = options(req);
  const all = await ctx.store.types(req.tenant, queryScopes(req.headers['fiware-servicepath']));
  const offset = integerParam(req, 'offset', 0);
  const page = all.slice(offset, offset + integerParam(req, 'limit', 20));
  const headers: Record<string, string> = opts.has('count')
    ? { 'Fiware-Total-Count': String(all.length) }
    : {};
  if (opts.has('values')) return { status: 200, headers, json: page.map((t) => t.type) };
  const json = page.map((t) =>
    opts.has('noAttrDetail')
      ? { type: t.type, attrs: Object.fromEntries(Object.keys(t.attrs).map((a) => [a, {}])), count: t.count }
      : { type: t.type, attrs: attrsOf(t), count: t.count },
  );
  return { status: 200, headers, json };
}

export async function getType(
  ctx: BrokerContext,
  req: BrokerRequest,
  [rawType]: string[],
): Promise<BrokerReply> {
  const type = decodeURIComponent(rawType!);
  const [info] = await ctx.store.types(req.tenant, queryScopes(req.headers['fiware-servicepath']), type);
  if (!info) throw typeNotFound();
  return { status: 200, json: { attrs: attrsOf(info), count: info.count } };
}
