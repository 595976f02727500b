/**
 * Points notices (balance changed, expiry soon) as LINE push messages, for residents who linked
 * their LINE account, still follow the official account and turned notices on (通知オン). The push
 * is queued in the outbox under a key per notice and LINE user, so a notice is sent once.
 */
import type { Database } from '../../core/index.ts';
import type { PointsNotifier } from '../../points/index.ts';
import type { Kit, Sealer } from '../kit/index.ts';
import type { PushPayload } from './deliver.ts';
import { noticeText } from './replies.ts';

export function lineNotifier(deps: {
  db: Database;
  kit: Kit;
  users: Sealer;
  enabled(): boolean;
}): PointsNotifier {
  return {
    async notify(notice) {
      if (notice.to.kind !== 'resident' || !deps.enabled()) return;
      const { rows } = await deps.db.query<{ index: string; sealed: string }>(
        `SELECT user_index AS index, user_sealed AS sealed FROM adapters.line_user
          WHERE common_id = $1 AND notices AND followed`,
        [notice.to.holder],
      );
      const user = rows[0];
      if (!user) return;
      const payload: PushPayload = {
        userId: deps.users.open(user.index, user.sealed),
        text: noticeText(notice),
      };
      const { created } = await deps.kit.outbox.enqueue(deps.db, {
        adapter: 'line',
        kind: 'push',
        payload,
        key: `line:notice:${notice.event}:${notice.journalId ?? notice.at.toISOString()}:${notice.currency}:${notice.amount}:${user.index}`,
      });
      if (created) deps.kit.outbox.kick();
    },
  };
}
