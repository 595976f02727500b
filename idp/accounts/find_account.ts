/**
 * oidc-provider's `findAccount`: the claims a client receives about a resident. `sub` is the common
 * ID (the provider turns it into the client's pairwise subject); the basic 4 info only with the
 * `profile` scope; `verified_claims` (OpenID Connect for Identity Assurance, evidence type
 * `electronic_signature`) only with the `verified_claims` scope and for clients allowed to receive it.
 * Claims the resident declined on the consent page arrive in `rejected` and are left out.
 */
import type { Account, FindAccount } from 'oidc-provider';
import type { AuditLog } from '../../core/index.ts';
import { STAFF_PREFIX } from '../provider/create_provider.ts';
import type { StaffAccounts } from '../staff/staff_accounts.ts';
import type { Accounts } from './accounts.ts';

export function createFindAccount(options: {
  accounts: Accounts;
  audit: AuditLog;
  mayReceiveVerifiedClaims: (clientId: string) => Promise<boolean>;
  staff: StaffAccounts;
}): FindAccount {
  const { accounts, audit } = options;
  return async (ctx, sub): Promise<Account | undefined> => {
    if (sub.startsWith(STAFF_PREFIX)) {
      if (!(await options.staff.isActive(sub))) return undefined;
      const member = await options.staff.find(sub);
      return {
        accountId: sub,
        claims: (_use, scope) => ({
          sub,
          ...(scope.split(' ').includes('profile') && member ? { preferred_username: member.username } : {}),
        }),
      };
    }
    const account = await accounts.find(sub);
    if (account?.status !== 'active') return undefined;
    return {
      accountId: account.commonId,
      async claims(use, scope, _claims, rejected) {
        const scopes = new Set(scope.split(' '));
        const out: Record<string, unknown> & { sub: string } = { sub: account.commonId };
        const p = account.profile;
        if (!p) return out;
        const wanted = (claim: string) => !rejected.includes(claim);
        const clientId = ctx.oidc.client?.clientId ?? 'unknown';
        const released: string[] = [];
        if (scopes.has('profile')) {
          const values: Record<string, string> = {
            name: p.name,
            birthdate: p.birthdate,
            gender: p.gender,
            address: p.address,
          };
          for (const [k, v] of Object.entries(values)) {
            if (wanted(k)) {
              out[k] = k === 'address' ? { formatted: v } : v;
              released.push(k);
            }
          }
        }
        if (
          scopes.has('verified_claims') &&
          wanted('verified_claims') &&
          (await options.mayReceiveVerifiedClaims(clientId))
        ) {
          out['verified_claims'] = {
            verification: {
              trust_framework: account.trustFramework,
              evidence: [
                {
                  type: 'electronic_signature',
                  signature_type: 'jpki_sign',
                  issuer: p.evidence.issuer,
                  serial_number: p.evidence.serial,
                  created_at: p.evidence.verifiedAt,
                },
              ],
            },
            claims: {
              name: p.name,
              birthdate: p.birthdate,
              gender: p.gender,
              address: { formatted: p.address },
            },
          };
          released.push('verified_claims');
        }
        if (released.length > 0) {
          await audit.record({
            actor: `client:${clientId}`,
            action: 'idp.claims.release',
            target: `account:${account.commonId}`,
            details: { use, claims: released },
          });
        }
        return out;
      },
    };
  };
}
