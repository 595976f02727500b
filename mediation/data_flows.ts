/**
 * Service-to-service data flows: service A sends items about a resident to service B through the
 * platform, only under a data-flow consent (the source and sink records of a pair).
 *
 *   send:    checkFlowRule → residentFor (A's subject) → checkConsent (B, source A) → seal the
 *            allowed items for B and log `flow-send` in one transaction (no log, no delivery)
 *   receive: B fetches its pending deliveries; consent is checked again at that moment and each
 *            hand-over is logged `flow-receive`; B's acknowledgement deletes the sealed payload
 */
import { randomUUID } from 'node:crypto';
import { type Database, openWith, ProblemError, type Queryable, sealWith } from '../core/index.ts';
import { checkFlowRule } from './check_registry.ts';
import { checkConsent, overall } from './check_consent.ts';
import type { DataKeys } from './data_keys.ts';
import {
  logOrRefuse,
  NOT_PERMITTED,
  type PipelineDeps,
  refusalDetail,
  suppressionEnd,
} from './provide_items.ts';

export interface FlowDeps extends PipelineDeps {
  db: Database;
  keys: DataKeys;
  /** The municipality whose data key seals a resident's payload. */
  municipalityOf: (resident: string) => Promise<string>;
}

export interface SendRequest {
  source: string;
  to: string;
  subject: string;
  purpose: string;
  items: Record<string, string>;
}

export interface SendAnswer {
  flowId: string;
  delivered: string[];
  consents: Array<{
    item: string;
    consentId: string;
    version: number;
    sourceConsentId: string;
    sourceVersion: number;
  }>;
  withheld: string[];
}

export interface Delivery {
  flowId: string;
  source: string;
  /** The resident as the receiving service knows them (its pairwise subject). */
  subject: string;
  purpose: string;
  items: Record<string, string>;
  consents: Array<{ item: string; consentId: string; version: number }>;
  withheld: string[];
  sentAt: string;
}

const aad = (id: string) => `tsunagu/mediation/flow/${id}`;

