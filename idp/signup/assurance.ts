/**
 * Assurance levels of residents and the minimums point types require. Partner clients already
 * carry their own minimum (`minimumAcr` in the client registry, enforced at sign-in); a point type's
 * minimum is kept here and asked by whoever credits it (e.g. "personal data needs the card, shop
 * points do not").
 *
 * @example
 *   await idp.assurance.setPointTypeMinimum('saijo-lsp', 'health', ACR.jpkiSign, 'staff:st_1');
 *   if (!(await idp.assurance.mayReceive(commonId, 'saijo-lsp', 'health'))) refuse();
 */
import type { AuditLog, Database } from '../../core/index.ts';
import { ACR, ACR_RANK, meetsAcr } from '../provider/create_provider.ts';

export interface Assurance {
  /** The highest level the resident has proven and still holds (undefined: no such active account). */
  levelOf(commonId: string): Promise<string | undefined>;
  setPointTypeMinimum(
    currency: string,
    pointType: string,
    minimum: string | null,
    actor: string,
  ): Promise<void>;
  pointTypeMinimum(currency: string, pointType: string): Promise<string | undefined>;
  /** Whether the resident's level meets the point type's minimum (no minimum: yes). */
  mayReceive(commonId: string, currency: string, pointType: string): Promise<boolean>;
}

export function createAssurance(options: { db: Database; audit: AuditLog; now: () => Date }): Assurance {
  const { db, audit, now } = options;
  const subject = (currency: string, pointType: string) => `point-type:${currency}/${pointType}`;
  const service: Assurance = {
    async levelOf(commonId) {
      const { rows } = await db.query<{ status: string; kinds: string[] | null }>(
        `SELECT a.status, array_agg(e.kind) FILTER (WHERE e.status = 'active') AS kinds
           FROM idp.accounts a LEFT JOIN idp.evidence e ON e.common_id = a.common_id
          WHERE a.common_id = $1 GROUP BY a.status`,
        [commonId],
      );
      const row = rows[0];
      if (row?.status !== 'active') return undefined;
      const kinds = new Set(row.kinds ?? []);
      if (kinds.has('jpki-sign')) return ACR.jpkiSign;
      if (kinds.has('jpki-auth')) return ACR.jpkiAuth;
      if (kinds.has('federated')) return ACR.federated;
      return ACR.selfAsserted;
    },
    async setPointTypeMinimum(currency, pointType, minimum, actor) {
      if (minimum !== null && !ACR_RANK.includes(minimum)) throw new Error(`unknown acr ${minimum}`);
      await db.transaction(async (tx) => {
        if (minimum === null)
          await tx.query('DELETE FROM idp.assurance_minimums WHERE subject = $1', [
            subject(currency, pointType),
          ]);
        else
          await tx.query(
            `INSERT INTO idp.assurance_minimums (subject, minimum, updated_at, updated_by) VALUES ($1, $2, $3, $4)
             ON CONFLICT (subject) DO UPDATE SET minimum = $2, updated_at = $3, updated_by = $4`,
            [subject(currency, pointType), minimum, now(), actor],
          );
        await audit.recordInTransaction(tx, {
          actor,
          action: 'idp.assurance.minimum',
          target: subject(currency, pointType),
          details: { minimum },
        });
      });
    },
    async pointTypeMinimum(currency, pointType) {
      const { rows } = await db.query<{ minimum: string }>(
        'SELECT minimum FROM idp.assurance_minimums WHERE subject = $1',
        [subject(currency, pointType)],
      );
      return rows[0]?.minimum;
    },
    async mayReceive(commonId, currency, pointType) {
      const minimum = await service.pointTypeMinimum(currency, pointType);
      if (!minimum) return true;
      const level = await service.levelOf(commonId);
      return level !== undefined && meetsAcr(level, minimum);
    },
  };
  return service;
}
