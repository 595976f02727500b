/**
 * Step: the service, its purpose and every requested item must be registered. Refusals here depend
 * only on the registry, never on the resident, so they reveal nothing about residents.
 */
import type { Purpose, RegisteredService, ServiceRegistry } from './service_registry.ts';

export type RegistryCheck =
  | { ok: true; service: RegisteredService; purpose: Purpose }
  | {
      ok: false;
      code:
        'service-not-registered' | 'purpose-not-registered' | 'item-not-registered' | 'flow-not-registered';
      outside?: string[];
      purpose?: Purpose;
    };

export async function checkRegistry(
  registry: ServiceRegistry,
  service: string,
  purposeCode: string,
  items: readonly string[],
  /** Items the request path can serve at all (the read API serves stored items only). */
  servable: (item: string) => boolean,
): Promise<RegistryCheck> {
  const entry = await registry.cached(service);
  if (!entry || entry.state !== 'active') return { ok: false, code: 'service-not-registered' };
  const purpose = entry.purposes.find((p) => p.code === purposeCode);
  if (!purpose) return { ok: false, code: 'purpose-not-registered' };
  const outside = items.filter((i) => !entry.items.includes(i) || !servable(i));
  if (outside.length > 0) return { ok: false, code: 'item-not-registered', outside, purpose };
  return { ok: true, service: entry, purpose };
}

/** Step for a data flow: the sender's registry entry must list a flow to `to` for these items and purpose. */
export async function checkFlowRule(
  registry: ServiceRegistry,
  source: string,
  to: string,
  purposeCode: string,
  items: readonly string[],
): Promise<RegistryCheck> {
  const sender = await registry.cached(source);
  if (!sender || sender.state !== 'active') return { ok: false, code: 'service-not-registered' };
  const recipient = await registry.cached(to);
  const rules = sender.flows.filter((f) => f.to === to && f.purposes.includes(purposeCode));
  if (!recipient || recipient.state !== 'active' || rules.length === 0)
    return { ok: false, code: 'flow-not-registered' };
  const purpose = recipient.purposes.find((p) => p.code === purposeCode) ??
    sender.purposes.find((p) => p.code === purposeCode) ?? { code: purposeCode, label: purposeCode };
  const outside = items.filter((i) => !rules.some((r) => r.items.includes(i)));
  if (outside.length > 0) return { ok: false, code: 'item-not-registered', outside, purpose };
  return { ok: true, service: recipient, purpose };
}
