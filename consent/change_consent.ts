/**
 * A resident pauses, resumes or withdraws a consent. Both records of a data-flow pair always move
 * together. Pausing what is paused, or resuming what is given, changes nothing; withdrawn and
 * expired consents are final.
 */
import type { AuditLog, Queryable } from '../core/index.ts';
import { ProblemError } from '../core/index.ts';
import { effectiveState, findRecord, type RecordRow } from './records.ts';
import { updateRecord } from './write_change.ts';

export type ConsentAction = 'pause' | 'resume' | 'withdraw';

const NEXT = {
  pause: { from: ['given'], to: 'paused', event: 'paused' },
  resume: { from: ['paused'], to: 'given', event: 'resumed' },
  withdraw: { from: ['given', 'paused'], to: 'withdrawn', event: 'withdrawn' },
} as const;

export async function changeConsent(
  deps: { audit: AuditLog },
  tx: Queryable,
  now: Date,
  input: { id: string; resident: string; action: ConsentAction },
  actor: string,
): Promise<{ records: RecordRow[]; changed: number }> {
  const first = await findRecord(tx, input.id);
  if (!first || first.resident !== input.resident)
    throw new ProblemError('consent-not-found', { detail: `No consent ${input.id}.` });
  const { rows } = first.pair_id
    ? await tx.query<RecordRow>('SELECT * FROM consent.records WHERE pair_id = $1 ORDER BY id FOR UPDATE', [
        first.pair_id,
      ])
    : await tx.query<RecordRow>('SELECT * FROM consent.records WHERE id = $1 FOR UPDATE', [first.id]);
  const step = NEXT[input.action];
  const records: RecordRow[] = [];
  let changed = 0;
  for (const row of rows) {
    const state = effectiveState(row, now);
    if (state === 'withdrawn' || state === 'expired')
      throw new ProblemError('consent-final', { detail: `The consent is ${state}.`, state });
    if (state === step.to) {
      records.push(row);
      continue;
    }
    if (!(step.from as readonly string[]).includes(state))
      throw new ProblemError('consent-state', { detail: `Cannot ${input.action} a ${state} consent.` });
    records.push(
      await updateRecord({ tx, audit: deps.audit, now, actor }, row, step.event, { state: step.to }),
    );
    changed += 1;
  }
  // The addressed record first, then its pair.
  records.sort((a, b) => Number(b.id === input.id) - Number(a.id === input.id));
  return { records, changed };
}

/** Writes the `expired` event for live records whose validity ended (the sweeper). */
export async function expireDue(
  deps: { audit: AuditLog },
  tx: Queryable,
  now: Date,
  limit = 500,
): Promise<number> {
  const { rows } = await tx.query<RecordRow>(
    `SELECT * FROM consent.records
      WHERE state IN ('given', 'paused') AND valid_until <= $1
      ORDER BY valid_until LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [now, limit],
  );
  for (const row of rows)
    await updateRecord({ tx, audit: deps.audit, now, actor: 'system' }, row, 'expired', { state: 'expired' });
  return rows.length;
}
