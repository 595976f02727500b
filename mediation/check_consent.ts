/**
 * Step: ask the consent module, item by item and at request time, whether the items may move. Deny
 * by default: an item is allowed only on an `allow` naming its consent id and version.
 */
import type { ItemDecision } from './access_log.ts';
import type { Decider } from './ports.ts';

export async function checkConsent(
  decider: Decider,
  query: { resident: string; service: string; source?: string; purpose: string; items: readonly string[] },
): Promise<ItemDecision[]> {
  return Promise.all(
    query.items.map(async (item): Promise<ItemDecision> => {
      const d = await decider.decide({
        resident: query.resident,
        service: query.service,
        item,
        purpose: query.purpose,
        ...(query.source ? { source: query.source } : {}),
      });
      if (d.decision === 'allow')
        return {
          item,
          decision: 'allow',
          consentId: d.consentId,
          version: d.version,
          ...(d.pair ? { sourceConsentId: d.pair.sourceConsentId, sourceVersion: d.pair.sourceVersion } : {}),
        };
      return {
        item,
        decision: 'deny',
        reason: d.reason,
        ...(d.consentId ? { consentId: d.consentId, version: d.version! } : {}),
      };
    }),
  );
}

export function overall(decisions: readonly ItemDecision[]): 'allow' | 'partial' | 'deny' {
  const allowed = decisions.filter((d) => d.decision === 'allow').length;
  return allowed === 0 ? 'deny' : allowed === decisions.length ? 'allow' : 'partial';
}
