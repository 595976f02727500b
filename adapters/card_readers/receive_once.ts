/**
 * `kit.inbox.receive` made safe for effects that write rows unique per event (a visit per touch):
 * a sequential replay is answered from the inbox before the effect runs at all, and a concurrent
 * twin whose effect loses the race on such a unique row (SQLSTATE 23505) is answered with the
 * winner's stored outcome, as a replay. Works whichever order the kit writes its row in.
 */
import type pg from 'pg';
import type { Database } from '../../core/index.ts';
import type { Inbox, InboxEvent, Outcome } from '../kit/index.ts';

export async function receiveOnce<T extends Outcome>(
  db: Database,
  inbox: Inbox,
  event: InboxEvent,
  effect: (tx: pg.PoolClient) => Promise<T>,
): Promise<{ duplicate: boolean; outcome: T }> {
  const stored = async () => {
    const { rows } = await db.query<{ outcome: T }>(
      'SELECT outcome FROM adapters.inbox WHERE source = $1 AND event_id = $2',
      [event.source, event.eventId],
    );
    return rows[0] ? { duplicate: true, outcome: rows[0].outcome } : undefined;
  };
  const seen = await stored();
  if (seen) return seen;
  try {
    const result = await inbox.receive(event, effect);
    return result.duplicate
      ? ((await stored()) ?? { duplicate: true, outcome: result.outcome as T })
      : result;
  } catch (error) {
    if ((error as { code?: string }).code === '23505') {
      const twin = await stored();
      if (twin) return twin;
    }
    throw error;
  }
}
