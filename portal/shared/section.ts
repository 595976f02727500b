/**
 * A portal section: one group of pages (resident, staff or public) mounted by `portal/index.ts`.
 * Sections share the portal's sign-in so a resident signs in once for every resident page.
 *
 * @example
 *   // portal/notices/section.ts
 *   export const noticesSection: PortalSection = {
 *     name: 'notices',
 *     prefix: '/portal/notices',
 *     migrations: [{ id: '001_notices', sql: 'CREATE TABLE portal.notices (…)' }],
 *     create: (p) => noticePages({ db: p.ctx.db, session: p.resident, base: '/portal/notices' }),
 *   };
 *   // then add `noticesSection` to SECTIONS in portal/index.ts
 */
import type { RequestHandler } from 'express';
import type { Migration, ModuleContext } from '../../core/index.ts';
import type { IdpServices } from '../../idp/index.ts';
import type { ResidentSession } from './resident_session.ts';

export interface PortalContext {
  /** The portal module's context: config, database, audit, logger, services of every module before it. */
  ctx: ModuleContext;
  idp: IdpServices;
  /**
   * The resident sign-in shared by every resident page (cookie path `/portal`). A page that needs a
   * resident redirects to `residentLoginUrl(req.originalUrl)` when `resident.residentOf(req)` is empty.
   */
  resident: ResidentSession;
  /** `/portal/login?return=…` for a return path under `/portal`. */
  residentLoginUrl(returnTo: string): string;
}

export interface PortalSection {
  /** Names the section's migration set (`portal/<name>`) and its log lines. */
  name: string;
  /** Where the section is mounted, e.g. `/portal/notices` (resident), `/admin/notices` (staff), `/shops` (public). */
  prefix: string;
  /** The section's tables, in schema `portal`; ids in order, forward-only like every migration. */
  migrations?: Migration[];
  /** Leave request bodies unparsed (uploads) / exempt from the per-client rate limit. */
  parseBody?: boolean;
  rateLimit?: boolean;
  /** Builds the pages once the modules have started (the identity provider is up). */
  create(portal: PortalContext): RequestHandler | Promise<RequestHandler>;
  /** Timers or workers the section runs; stopped on shutdown. */
  stop?(): Promise<void>;
}
