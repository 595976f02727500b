/**
 * Residents with verified profiles for the staff pages' tests, enrolled at the identity provider:
 * the portal's resident directory records them through `accounts.onProfile`, as on a real enrolment.
 */
import type { VerifiedProfile } from '../../idp/index.ts';
import type { ConsolePlatform } from '../portal_admin/support.ts';

export async function createResidents(
  c: ConsolePlatform,
  people: Array<Pick<VerifiedProfile, 'address' | 'gender' | 'birthdate'>>,
): Promise<string[]> {
  const { db } = c.t.platform;
  const ids: string[] = [];
  for (const [i, p] of people.entries()) {
    const commonId = await db.transaction((tx) =>
      c.idp.accounts.create(tx, 'test', {
        name: `住民 ${i}`,
        ...p,
        evidence: { issuer: 'test', serial: String(i), verifiedAt: new Date().toISOString() },
      }),
    );
    ids.push(commonId);
  }
  return ids;
}
