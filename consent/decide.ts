/**
 * The decision other modules ask before personal data moves: "may service S receive item X about
 * resident R for purpose P now?" Deny by default: only a live record (both records of the pair for
 * a data flow), inside its validity, not paused, given under a notice with no newer material
 * version, allows. The answer names the consent and version it rests on, so the caller can log it.
 */
import type { Database } from '../core/index.ts';
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
  'no-consent' | 'paused' | 'withdrawn' | 'expired' | 'not-yet-valid' | 'reconsent-required';

export type Decision =
  | {
      decision: 'allow';
      consentId: string;
      version: number;
      /** For a data flow, the source side's record. */
      pair?: { id: string; sourceConsentId: string; sourceVersion: number };
    }
  | { decision: 'deny'; reason: DenyReason; consentId?: string; version?: number };

type KeyRow = Pick<
  RecordRow,
  'id' | 'version' | 'state' | 'valid_from' | 'valid_until' | 'notice_version' | 'side' | 'pair_id'
> & { material: number | null };

// One prepared statement per decision: every record for the key (live ones first, then the most
// recently ended), with the newest material notice version for the live ones.
const BY_KEY = `
  SELECT r.id, r.version, r.state, r.valid_from, r.valid_until, r.notice_version, r.side, r.pair_id,
         CASE WHEN r.state IN ('given', 'paused') THEN
           (SELECT max(n.version) FROM consent.notices n
             WHERE n.notice_id = r.notice_id AND n.material AND n.published_at <= $7) END AS material
    FROM consent.records r
   WHERE r.resident = $1 AND r.recipient_service = $2 AND coalesce(r.source_service, '') = $3
     AND r.data_item = $4 AND r.purpose = $5 AND r.side = ANY($6::text[])
   ORDER BY r.state IN ('given', 'paused') DESC, r.updated_at DESC, r.side = 'source', r.id
   LIMIT 8`;

function check(row: KeyRow, now: Date): DenyReason | null {
  if (row.valid_until && row.valid_until <= now) return 'expired';
  if (row.valid_from > now) return 'not-yet-valid';
  if (row.state === 'paused') return 'paused';
  if ((row.material ?? 0) > row.notice_version) return 'reconsent-required';
  return null;
}

export async function decide(db: Database, q: DecisionQuery, now: Date): Promise<Decision> {
  const sides = q.source ? ['source', 'sink'] : ['direct'];
  const { rows } = await db.pool.query<KeyRow>({
    name: 'consent-decide',
    text: BY_KEY,
    values: [q.resident, q.service, q.source ?? '', q.item, q.purpose, sides, now],
  });
  const live = rows.filter((r) => r.state === 'given' || r.state === 'paused');
  const main = live.find((r) => r.side !== 'source');
  const source = live.find((r) => r.side === 'source');
  if (!main || (q.source && !source)) {
    const last = rows.find((r) => r.state === 'withdrawn' || r.state === 'expired');
    return last
      ? {
          decision: 'deny',
          reason: last.state as 'withdrawn' | 'expired',
          consentId: last.id,
          version: last.version,
        }
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
