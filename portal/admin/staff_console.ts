/**
 * The admin console's sign-in and the gate every staff page goes through. The console is an
 * OpenID client of our provider registered with `staffConsole: true` once per deployment (secret
 * sealed under a key derived from MASTER_KEY in `portal.oidc_clients`, purpose `admin-console`).
 *
 * `requireStaff(role?)` runs, in order:
 *
 *   address     ADMIN_IP_ALLOWLIST (`ctx.http.adminOnly`)          403 ip-not-allowed
 *   session     the console cookie (path `/admin`)                 GET: 303 to /admin/login; else 403
 *   account     still active at the provider                       same as no session
 *   form token  POST/PUT/PATCH/DELETE: `csrf` field, `?csrf=` or X-CSRF-Token   403 forbidden
 *   role        privileged staff hold every role                   403 page, audited
 *
 * and leaves the member on `res.locals.staff` for `sendAdminPage` / `staffMember(res)`.
 */
import type { Request, RequestHandler, Response } from 'express';
import { deriveKey, type ModuleContext, openWith, ProblemError, sealWith } from '../../core/index.ts';
import { ACR, type IdpServices } from '../../idp/index.ts';
import { escapeHtml } from '../shared/html.ts';
import {
  type AdminNavEntry,
  createStaffSession,
  type StaffMember,
  type StaffSession,
} from '../shared/staff_session.ts';
import { ADMIN_BASE, adminPage, errorLine } from './layout.ts';
import { createStaffRoles, type StaffRoles } from './staff_roles.ts';

const CLIENT_LOCK = 0x61646d6e; // "admn"
const CLIENT_PURPOSE = 'admin-console';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface StaffConsole {
  session: StaffSession;
  roles: StaffRoles;
  requireStaff(role?: string): RequestHandler;
  /** Every navigation entry of every section, in order. */
  nav: readonly AdminNavEntry[];
}

async function consoleClient(ctx: ModuleContext, idp: IdpServices) {
  const key = deriveKey(ctx.config, 'tsunagu/portal/client-secret');
  return ctx.db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [CLIENT_LOCK]);
    const { rows } = await tx.query<{ client_id: string; sealed_secret: string }>(
      `SELECT client_id, sealed_secret FROM portal.oidc_clients WHERE purpose = $1`,
      [CLIENT_PURPOSE],
    );
    const stored = rows[0];
    if (stored)
      return {
        clientId: stored.client_id,
        clientSecret: openWith(key, stored.client_id, stored.sealed_secret),
      };
    const created = await idp.clients.create(
      {
        name: '管理コンソール / Admin console',
        grantTypes: ['authorization_code'],
        scopes: [],
        redirectUris: [`${ctx.config.publicUrl}${ADMIN_BASE}/callback`],
        staffConsole: true,
      },
      'system:portal',
    );
    const clientId = created.client.clientId;
    await tx.query(
      `INSERT INTO portal.oidc_clients (purpose, client_id, sealed_secret) VALUES ($1, $2, $3)`,
      [CLIENT_PURPOSE, clientId, sealWith(key, clientId, created.clientSecret!)],
    );
    return { clientId, clientSecret: created.clientSecret! };
  });
}

/** A return path under `/admin`, never another host. */
export function safeAdminReturn(wanted: unknown): string {
  if (typeof wanted !== 'string' || wanted.startsWith('//') || wanted.includes('\\')) return ADMIN_BASE;
  return wanted === ADMIN_BASE || wanted.startsWith(`${ADMIN_BASE}/`) || wanted.startsWith(`${ADMIN_BASE}?`)
    ? wanted
    : ADMIN_BASE;
}

export function adminLoginUrl(returnTo: string): string {
  return `${ADMIN_BASE}/login?return=${encodeURIComponent(safeAdminReturn(returnTo))}`;
}

function formToken(req: Request): unknown {
  const body = req.body as { csrf?: unknown } | undefined;
  return body?.csrf ?? req.query['csrf'] ?? req.get('x-csrf-token');
}

export async function createStaffConsole(
  ctx: ModuleContext,
  idp: IdpServices,
  nav: readonly AdminNavEntry[],
): Promise<StaffConsole> {
  const session = createStaffSession({
    issuer: idp.issuer,
    client: await consoleClient(ctx, idp),
    redirectUri: `${ctx.config.publicUrl}${ADMIN_BASE}/callback`,
    secret: deriveKey(ctx.config, 'tsunagu/portal/staff-session'),
    staffAcr: ACR.staff,
    activeStaff: async (staffId) =>
      (await idp.staff.isActive(staffId)) ? (await idp.staff.find(staffId))?.username : undefined,
    secureCookies: ctx.config.publicUrl.startsWith('https://'),
    path: ADMIN_BASE,
    now: ctx.now,
  });
  const roles = createStaffRoles(ctx.db, ctx.audit, ctx.now);

  const signIn = (req: Request, res: Response) => {
    if (req.method === 'GET' || req.method === 'HEAD')
      return res.redirect(303, adminLoginUrl(req.originalUrl));
    throw new ProblemError('forbidden', { detail: 'Sign in to the admin console again.' });
  };

  const member = async (req: Request): Promise<StaffMember | undefined> => {
    const who = session.staffOf(req);
    if (!who || !(await idp.staff.isActive(who.staffId))) return undefined;
    const account = await idp.staff.find(who.staffId);
    if (!account) return undefined;
    const granted = await roles.of(who.staffId);
    return {
      staffId: who.staffId,
      username: account.username,
      privileged: account.privileged,
      roles: granted,
      has: (role) => account.privileged || granted.includes(role),
      csrf: session.csrfFor(req),
    };
  };

  const requireStaff = (role?: string): RequestHandler => {
    const gate: RequestHandler = async (req, res, next) => {
      const m = await member(req);
      if (!m) return signIn(req, res);
      if (UNSAFE.has(req.method) && !session.checkCsrf(req, formToken(req)))
        throw new ProblemError('forbidden', { detail: 'The form is out of date. Reload the page.' });
      res.locals['staff'] = m;
      res.locals['adminNav'] = nav;
      if (role && !m.has(role)) {
        await ctx.audit.record({
          actor: `staff:${m.staffId}`,
          action: 'portal.admin.denied',
          target: `path:${req.baseUrl}`,
          details: { role, method: req.method },
        });
        res
          .status(403)
          .type('html')
          .send(
            adminPage({
              title: '権限がありません',
              titleEn: 'Not allowed',
              body: errorLine(
                `このページには「${role}」の権限が必要です。管理者に依頼してください。`,
                `This page needs the “${role}” role. Ask an administrator.`,
              ),
              member: m,
              nav,
              current: escapeHtml(req.originalUrl.split('?')[0]),
            }),
          );
        return;
      }
      next();
    };
    return (req, res, next) =>
      ctx.http.adminOnly(req, res, (error?: unknown) => {
        if (error) return next(error);
        Promise.resolve(gate(req, res, next)).catch(next);
      });
  };

  return { session, roles, requireStaff, nav };
}
