/**
 * Consent status records to partner services (MyData "Consent Status Record"): every change is put
 * in `consent.outbox` in the same transaction as the change, and delivered to the service's
 * registered webhook by `deliverDue()`, with retries and backoff. Each delivery is a POST of JSON:
 *
 *   Tsunagu-Event-Id: <outbox id>          (receivers deduplicate on it)
 *   Tsunagu-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
 *   { "type": "consent.status", "event": "withdrawn", "consentId": …, "version": 3, "state": …,
 *     "subject": <the resident's pairwise id at that service>, "dataItem": …, "purpose": …, … }
 *
 * A receiver orders records of one consent by `version`.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { AuditLog, Config, Database } from '../core/index.ts';
import { ProblemError } from '../core/index.ts';
import type { ResidentDirectory } from './ports.ts';
import type { Sealer } from './seal.ts';

const SECRET = 'webhook-secret';
const LEASE_MS = 60_000;
const MAX_BACKOFF_MS = 3_600_000;
const TIMEOUT_MS = 5_000;

export interface WebhookDeps {
  db: Database;
  audit: AuditLog;
  sealer: Sealer;
  directory: ResidentDirectory;
  config: Config;
  now: () => Date;
}

export async function registerWebhook(
  deps: WebhookDeps,
  service: string,
  url: string,
  actor: string,
): Promise<{ url: string; secret: string }> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ProblemError('validation-failed', { detail: 'url must be an absolute URL.' });
  }
  const https = parsed.protocol === 'https:';
  if (!https && !(parsed.protocol === 'http:' && deps.config.env !== 'production'))
    throw new ProblemError('validation-failed', { detail: 'The webhook url must use https.' });
  const secret = randomBytes(32).toString('base64url');
  await deps.db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO consent.webhooks (service_id, url, sealed_secret, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (service_id) DO UPDATE SET url = EXCLUDED.url, sealed_secret = EXCLUDED.sealed_secret,
         updated_at = EXCLUDED.updated_at`,
      [service, parsed.toString(), deps.sealer.seal(`${SECRET}:${service}`, secret), deps.now()],
    );
    await deps.audit.recordInTransaction(tx, {
      actor,
      action: 'consent.webhook.register',
      target: `service:${service}`,
      details: { origin: parsed.origin },
    });
  });
  return { url: parsed.toString(), secret };
}

export function signature(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

interface OutboxRow {
  id: string;
  service_id: string;
  resident: string;
  payload: Record<string, unknown>;
  attempts: number;
}

export interface DeliveryReport {
  delivered: number;
  failed: number;
}

/** Delivers due consent status records; safe to run from several instances at once (leases). */
export async function deliverDue(deps: WebhookDeps, limit = 50): Promise<DeliveryReport> {
  const now = deps.now();
  const { rows } = await deps.db.query<OutboxRow>(
    `UPDATE consent.outbox SET next_attempt_at = $2, attempts = attempts + 1
      WHERE id IN (SELECT id FROM consent.outbox WHERE delivered_at IS NULL AND next_attempt_at <= $1
                    ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
      RETURNING id, service_id, resident, payload, attempts`,
    [now, new Date(now.getTime() + LEASE_MS), limit],
  );
  const hooks = new Map<string, { url: string; secret: string } | null>();
  const report: DeliveryReport = { delivered: 0, failed: 0 };
  for (const row of rows.sort((a, b) => Number(a.id) - Number(b.id))) {
    if (!hooks.has(row.service_id)) {
      const { rows: found } = await deps.db.query<{ url: string; sealed_secret: string }>(
        'SELECT url, sealed_secret FROM consent.webhooks WHERE service_id = $1',
        [row.service_id],
      );
      const hook = found[0];
      hooks.set(
        row.service_id,
        hook
          ? { url: hook.url, secret: deps.sealer.open(`${SECRET}:${row.service_id}`, hook.sealed_secret) }
          : null,
      );
    }
    const hook = hooks.get(row.service_id);
    let status: number | null = null;
    let error: string | null = null;
    if (!hook) error = 'no webhook registered';
    else {
      try {
        const subject = await deps.directory.subjectFor(row.resident, row.service_id);
        const body = JSON.stringify({ ...row.payload, subject });
        const res = await fetch(hook.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'tsunagu-event-id': row.id,
            'tsunagu-signature': signature(hook.secret, Math.floor(deps.now().getTime() / 1000), body),
          },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
        await res.body?.cancel();
        status = res.status;
        if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`;
      } catch (e) {
        error = (e as Error).name === 'TimeoutError' ? 'timeout' : 'connection failed';
      }
    }
    if (error === null) {
      report.delivered += 1;
      await deps.db.query(
        'UPDATE consent.outbox SET delivered_at = $2, last_status = $3, last_error = NULL WHERE id = $1',
        [row.id, deps.now(), status],
      );
    } else {
      report.failed += 1;
      const backoff = Math.min(MAX_BACKOFF_MS, 5_000 * 2 ** Math.min(row.attempts - 1, 20));
      await deps.db.query(
        'UPDATE consent.outbox SET next_attempt_at = $2, last_status = $3, last_error = $4 WHERE id = $1',
        [row.id, new Date(deps.now().getTime() + backoff), status, error],
      );
    }
  }
  return report;
}
