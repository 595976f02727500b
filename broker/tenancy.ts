/**
 * `Fiware-Service` (tenant) and `Fiware-ServicePath` as Orion reads them: tenants lower-cased,
 * ≤ 50 chars of `[A-Za-z0-9_]`; service paths absolute, ≤ 10 levels of ≤ 50 chars, `/#` subtrees
 * and up to 10 comma-separated paths in queries, exactly one plain path in updates.
 */
import { badRequest } from './errors.ts';

/** The tenant of a request; '' is the default tenant (and the only one without multi-service). */
export function tenantOf(header: string | undefined, multiservice: boolean): string {
  if (!multiservice || header === undefined || header === '') return '';
  if (header.length > 50) throw badRequest('bad length - a tenant name can be max 50 characters long');
  if (!/^[A-Za-z0-9_]+$/.test(header)) {
    throw badRequest(
      'bad character in tenant name - only underscore and alphanumeric characters are allowed',
    );
  }
  return header.toLowerCase();
}

export interface PathScope {
  path: string;
  subtree: boolean;
}

function stripTrailingSlash(path: string): string {
  let p = path;
  while (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

function checkPath(path: string): void {
  if (!path.startsWith('/')) {
    throw badRequest('Only /absolute/ Service Paths allowed [a service path must begin with /]');
  }
  const components = path.split('/').slice(1);
  if (components.length > 10) throw badRequest('too many components in ServicePath');
  components.forEach((component, index) => {
    if (component.length > 50) throw badRequest('component-name too long in ServicePath');
    if (index === components.length - 1 && component === '#') return;
    if (path !== '/' && !/^[A-Za-z0-9_]+$/.test(component)) {
      throw badRequest('a component of ServicePath contains an illegal character');
    }
  });
}

function splitPaths(header: string): string[] {
  const paths = header.split(',').map((p) => stripTrailingSlash(p.trim()));
  if (paths.length > 10)
    throw badRequest('too many service paths - a maximum of ten service paths is allowed');
  for (const path of paths) checkPath(path);
  return paths;
}

/** The service paths a query covers; no header means the whole tree (`/#`). */
export function queryScopes(header: string | undefined): PathScope[] {
  if (header === undefined || header.trim() === '') return [{ path: '/', subtree: true }];
  return splitPaths(header).map((p) => {
    if (p === '/#') return { path: '/', subtree: true };
    if (p.endsWith('/#')) return { path: p.slice(0, -2), subtree: true };
    return { path: p, subtree: false };
  });
}

/** The one service path an update or creation targets; no header means `/`. */
export function updatePath(header: string | undefined): string {
  if (header === undefined || header.trim() === '') return '/';
  const paths = splitPaths(header);
  if (paths.length > 1) throw badRequest('more than one service path in context update request');
  const path = paths[0]!;
  if (path.endsWith('#')) throw badRequest('service path with wildcard # not allowed in updates');
  return path;
}

/** True when an entity's service path falls inside one of the scopes. */
export function inScopes(servicePath: string, scopes: readonly PathScope[]): boolean {
  return scopes.some(
    (s) => servicePath === s.path || (s.subtree && (s.path === '/' || servicePath.startsWith(`${s.path}/`))),
  );
}
