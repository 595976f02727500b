/**
 * The one way a consent record changes: the record row, its event, the audit entry and the consent
 * status record for the concerned service are written together in the caller's transaction.
 */
import { randomUUID } from 'node:crypto';
import type { AuditLog, Queryable } from '../core/index.ts';
import type { ConsentState, EventType, RecordRow } from './records.ts';

export interface NewRecord {
  pairId: string | null;
  side: RecordRow['side'];
  resident: string;
  dataItem: string;
  sourceService: string | null;
  recipientService: string;
  purpose: string;
  noticeId: string;
  noticeVersion: number;
  legalBasis: string;
  language: string;
  collectionMethod: string;
  withdrawalMethod: string;
  validUntil: Date | null;
}

export interface ChangeContext {
  tx: Queryable;
  audit: AuditLog;
  now: Date;
  /** Who made the change, as shown in history: `resident`, `system`, `staff:<id>`. */
  actor: string;
}

/** The service a record's changes are reported to: the source side tells the source service. */
export function concernedService(
  row: Pick<RecordRow, 'side' | 'source_service' | 'recipient_service'>,
): string {
  return row.side === 'source' && row.source_service ? row.source_service : row.recipient_service;
}

async function afterChange(c: ChangeContext, row: RecordRow, type: EventType): Promise<void> {
  await c.tx.query(
    `INSERT INTO consent.events (record_id, version, event_type, state, notice_version, valid_until, at, actor)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [row.id, row.version, type, row.state, row.notice_version, row.valid_until, c.now, c.actor],
  );
  const service = concernedService(row);
  await c.audit.recordInTransaction(c.tx, {
    actor: c.actor,
    action: `consent.${type}`,
    target: `consent:${row.id}`,
    details: {
      version: row.version,
      side: row.side,
      dataItem: row.data_item,
      purpose: row.purpose,
      recipientService: row.recipient_service,
      ...(row.source_service ? { sourceService: row.source_service } : {}),
    },
  });
  const payload = {
    type: 'consent.status',
    event: type,
    consentId: row.id,
    pairId: row.pair_id,
    side: row.side,
    version: row.version,
    state: row.state,
    dataItem: row.data_item,
    purpose: row.purpose,
    sourceService: row.source_service,
    recipientService: row.recipient_service,
    notice: { id: row.notice_id, version: row.notice_version },
    validUntil: row.valid_until?.toISOString() ?? null,
    at: c.now.toISOString(),
  };
  await c.tx.query(
    `INSERT INTO consent.outbox (service_id, resident, payload, created_at, next_attempt_at)
     VALUES ($1, $2, $3, $4, $4)`,
    [service, row.resident, JSON.stringify(payload), c.now],
  );
}

export async function insertRecord(c: ChangeContext, r: NewRecord): Promise<RecordRow> {
  const { rows } = await c.tx.query<RecordRow>(
    `INSERT INTO consent.records (id, pair_id, side, resident, data_item, source_service, recipient_service,
       purpose, notice_id, notice_version, legal_basis, language, collection_method, withdrawal_method,
       valid_from, valid_until, state, version, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 'given', 1, $15, $15)
     RETURNING *`,
    [
      randomUUID(),
      r.pairId,
      r.side,
      r.resident,
      r.dataItem,
      r.sourceService,
      r.recipientService,
      r.purpose,
      r.noticeId,
      r.noticeVersion,
      r.legalBasis,
      r.language,
      r.collectionMethod,
      r.withdrawalMethod,
      c.now,
      r.validUntil,
    ],
  );
  const row = rows[0]!;
  await afterChange(c, row, 'given');
  return row;
}

export async function updateRecord(
  c: ChangeContext,
  row: RecordRow,
  type: EventType,
  next: { state: ConsentState; noticeVersion?: number; validUntil?: Date | null },
): Promise<RecordRow> {
  const { rows } = await c.tx.query<RecordRow>(
    `UPDATE consent.records
        SET state = $2, notice_version = $3, valid_until = $4, version = version + 1, updated_at = $5
      WHERE id = $1 RETURNING *`,
    [
      row.id,
      next.state,
      next.noticeVersion ?? row.notice_version,
      next.validUntil === undefined ? row.valid_until : next.validUntil,
      c.now,
    ],
  );
  const updated = rows[0]!;
  await afterChange(c, updated, type);
  return updated;
}
