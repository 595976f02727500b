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
import type { NavEntry } from './html.ts';
import type { StaffRoles } from '../admin/staff_roles.ts';
import type { ResidentSession } from './resident_session.ts';
import type { AdminNavEntry, StaffSession } from './staff_session.ts';

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
  /** The resident menu: every section's `nav` entries (render pages with `residentPage` from `shared/html.ts`). */
  residentNav: readonly NavEntry[];
  /**
   * The admin console's staff sign-in (cookie path `/admin`; see `portal/admin/`): `session.staffOf(req)`,
   * role grants, and the console navigation gathered from every section's `adminNav`.
   */
  staff: {
    session: StaffSession;
    roles: StaffRoles;
    nav: readonly AdminNavEntry[];
  };
  /**
   * The gate for every staff page: ADMIN_IP_ALLOWLIST, a signed-in active staff member, the form token
   * on POST, and `role` when given (privileged staff hold every role). Leaves the member on
   * `res.locals.staff` for `sendAdminPage(req, res, …)` from `portal/admin/layout.ts`.
   */
  requireStaff(role?: string): RequestHandler;
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
  /** Entries the section adds to the admin console's navigation (staff pages under `/admin/…`). */
  adminNav?: AdminNavEntry[];
  /** Entries the section adds to the resident menu (pages under `/portal/…`). */
  nav?: readonly NavEntry[];
  /**
   * Services other modules may call, merged into the portal module's services (`ctx.services['portal']`),
   * built with the module (before start), so a module assembled earlier finds them at call time.
   */
  services?(ctx: ModuleContext): Record<string, unknown>;
  /** Builds the pages once the modules have started (the identity provider is up). */
  create(portal: PortalContext): RequestHandler | Promise<RequestHandler>;
  /** Timers or workers the section runs; stopped on shutdown. */
  stop?(): Promise<void>;
}
