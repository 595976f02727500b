/**
 * `/v2/subscriptions`: create (201 with Location), list (with pagination and count), get, patch,
 * delete. Orion ignores Fiware-ServicePath when reading one subscription; so does this.
 */
import { badRequest } from '../errors.ts';
import {
  type BrokerReply,
  type BrokerRequest,
  integerParam,
  jsonBody,
  noContent,
  options,
} from '../http/request.ts';
import type { SubscriptionService } from '../subscriptions/service.ts';
import { asObject } from '../validate.ts';

function subscriptionId(raw: string): string {
  const id = decodeURIComponent(raw);
  if (!/^[0-9a-f]{24}$/.test(id)) throw badRequest('Invalid subscription ID');
  return id;
}

export async function createSubscription(
  subs: SubscriptionService,
  req: BrokerRequest,
): Promise<BrokerReply> {
  const id = await subs.create(req.tenant, req.headers['fiware-servicepath'], asObject(jsonBody(req)));
  return { status: 201, headers: { Location: `/v2/subscriptions/${id}` } };
}

export async function listSubscriptions(subs: SubscriptionService, req: BrokerRequest): Promise<BrokerReply> {
  const opts = options(req);
  const all = await subs.list(req.tenant);
  const offset = integerParam(req, 'offset', 0);
  const page = all.slice(offset, offset + integerParam(req, 'limit', 20));
  const headers: Record<string, string> = opts.has('count')
    ? { 'Fiware-Total-Count': String(all.length) }
    : {};
  return { status: 200, headers, json: page };
}

export async function getSubscription(
  subs: SubscriptionService,
  req: BrokerRequest,
  [id]: string[],
): Promise<BrokerReply> {
  return { status: 200, json: await subs.get(req.tenant, subscriptionId(id!)) };
}

export async function patchSubscription(
  subs: SubscriptionService,
  req: BrokerRequest,
  [id]: string[],
): Promise<BrokerReply> {
  await subs.update(req.tenant, subscriptionId(id!), asObject(jsonBody(req)));
  return noContent();
}

export async function deleteSubscription(
  subs: SubscriptionService,
  req: BrokerRequest,
  [id]: string[],
): Promise<BrokerReply> {
  await subs.remove(req.tenant, subscriptionId(id!));
  return noContent();
}
