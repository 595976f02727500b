/**
 * The decision other modules ask before personal data moves: "may service S receive item X about
 * resident R for purpose P now?" Deny by default: only a live record (both records of the pair for
 * a data flow), inside its validity, not paused, given under a notice with no newer material
 * version, allows. The answer names the consent and version it rests on, so the caller can log it.
 */
import type { Queryable } from '../core/index.ts';
import type { RecordRow } from './records.ts';

export interface DecisionQuery {
  /** The resident's common ID. */
  resident: string;
  /** The receiving service (partner client id). */
  service: string;
  item: string;
  purpose: string;
  /** For a data flow: the service that passes the item to `service`. */
  source?: string | null;
}

export type DenyReason =
  | 'no-consent'
  | 'paused'
  | 'withdrawn'
  | 'expired'
  | 'not-yet-valid'
  | 'reconsent-required';

export type Decision =
  | {
      decision: 'allow';
      consentId: string;
      version: number;
      /** For a data flow, the source side's record. */
      pair?: { id: string; sourceConsentId: string; sourceVersion: number };
    }
  | { decision: 'deny'; reason: DenyReason; consentId?: string; version?: number };

type LiveRow = Pick<
  RecordRow,
  'id' | 'version' | 'state' | 'valid_from' | 'valid_until' | 'notice_version' | 'side' | 'pair_id'
> & { material: number | null };

const LIVE = `
  SELECT r.id, r.version, r.state, r.valid_from, r.valid_until, r.notice_version, r.side, r.pair_id,
         (SELECT max(n.version) FROM consent.notices n
           WHERE n.notice_id = r.notice_id AND n.material AND n.published_at <= $7) AS material
    FROM consent.records r
   WHERE r.resident = $1 AND r.recipient_service = $2 AND coalesce(r.source_service, '') = $3
     AND r.data_item = $4 AND r.purpose = $5 AND r.side = ANY($6::text[]) AND r.state IN ('given', 'paused')`;

const LAST_FINAL = `
  SELECT id, version, state FROM consent.records
   WHERE resident = $1 AND recipient_service = $2 AND coalesce(source_service, '') = $3
     AND data_item = $4 AND purpose = $5 AND side = ANY($6::text[]) AND state IN ('withdrawn', 'expired')
   ORDER BY updated_at DESC, side = 'source', id LIMIT 1`;

function check(row: LiveRow, now: Date): DenyReason | null {
  if (row.valid_until && row.valid_until <= now) return 'expired';
  if (row.valid_from > now) return 'not-yet-valid';
  if (row.state === 'paused') return 'paused';
  if ((row.material ?? 0) > row.notice_version) return 'reconsent-required';
  return null;
}

export async function decide(db: Queryable, q: DecisionQuery, now: Date): Promise<Decision> {
  const sides = q.source ? ['source', 'sink'] : ['direct'];
  const params = [q.resident, q.service, q.source ?? '', q.item, q.purpose, sides];
  const { rows } = await db.query<LiveRow>(LIVE, [...params, now]);
  const main = rows.find((r) => r.side !== 'source');
  const source = rows.find((r) => r.side === 'source');
  if (!main || (q.source && !source)) {
    const { rows: finals } = await db.query<{ id: string; version: number; state: 'withdrawn' | 'expired' }>(
      LAST_FINAL,
      params,
    );
    const last = finals[0];
    return last
      ? { decision: 'deny', reason: last.state, consentId: last.id, version: last.version }
      : { decision: 'deny', reason: 'no-consent' };
  }
  for (const row of [main, ...(source ? [source] : [])]) {
    const reason = check(row, now);
    if (reason) return { decision: 'deny', reason, consentId: row.id, version: row.version };
  }
  return {
    decision: 'allow',
    consentId: main.id,
    version: main.version,
    ...(source
      ? { pair: { id: main.pair_id!, sourceConsentId: source.id, sourceVersion: source.version } }
      : {}),
  };
}
