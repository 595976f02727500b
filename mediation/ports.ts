/**
 * What mediation needs from the identity provider and the consent module, as ports. The defaults
 * (`idpDirectory`, `consentDecider`) use those modules' services; every implementation follows:
 *   - `residentFor(service, sub)`  the active resident behind service's pairwise subject, or undefined
 *                                  (unknown subject, disabled account: the same answer)
 *   - `subjectFor(resident, service)` the pairwise subject service knows the resident by
 *   - `clientExists(clientId)`     a registered partner client
 *   - `clientOfToken(token)`       the client a bearer token was issued to (for logging refusals)
 *   - `decide(query)`              the consent module's decision, deny by default
 */
import type { Decision, DecisionQuery } from '../consent/index.ts';
import type { IdpServices } from '../idp/index.ts';

export interface Directory {
  residentFor(service: string, sub: string): Promise<string | undefined>;
  subjectFor(resident: string, service: string): Promise<string>;
  clientExists(clientId: string): Promise<boolean>;
  clientOfToken(token: string): Promise<string | undefined>;
}

export interface Decider {
  decide(query: DecisionQuery): Promise<Decision>;
}

export function idpDirectory(idp: IdpServices): Directory {
  return {
    async residentFor(service, sub) {
      const resident = await idp.accounts.commonIdForSubject(service, sub);
      return resident && (await idp.accounts.isActive(resident)) ? resident : undefined;
    },
    subjectFor: (resident, service) => idp.accounts.pairwiseSubject(resident, service),
    async clientExists(clientId) {
      try {
        await idp.clients.get(clientId);
        return true;
      } catch {
        return false;
      }
    },
    async clientOfToken(token) {
      try {
        const provider = idp.provider();
        const found =
          (await provider.ClientCredentials.find(token)) ?? (await provider.AccessToken.find(token));
        return found?.clientId;
      } catch {
        return undefined;
      }
    },
  };
}
