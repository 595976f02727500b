/**
 * A partner reads a resident's items. The pipeline, one step per line:
 *
 *   checkRegistry   service, purpose and items registered         else refuse (registry code)
 *   residentFor     the service's pairwise subject → resident     else `no-link`
 *   checkConsent    consent decision per item, now                deny by default
 *   personal.get    unseal only the allowed items
 *   log.record      the attempt, names only                       if it fails, nothing is served
 *   answer          allowed items + consent id/version, or `not-permitted`
 *
 * Every refusal about the resident (no link, no consent, paused, withdrawn, expired, …) is the same
 * `not-permitted` answer; the access log keeps the reason.
 */
import { ProblemError } from '../core/index.ts';
import type { AccessEntry, AccessLog, ItemDecision } from './access_log.ts';
import { checkRegistry } from './check_registry.ts';
import { checkConsent, overall } from './check_consent.ts';
import type { PersonalData } from './personal_data.ts';
import { isStoredItem } from './personal_data.ts';
import type { Decider, Directory } from './ports.ts';
import type { Purpose, ServiceRegistry } from './service_registry.ts';

export interface PipelineDeps {
  registry: ServiceRegistry;
  directory: Directory;
  decider: Decider;
  personal: PersonalData;
  log: AccessLog;
  now: () => Date;
}

export interface ReadRequest {
  service: string;
  subject: string;
  items: string[];
  purpose: string;
}

export interface ReadAnswer {
  subject: string;
  purpose: string;
  items: Record<string, string>;
  consents: Array<{ item: string; consentId: string; version: number }>;
  /** Items not provided: no consent for them (the reason is not told). */
  withheld: string[];
  /** Consented items the platform holds no value for. */
  unavailable: string[];
}

export const NOT_PERMITTED = 'No consented item can be provided for this subject and purpose.';

export function suppressionEnd(purpose: Purpose | undefined, at: Date): Date | null {
  return purpose?.suppressDays ? new Date(at.getTime() + purpose.suppressDays * 86_400_000) : null;
}

/** Writes the entry; a failed write becomes `access-log-unavailable` and nothing is served. */
export async function logOrRefuse(log: AccessLog, entry: AccessEntry): Promise<void> {
  try {
    await log.record(entry);
  } catch (error) {
    throw new ProblemError('access-log-unavailable', {
      detail: 'Nothing was provided; try again later.',
      cause: error,
    });
  }
}

/** Public text for a registry refusal (it depends on the registry only, never on the resident). */
export function refusalDetail(code: string, purpose: string, outside?: string[]): string {
  if (code === 'item-not-registered') return `Outside the registered scope: ${(outside ?? []).join(', ')}.`;
  if (code === 'purpose-not-registered') return `The purpose ${purpose} is not registered for this service.`;
  if (code === 'flow-not-registered') return 'No such data flow is registered for this service.';
  return 'This service is not registered for data mediation.';
}

export async function provideItems(deps: PipelineDeps, req: ReadRequest): Promise<ReadAnswer> {
  const items = [...new Set(req.items)];
  const base = { kind: 'read' as const, service: req.service, items, purpose: req.purpose };
  const registered = await checkRegistry(deps.registry, req.service, req.purpose, items, isStoredItem);
  const resident = (await deps.directory.residentFor(req.service, req.subject)) ?? null;
  const suppressedUntil = suppressionEnd(registered.purpose, deps.now());

  if (!registered.ok) {
    await logOrRefuse(deps.log, {
      ...base,
      resident,
      decision: 'deny',
      code: registered.code,
      consents: [],
      suppressedUntil,
    });
    throw new ProblemError(registered.code, {
      detail: refusalDetail(registered.code, req.purpose, registered.outside),
      ...(registered.outside ? { items: registered.outside } : {}),
    });
  }
  if (!resident) {
    await logOrRefuse(deps.log, {
      ...base,
      resident,
      decision: 'deny',
      code: 'no-link',
      consents: [],
      suppressedUntil,
    });
    throw new ProblemError('not-permitted', { detail: NOT_PERMITTED });
  }

  const decisions = await checkConsent(deps.decider, {
    resident,
    service: req.service,
    purpose: req.purpose,
    items,
  });
  const allowed = decisions.filter(
    (d): d is ItemDecision & { consentId: string; version: number } => d.decision === 'allow',
  );
  const values =
    allowed.length > 0
      ? await deps.personal.get(
          resident,
          allowed.map((d) => d.item),
        )
      : {};
  const decision = overall(decisions);
  await logOrRefuse(deps.log, {
    ...base,
    resident,
    decision,
    code: decision === 'deny' ? (decisions[0]?.reason ?? 'no-consent') : null,
    consents: decisions,
    suppressedUntil,
  });
  if (decision === 'deny') throw new ProblemError('not-permitted', { detail: NOT_PERMITTED });
  return {
    subject: req.subject,
    purpose: req.purpose,
    items: values as Record<string, string>,
    consents: allowed.map((d) => ({ item: d.item, consentId: d.consentId, version: d.version })),
    withheld: decisions.filter((d) => d.decision === 'deny').map((d) => d.item),
    unavailable: allowed.filter((d) => !(d.item in values)).map((d) => d.item),
  };
}
