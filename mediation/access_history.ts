/**
 * Reading the access log: the resident's own history (entries under suppression stay hidden until
 * their `suppressed_until` passes) and the staff view with filters; both export as JSON or CSV.
 */
import type { Database } from '../core/index.ts';
import type { ItemDecision } from './access_log.ts';

export interface AccessView {
  seq: number;
  at: string;
  kind: string;
  service: string;
  source: string | null;
  items: string[];
  purpose: string;
  decision: string;
  code: string | null;
  consents: ItemDecision[];
}

export interface StaffAccessView extends AccessView {
  resident: string | null;
  suppressedUntil: string | null;
}

export interface StaffFilter {
  service?: string;
  resident?: string;
  purpose?: string;
  decision?: 'allow' | 'partial' | 'deny';
  kind?: string;
  from?: Date;
  to?: Date;
  /** Only entries after this sequence number (paging). */
  after?: number;
  limit?: number;
}

interface Row {
  seq: string;
  at: Date;
  kind: string;
  service: string;
  source: string | null;
  resident: string | null;
  items: string[];
  purpose: string;
  decision: string;
  code: string | null;
  consents: ItemDecision[];
  suppressed_until: Date | null;
}

const view = (r: Row): AccessView => ({
  seq: Number(r.seq),
  at: r.at.toISOString(),
  kind: r.kind,
  service: r.service,
  source: r.source,
  items: r.items,
  purpose: r.purpose,
  decision: r.decision,
  code: r.code,
  consents: r.consents,
});

export async function residentHistory(
  db: Database,
  resident: string,
  now: Date,
  options: { limit?: number } = {},
): Promise<AccessView[]> {
  const { rows } = await db.query<Row>(
    `SELECT * FROM mediation.access_log
      WHERE resident = $1 AND (suppressed_until IS NULL OR suppressed_until <= $2)
      ORDER BY seq DESC LIMIT $3`,
    [resident, now, Math.min(options.limit ?? 500, 5000)],
  );
  return rows.map(view);
}

export async function staffQuery(db: Database, filter: StaffFilter): Promise<StaffAccessView[]> {
  const where: string[] = [];
  const values: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    values.push(value);
    where.push(sql.replace('?', `$${values.length}`));
  };
  if (filter.service) add('? IN (service, source)', filter.service);
  if (filter.resident) add('resident = ?', filter.resident);
  if (filter.purpose) add('purpose = ?', filter.purpose);
  if (filter.decision) add('decision = ?', filter.decision);
  if (filter.kind) add('kind = ?', filter.kind);
  if (filter.from) add('at >= ?', filter.from);
  if (filter.to) add('at < ?', filter.to);
  if (filter.after !== undefined) add('seq > ?', filter.after);
  values.push(Math.min(filter.limit ?? 1000, 10_000));
  const { rows } = await db.query<Row>(
    `SELECT * FROM mediation.access_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY seq LIMIT $${values.length}`,
    values,
  );
  return rows.map((r) => ({
    ...view(r),
    resident: r.resident,
    suppressedUntil: r.suppressed_until ? r.suppressed_until.toISOString() : null,
  }));
}

function cell(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  // Quote, double quotes, and defuse spreadsheet formulas (CWE-1236).
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) || safe !== text ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** CSV (RFC 4180, CRLF, UTF-8 with BOM so spreadsheet software reads the Japanese correctly). */
export function toCsv(entries: ReadonlyArray<AccessView & Partial<StaffAccessView>>, staff: boolean): string {
  const header = [
    'seq',
    'at',
    'kind',
    'service',
    'source',
    ...(staff ? ['resident'] : []),
    'items',
    'purpose',
    'decision',
    'code',
    'consents',
    ...(staff ? ['suppressed_until'] : []),
  ];
  const lines = entries.map((e) =>
    [
      e.seq,
      e.at,
      e.kind,
      e.service,
      e.source,
      ...(staff ? [e.resident] : []),
      e.items.join(' '),
      e.purpose,
      e.decision,
      e.code,
      e.consents
        .filter((c) => c.consentId)
        .map((c) => `${c.item}:${c.consentId}@${c.version}`)
        .join(' '),
      ...(staff ? [e.suppressedUntil] : []),
    ]
      .map(cell)
      .join(','),
  );
  return `\uFEFF${[header.join(','), ...lines].join('\r\n')}\r\n`;
}
