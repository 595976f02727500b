/**
 * The client address of the request being served, for code that runs deep inside oidc-provider or
 * inside the platform's token verifier, neither of which is handed the Express request.
 *
 * Why: core's `TokenVerifier.verify(token)` receives only the token, but a partner client's IP
 * allow-list must hold on every API call made with its tokens. The idp module mounts
 * `captureRequestContext` first (right after core), so every later module's routes run inside it.
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
