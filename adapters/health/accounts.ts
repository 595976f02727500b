/**
 * Which resident an e-mail address of the health app belongs to. The identity provider keeps no
 * e-mail addresses (its accounts are My Number card-verified common IDs), so the adapter keeps its
 * own mapping, fed by the resident's link page (signed in through our provider) or by staff (from
 * the health app's sign-up list). Addresses are sealed at rest and looked up by an HMAC blind index,
 * so an import of 100k rows never decrypts anything.
 *
 * An address already linked to another resident is refused on the resident's page (409): only staff
 * can move it, so nobody collects another person's health points by typing their address.
 */
import type { AuditLog, Database } from '../../core/index.ts';
import { ProblemError } from '../../core/index.ts';
import type { Sealer } from '../kit/index.ts';
import { normaliseEmail } from './parse_health_csv.ts';

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

export interface HealthAccounts {
  link(input: {
    email: string;
    commonId: string;
    via: 'resident' | 'staff';
    actor: string;
  }): Promise<{ moved: boolean }>;
  count(): Promise<number>;
}

export function createHealthAccounts(deps: {
  db: Database;
  audit: AuditLog;
  emails: Sealer;
  now: () => Date;
}): HealthAccounts {
  return {
    async link(input) {
      // (via 'idp' rows are written by the importer when the identity provider knew the address)
      const email = normaliseEmail(input.email);
      if (!EMAIL.test(email))
        throw new ProblemError('validation-failed', { detail: 'Not an e-mail address.' });
      const index = deps.emails.blindIndex(email);
      return deps.db.transaction(async (tx) => {
        const { rows } = await tx.query<{ commonId: string }>(
          'SELECT common_id AS "commonId" FROM adapters.health_account WHERE email_index = $1 FOR UPDATE',
          [index],
        );
        const current = rows[0]?.commonId;
        if (current === input.commonId) return { moved: false };
        if (current && input.via === 'resident')
          throw new ProblemError('conflict', {
            detail: 'This address is linked to another resident; ask the city office.',
          });
        await tx.query(
          `INSERT INTO adapters.health_account (email_index, email_sealed, common_id, via, linked_at)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (email_index) DO UPDATE SET common_id = EXCLUDED.common_id, via = EXCLUDED.via,
                                                  linked_at = EXCLUDED.linked_at`,
          [index, deps.emails.seal(index, email), input.commonId, input.via, deps.now()],
        );
        await deps.audit.recordInTransaction(tx, {
          actor: input.actor,
          action: 'adapters.health.account.link',
          target: `resident:${input.commonId}`,
          details: { via: input.via, moved: current !== undefined },
        });
        return { moved: current !== undefined };
      });
    },
    async count() {
      const { rows } = await deps.db.query<{ n: string }>(
        'SELECT count(*)::text AS n FROM adapters.health_account',
      );
      return Number(rows[0]?.n ?? 0);
    },
  };
}
