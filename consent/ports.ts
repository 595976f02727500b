/**
 * Port: what the consent module needs to know about residents and partner services. The identity
 * provider implements it (`idpDirectory`); tests may pass their own through `consentModule`.
 *
 * Every implementation follows this contract:
 *   - `residentActive(commonId)`   true only for an existing, active common ID
 *   - `serviceExists(serviceId)`   true only for a registered, enabled partner client id
 *   - `commonIdForSubject(s, sub)` the common ID behind service s's pairwise subject, or undefined
 *   - `subjectFor(commonId, s)`    the pairwise subject service s knows the resident by
 */
import { ProblemError } from '../core/index.ts';

export interface ResidentDirectory {
  residentActive(commonId: string): Promise<boolean>;
  serviceExists(serviceId: string): Promise<boolean>;
  commonIdForSubject(serviceId: string, sub: string): Promise<string | undefined>;
  subjectFor(commonId: string, serviceId: string): Promise<string>;
}

/** The slice of the idp module's services this module uses (see `idp/index.ts`). */
interface IdpSlice {
  accounts: {
    isActive(commonId: string): Promise<boolean>;
    pairwiseSubject(commonId: string, clientId: string): Promise<string>;
    commonIdForSubject(clientId: string, sub: string): Promise<string | undefined>;
  };
  clients: { get(clientId: string): Promise<{ status?: string }> };
}

/** Resolves the idp at call time (it may be assembled after this module); fails closed without it. */
export function idpDirectory(services: Readonly<Record<string, unknown>>): ResidentDirectory {
  const idp = () => {
    const found = services['idp'] as IdpSlice | undefined;
    if (!found) throw new ProblemError('not-ready', { detail: 'The identity provider is not available.' });
    return found;
  };
  return {
    residentActive: (commonId) => idp().accounts.isActive(commonId),
    async serviceExists(serviceId) {
      try {
        const client = await idp().clients.get(serviceId);
        return client.status === undefined || client.status === 'active';
      } catch (error) {
        if (error instanceof ProblemError && error.status === 404) return false;
        throw error;
      }
    },
    commonIdForSubject: (serviceId, sub) => idp().accounts.commonIdForSubject(serviceId, sub),
    subjectFor: (commonId, serviceId) => idp().accounts.pairwiseSubject(commonId, serviceId),
  };
}
