/** Residents with verified profiles for the staff pages' tests, put in the portal's resident directory. */
import type { ModuleContext } from '../../core/index.ts';
import type { VerifiedProfile } from '../../idp/index.ts';
import { createResidentDirectory } from '../../portal/municipal_services/resident_directory.ts';
import type { ConsolePlatform } from '../portal_admin/support.ts';

export async function createResidents(
  c: ConsolePlatform,
  people: Array<Pick<VerifiedProfile, 'address' | 'gender' | 'birthdate'>>,
): Promise<string[]> {
  const { db, config } = c.t.platform;
  const directory = createResidentDirectory(
    { db, config, now: () => new Date() } as ModuleContext,
    () => c.idp,
  );
  const ids: string[] = [];
  for (const [i, p] of people.entries()) {
    const commonId = await db.transaction((tx) =>
      c.idp.accounts.create(tx, 'test', {
        name: `住民 ${i}`,
        ...p,
        evidence: { issuer: 'test', serial: String(i), verifiedAt: new Date().toISOString() },
      }),
    );
    await directory.refresh(commonId);
    ids.push(commonId);
  }
  return ids;
}
