/**
 * Consent records as the rest of the platform sees them, and how they are read from the database.
 * The stored state is `given`, `paused`, `withdrawn` or `expired`; a given or paused record whose
 * validity ended is reported as `expired` at once (the sweeper writes the event later).
 */
import type { Queryable } from '../core/index.ts';

export type ConsentState = 'given' | 'paused' | 'withdrawn' | 'expired';
export type ConsentSide = 'direct' | 'source' | 'sink';
export type EventType = 'given' | 'renewed' | 'paused' | 'resumed' | 'withdrawn' | 'expired';

export interface ConsentRecord {
  id: string;
  /** Both records of a data-flow consent share it; null for a direct consent. */
  pairId: string | null;
  side: ConsentSide;
  resident: string;
  dataItem: string;
  /** The service passing the data (data flows); null when the platform provides it. */
  sourceService: string | null;
  recipientService: string;
  purpose: string;
  notice: { id: string; version: number };
  legalBasis: string;
  language: string;
  collectionMethod: string;
  withdrawalMethod: string;
  validFrom: string;
  validUntil: string | null;
  state: ConsentState;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface ConsentEvent {
  recordId: string;
  version: number;
  type: EventType;
  state: ConsentState;
  noticeVersion: number;
  validUntil: string | null;
  at: string;
  /** `resident`, `system` or `service:<id>`: never the resident's identifier. */
  actor: string;
}

export interface RecordRow {
  id: string;
  pair_id: string | null;
  side: ConsentSide;
  resident: string;
  data_item: string;
  source_service: string | null;
  recipient_service: string;
  purpose: string;
  notice_id: string;
  notice_version: number;
  legal_basis: string;
  language: string;
  collection_method: string;
  withdrawal_method: string;
  valid_from: Date;
  valid_until: Date | null;
  state: ConsentState;
  version: number;
  created_at: Date;
  updated_at: Date;
}

interface EventRow {
  record_id: string;
  version: number;
  event_type: EventType;
  state: ConsentState;
  notice_version: number;
  valid_until: Date | null;
  at: Date;
  actor: string;
}

/** Stored state, or `expired` when a live record's validity has ended at `now`. */
export function effectiveState(row: Pick<RecordRow, 'state' | 'valid_until'>, now: Date): ConsentState {
  if ((row.state === 'given' || row.state === 'paused') && row.valid_until && row.valid_until <= now)
    return 'expired';
  return row.state;
}

export function toRecord(row: RecordRow, now: Date): ConsentRecord {
  return {
    id: row.id,
    pairId: row.pair_id,
    side: row.side,
    resident: row.resident,
    dataItem: row.data_item,
    sourceService: row.source_service,
    recipientService: row.recipient_service,
    purpose: row.purpose,
    notice: { id: row.notice_id, version: row.notice_version },
    legalBasis: row.legal_basis,
    language: row.language,
    collectionMethod: row.collection_method,
    withdrawalMethod: row.withdrawal_method,
    validFrom: row.valid_from.toISOString(),
    validUntil: row.valid_until?.toISOString() ?? null,
    state: effectiveState(row, now),
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function toEvent(row: EventRow): ConsentEvent {
  return {
    recordId: row.record_id,
    version: row.version,
    type: row.event_type,
    state: row.state,
    noticeVersion: row.notice_version,
    validUntil: row.valid_until?.toISOString() ?? null,
    at: row.at.toISOString(),
    actor: row.actor,
  };
}

export async function findRecord(db: Queryable, id: string, lock = false): Promise<RecordRow | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
  const { rows } = await db.query<RecordRow>(
    `SELECT * FROM consent.records WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0];
}

export async function listRecords(db: Queryable, resident: string): Promise<RecordRow[]> {
  const { rows } = await db.query<RecordRow>(
    'SELECT * FROM consent.records WHERE resident = $1 ORDER BY created_at, side, id',
    [resident],
  );
  return rows;
}

export async function listEvents(db: Queryable, recordIds: string[]): Promise<ConsentEvent[]> {
  const { rows } = await db.query<EventRow>(
    'SELECT * FROM consent.events WHERE record_id = ANY($1::uuid[]) ORDER BY at, seq',
    [recordIds],
  );
  return rows.map(toEvent);
}

/** Every event of every record of a resident, newest first, with what each record is about. */
export async function residentHistory(
  db: Queryable,
  resident: string,
): Promise<
  Array<
    ConsentEvent & {
      dataItem: string;
      recipientService: string;
      sourceService: string | null;
      purpose: string;
      side: ConsentSide;
    }
  >
> {
  const { rows } = await db.query<
    EventRow & {
      data_item: string;
      recipient_service: string;
      source_service: string | null;
      purpose: string;
      side: ConsentSide;
    }
  >(
    `SELECT e.*, r.data_item, r.recipient_service, r.source_service, r.purpose, r.side
       FROM consent.events e JOIN consent.records r ON r.id = e.record_id
      WHERE r.resident = $1
      ORDER BY e.at DESC, e.seq DESC`,
    [resident],
  );
  return rows.map((r) => ({
    ...toEvent(r),
    dataItem: r.data_item,
    recipientService: r.recipient_service,
    sourceService: r.source_service,
    purpose: r.purpose,
    side: r.side,
  }));
}
