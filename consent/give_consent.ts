/**
 * A resident gives consent: one record per data item (direct), or one pair per data item (a data
 * flow from `source` to `service`). Giving again what is already given under the same notice and
 * validity changes nothing; giving again a paused consent, or under a newer notice, renews the same
 * record (event `renewed`); a withdrawn or expired consent stays final and a new record is made.
 */
import { randomUUID } from 'node:crypto';
import type { AuditLog, Queryable } from '../core/index.ts';
import { ProblemError } from '../core/index.ts';
import { isDataItem } from './data_items.ts';
import { findNotice, latestMaterialVersion } from './notices.ts';
import type { ResidentDirectory } from './ports.ts';
import { effectiveState, type RecordRow } from './records.ts';
import { type ChangeContext, insertRecord, updateRecord } from './write_change.ts';

export interface GiveInput {
  resident: string;
  /** The recipient service (partner client id). */
  service: string;
  items: string[];
  purpose: string;
  /** The notice version the resident was shown. */
  notice: { id: string; version: number };
  /** For a data flow: the service that passes the items to `service`. */
  source?: string | null;
  validUntil?: Date | null;
  legalBasis?: string;
  language?: string;
  collectionMethod?: string;
}

export interface GiveResult {
  records: RecordRow[];
  /** How many records were created or renewed (0: everything was already so). */
  changed: number;
}

export const WITHDRAWAL_METHOD =
  'ポータルの「同意の管理」から、またはAPI (POST /api/consent/me/consents/{id}/withdraw) で撤回できます。 / Withdraw in the portal under "Consents", or through the API.';

async function findLive(tx: Queryable, r: Omit<RecordRow, 'id'> | RecordKey): Promise<RecordRow | undefined> {
  const { rows } = await tx.query<RecordRow>(
    `SELECT * FROM consent.records
      WHERE resident = $1 AND recipient_service = $2 AND coalesce(source_service, '') = $3
        AND data_item = $4 AND purpose = $5 AND side = $6 AND state IN ('given', 'paused')
      FOR UPDATE`,
    [r.resident, r.recipient_service, r.source_service ?? '', r.data_item, r.purpose, r.side],
  );
  return rows[0];
}

interface RecordKey {
  resident: string;
  recipient_service: string;
  source_service: string | null;
  data_item: string;
  purpose: string;
  side: RecordRow['side'];
}

export async function giveConsent(
  deps: { audit: AuditLog; directory: ResidentDirectory },
  tx: Queryable,
  now: Date,
  input: GiveInput,
  actor: string,
): Promise<GiveResult> {
  const source = input.source ?? null;
  const items = [...new Set(input.items)];
  const unknown = items.filter((i) => !isDataItem(i));
  if (unknown.length > 0)
    throw new ProblemError('unknown-data-item', { detail: `Unknown data item: ${unknown.join(', ')}.` });
  if (input.validUntil && input.validUntil <= now)
    throw new ProblemError('invalid-validity', { detail: 'validUntil must be in the future.' });
  if (source === input.service)
    throw new ProblemError('invalid-validity', { detail: 'A data flow needs two different services.' });

  const notice = await findNotice(tx, input.notice.id, input.notice.version);
  if (!notice || notice.publishedAt > now.toISOString())
    throw new ProblemError('notice-not-found', {
      detail: `No notice ${input.notice.id} version ${input.notice.version}.`,
    });
  if (notice.service !== input.service || !notice.purposes.includes(input.purpose))
    throw new ProblemError('notice-mismatch', {
      detail: `Notice ${notice.noticeId} does not cover service ${input.service} for purpose ${input.purpose}.`,
    });
  const material = await latestMaterialVersion(tx, notice.noticeId, now);
  if (material > notice.version)
    throw new ProblemError('notice-outdated', {
      detail: `Show version ${material} of notice ${notice.noticeId} first.`,
      currentVersion: material,
    });
  if (!(await deps.directory.residentActive(input.resident)))
    throw new ProblemError('resident-not-found', { detail: 'No such active resident.' });
  for (const service of source ? [input.service, source] : [input.service])
    if (!(await deps.directory.serviceExists(service)))
      throw new ProblemError('service-not-found', { detail: `No partner service ${service}.` });

  const c: ChangeContext = { tx, audit: deps.audit, now, actor };
  const validUntil = input.validUntil ?? null;
  const records: RecordRow[] = [];
  let changed = 0;
  for (const item of items.sort()) {
    const sides: RecordRow['side'][] = source ? ['source', 'sink'] : ['direct'];
    let pairId: string | null = source ? randomUUID() : null;
    for (const side of sides) {
      const key: RecordKey = {
        resident: input.resident,
        recipient_service: input.service,
        source_service: source,
        data_item: item,
        purpose: input.purpose,
        side,
      };
      let live = await findLive(tx, key);
      if (live && effectiveState(live, now) === 'expired') {
        await updateRecord({ ...c, actor: 'system' }, live, 'expired', { state: 'expired' });
        live = undefined;
      }
      if (live?.pair_id && side === 'source') pairId = live.pair_id;
      if (!live) {
        records.push(
          await insertRecord(c, {
            pairId,
            side,
            resident: input.resident,
            dataItem: item,
            sourceService: source,
            recipientService: input.service,
            purpose: input.purpose,
            noticeId: notice.noticeId,
            noticeVersion: notice.version,
            legalBasis: input.legalBasis ?? 'consent',
            language: input.language ?? 'ja',
            collectionMethod: input.collectionMethod ?? 'portal',
            withdrawalMethod: WITHDRAWAL_METHOD,
            validUntil,
          }),
        );
        changed += 1;
      } else if (
        live.state === 'given' &&
        live.notice_version === notice.version &&
        (live.valid_until?.getTime() ?? null) === (validUntil?.getTime() ?? null)
      ) {
        records.push(live);
      } else {
        records.push(
          await updateRecord(c, live, 'renewed', {
            state: 'given',
            noticeVersion: notice.version,
            validUntil,
          }),
        );
        changed += 1;
      }
    }
  }
  return { records, changed };
}
