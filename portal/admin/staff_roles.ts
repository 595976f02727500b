/**
 * Console roles per staff member (`portal.staff_roles`). The identity provider knows staff accounts
 * and whether they are privileged; what each one may do in the console is granted here. Privileged
 * staff hold every role and are the ones who grant and revoke roles. Every change is audited.
 *
 * @example
 *   await roles.grant('st_abc', 'notices', 'staff:st_admin');
 *   await roles.of('st_abc'); // ['notices']
 */
import type { AuditLog, Database, Migration } from '../../core/index.ts';

export const STAFF_ROLES_MIGRATIONS: Migration[] = [
  {
    id: '001_staff_roles',
    sql: `
      -- What each staff member may do in the admin console (privileged staff hold every role).
      CREATE TABLE portal.staff_roles (
        staff_id    text        NOT NULL,
        role        text        NOT NULL CHECK (role ~ '^[a-z][a-z0-9_-]{0,39}$'),
        granted_by  text        NOT NULL,
        granted_at  timestamptz NOT NULL,
        PRIMARY KEY (staff_id, role)
      );`,
  },
];

export interface StaffRoles {
  of(staffId: string): Promise<string[]>;
  list(): Promise<Array<{ staffId: string; role: string; grantedBy: string; grantedAt: string }>>;
  grant(staffId: string, role: string, actor: string): Promise<boolean>;
  revoke(staffId: string, role: string, actor: string): Promise<boolean>;
}

export function createStaffRoles(db: Database, audit: AuditLog, now: () => Date): StaffRoles {
  return {
    async of(staffId) {
      const { rows } = await db.query<{ role: string }>(
        'SELECT role FROM portal.staff_roles WHERE staff_id = $1 ORDER BY role',
        [staffId],
      );
      return rows.map((r) => r.role);
    },
    async list() {
      const { rows } = await db.query<{
        staff_id: string;
        role: string;
        granted_by: string;
        granted_at: Date;
      }>('SELECT staff_id, role, granted_by, granted_at FROM portal.staff_roles ORDER BY staff_id, role');
      return rows.map((r) => ({
        staffId: r.staff_id,
        role: r.role,
        grantedBy: r.granted_by,
        grantedAt: r.granted_at.toISOString(),
      }));
    },
    async grant(staffId, role, actor) {
      return db.transaction(async (tx) => {
        const { rowCount } = await tx.query(
          `INSERT INTO portal.staff_roles (staff_id, role, granted_by, granted_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT DO NOTHING`,
          [staffId, role, actor, now()],
        );
        if (!rowCount) return false;
        await audit.recordInTransaction(tx, {
          actor,
          action: 'portal.staff-role.grant',
          target: `staff:${staffId}`,
          details: { role },
        });
        return true;
      });
    },
    async revoke(staffId, role, actor) {
      return db.transaction(async (tx) => {
        const { rowCount } = await tx.query(
          'DELETE FROM portal.staff_roles WHERE staff_id = $1 AND role = $2',
          [staffId, role],
        );
        if (!rowCount) return false;
        await audit.recordInTransaction(tx, {
          actor,
          action: 'portal.staff-role.revoke',
          target: `staff:${staffId}`,
          details: { role },
        });
        return true;
      });
    },
  };
}
