/**
 * The client address of the request being served, for code that runs deep inside oidc-provider,
 * which is not handed the Express request (its token endpoint enforces partner IP allow-lists).
 * The platform's token verifier gets the address from core directly (`verify(token, { ip })`) and
 * falls back to this only when called without it. The idp module mounts `captureRequestContext`
 * right after core, so `/oidc` and every later module's routes run inside it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { RequestHandler } from 'express';

export interface RequestContext {
  ip: string | undefined;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function currentRequest(): RequestContext | undefined {
  return storage.getStore();
}

export function runWithRequest<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

export const captureRequestContext: RequestHandler = (req, _res, next) => {
  storage.run({ ip: req.ip }, next);
};