/** `tx`, when given (an Idempotency-Key claim), holds the delivery; otherwise it gets its own transaction. */
export async function sendFlow(deps: FlowDeps, req: SendRequest, tx?: Queryable): Promise<SendAnswer> {
  const items = Object.keys(req.items);
  const base = {
    kind: 'flow-send' as const,
    service: req.to,
    source: req.source,
    items,
    purpose: req.purpose,
  };
  const rule = await checkFlowRule(deps.registry, req.source, req.to, req.purpose, items);
  const resident = (await deps.directory.residentFor(req.source, req.subject)) ?? null;
  const suppressedUntil = suppressionEnd(rule.purpose, deps.now());
  if (!rule.ok) {
    await logOrRefuse(deps.log, {
      ...base,
      resident,
      decision: 'deny',
      code: rule.code,
      consents: [],
      suppressedUntil,
    });
    throw new ProblemError(rule.code, {
      detail: refusalDetail(rule.code, req.purpose, rule.outside),
      ...(rule.outside ? { items: rule.outside } : {}),
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
    service: req.to,
    source: req.source,
    purpose: req.purpose,
    items,
  });
  const decision = overall(decisions);
  const entry = {
    ...base,
    resident,
    decision,
    code: decision === 'deny' ? (decisions[0]?.reason ?? 'no-consent') : null,
    consents: decisions,
    suppressedUntil,
  };
  if (decision === 'deny') {
    await logOrRefuse(deps.log, entry);
    throw new ProblemError('not-permitted', { detail: NOT_PERMITTED });
  }
  const allowed = decisions.filter((d) => d.decision === 'allow');
  const flowId = randomUUID();
  const municipality = await deps.municipalityOf(resident);
  const deliver = async (tx: Queryable) => {
    const { version, key } = await deps.keys.active(municipality, tx);
    const payload = Object.fromEntries(allowed.map((d) => [d.item, req.items[d.item]]));
    await tx.query(
      `INSERT INTO mediation.flow_deliveries (id, source, recipient, resident, purpose, items, consents,
                                              municipality, key_version, sealed, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        flowId,
        req.source,
        req.to,
        resident,
        req.purpose,
        allowed.map((d) => d.item),
        JSON.stringify(decisions),
        municipality,
        version,
        sealWith(key, aad(flowId), JSON.stringify(payload)),
        deps.now(),
      ],
    );
    // The delivery commits only once its log entry is written.
    await logOrRefuse(deps.log, entry);
  };
  if (tx) await deliver(tx);
  else await deps.db.transaction(deliver);
  return {
    flowId,
    delivered: allowed.map((d) => d.item),
    consents: allowed.map((d) => ({
      item: d.item,
      consentId: d.consentId!,
      version: d.version!,
      sourceConsentId: d.sourceConsentId!,
      sourceVersion: d.sourceVersion!,
    })),
    withheld: decisions.filter((d) => d.decision === 'deny').map((d) => d.item),
  };
}

interface DeliveryRow {
  id: string;
  source: string;
  resident: string;
  purpose: string;
  items: string[];
  municipality: string;
  key_version: number;
  sealed: string;
  created_at: Date;
}

/**
 * The deliveries waiting for `service`, oldest first. Consent is checked again now and each hand-over
 * is logged; nothing is removed, so a lost answer can be fetched again (and is logged again) until
 * the service acknowledges the deliveries with `ackFlows`.
 */
export async function receiveFlows(deps: FlowDeps, service: string, limit = 50): Promise<Delivery[]> {
  const { rows } = await deps.db.query<DeliveryRow>(
    `SELECT id, source, resident, purpose, items, municipality, key_version, sealed, created_at
       FROM mediation.flow_deliveries WHERE recipient = $1 AND received_at IS NULL
      ORDER BY created_at, id LIMIT $2`,
    [service, limit],
  );
  const registered = await deps.registry.cached(service);
  const out: Delivery[] = [];
  for (const row of rows) {
    const decisions = await checkConsent(deps.decider, {
      resident: row.resident,
      service,
      source: row.source,
      purpose: row.purpose,
      items: row.items,
    });
    const decision = overall(decisions);
    await logOrRefuse(deps.log, {
      kind: 'flow-receive',
      service,
      source: row.source,
      resident: row.resident,
      items: row.items,
      purpose: row.purpose,
      decision,
      code: decision === 'deny' ? (decisions[0]?.reason ?? 'no-consent') : null,
      consents: decisions,
      suppressedUntil: suppressionEnd(
        registered?.purposes.find((p) => p.code === row.purpose),
        deps.now(),
      ),
    });
    const allowed = decisions.filter((d) => d.decision === 'allow');
    const payload =
      allowed.length > 0
        ? (JSON.parse(
            openWith(await deps.keys.get(row.municipality, row.key_version), aad(row.id), row.sealed),
          ) as Record<string, string>)
        : {};
    out.push({
      flowId: row.id,
      source: row.source,
      subject: await deps.directory.subjectFor(row.resident, service),
      purpose: row.purpose,
      items: Object.fromEntries(allowed.map((d) => [d.item, payload[d.item]!])),
      consents: allowed.map((d) => ({ item: d.item, consentId: d.consentId!, version: d.version! })),
      withheld: decisions.filter((d) => d.decision === 'deny').map((d) => d.item),
      sentAt: row.created_at.toISOString(),
    });
  }
  return out;
}

/** The recipient confirms it holds the deliveries: their sealed payloads are deleted. Idempotent. */
export async function ackFlows(deps: FlowDeps, service: string, flowIds: string[]): Promise<string[]> {
  const { rows } = await deps.db.query<{ id: string }>(
    `UPDATE mediation.flow_deliveries SET received_at = $3, sealed = NULL
      WHERE recipient = $1 AND id = ANY($2::text[]) AND received_at IS NULL RETURNING id`,
    [service, flowIds, deps.now()],
  );
  return rows.map((r) => r.id);
}
