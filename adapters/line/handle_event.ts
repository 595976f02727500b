/**
 * One webhook event → its effect, once (kit inbox, keyed by LINE's `webhookEventId`):
 *
 *   follow        remember the friend; reply a greeting and the account-link button (if not linked)
 *   unfollow      stop pushing notices
 *   message/postback   a command: balance, history, link, unlink, notices on/off, help
 *   accountLink   LINE's account-link result: consume our nonce, link the LINE user to the resident
 *   other         recorded, nothing else (join/leave/beacon/…)
 *
 * Replies go through the outbox (kind `reply`), so the webhook answers fast and a failed reply is
 * retried; the reply's content (a balance) is read when it is delivered. Standby-mode events
 * (another channel answers) and events from groups and rooms are recorded without replies.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { AuditLog } from '../../core/index.ts';
import type { Kit, Outcome, Sealer } from '../kit/index.ts';
import { type Command, commandOfPostback, commandOfText } from './commands.ts';
import type { LineEvent } from './webhook_body.ts';

export type Reply =
  | 'welcome'
  | 'link-offer'
  | 'balance'
  | 'history'
  | 'linked'
  | 'link-failed'
  | 'unlinked'
  | 'notices-on'
  | 'notices-off'
  | 'not-linked'
  | 'help';

export interface ReplyPayload {
  replyToken: string;
  userId: string;
  reply: Reply;
  commonId?: string;
}

export interface EventDeps {
  kit: Kit;
  users: Sealer;
  audit: AuditLog;
  now: () => Date;
}

export const nonceHash = (nonce: string) => createHash('sha256').update(nonce).digest('hex');

interface UserRow {
  commonId: string | null;
}

async function findOrAddUser(
  tx: pg.PoolClient,
  deps: EventDeps,
  userId: string,
  index: string,
  follow: boolean,
) {
  if (!follow) {
    const { rows } = await tx.query<UserRow>(
      'SELECT common_id AS "commonId" FROM adapters.line_user WHERE user_index = $1',
      [index],
    );
    if (rows[0]) return rows[0];
  }
  const { rows } = await tx.query<UserRow>(
    `INSERT INTO adapters.line_user (user_index, user_sealed, followed, updated_at) VALUES ($1, $2, true, $3)
     ON CONFLICT (user_index) DO UPDATE SET followed = true, updated_at = EXCLUDED.updated_at
     RETURNING common_id AS "commonId"`,
    [index, deps.users.seal(index, userId), deps.now()],
  );
  return rows[0]!;
}

async function runCommand(
  tx: pg.PoolClient,
  deps: EventDeps,
  command: Command,
  index: string,
  user: UserRow,
): Promise<{ reply: Reply; outcome: Outcome }> {
  const linked = user.commonId !== null;
  switch (command) {
    case 'balance':
    case 'history':
      return linked
        ? { reply: command, outcome: { command } }
        : { reply: 'link-offer', outcome: { command, linked } };
    case 'link':
      return { reply: 'link-offer', outcome: { command } };
    case 'notices-on':
    case 'notices-off': {
      if (!linked) return { reply: 'not-linked', outcome: { command, linked } };
      await tx.query('UPDATE adapters.line_user SET notices = $2, updated_at = $3 WHERE user_index = $1', [
        index,
        command === 'notices-on',
        deps.now(),
      ]);
      await deps.audit.recordInTransaction(tx, {
        actor: `resident:${user.commonId}`,
        action: 'adapters.line.notices',
        target: `adapters.line_user:${index.slice(0, 16)}`,
        details: { notices: command === 'notices-on' },
      });
      return { reply: command, outcome: { command } };
    }
    case 'unlink': {
      if (!linked) return { reply: 'not-linked', outcome: { command, linked } };
      await tx.query(
        `UPDATE adapters.line_user SET common_id = NULL, notices = false, linked_at = NULL, updated_at = $2
          WHERE user_index = $1`,
        [index, deps.now()],
      );
      await deps.audit.recordInTransaction(tx, {
        actor: `resident:${user.commonId}`,
        action: 'adapters.line.unlink',
        target: `adapters.line_user:${index.slice(0, 16)}`,
      });
      return { reply: 'unlinked', outcome: { command } };
    }
    default:
      return { reply: 'help', outcome: { command: 'help' } };
  }
}

async function accountLink(
  tx: pg.PoolClient,
  deps: EventDeps,
  event: LineEvent & { type: 'accountLink' },
  index: string,
): Promise<{ reply: Reply; outcome: Outcome }> {
  if (event.link.result !== 'ok')
    return { reply: 'link-failed', outcome: { linked: false, reason: 'line-failed' } };
  const at = deps.now();
  const { rows } = await tx.query<{ commonId: string }>(
    `UPDATE adapters.line_link_nonce SET used_at = $2
      WHERE nonce_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING common_id AS "commonId"`,
    [nonceHash(event.link.nonce), at],
  );
  const commonId = rows[0]?.commonId;
  if (!commonId) return { reply: 'link-failed', outcome: { linked: false, reason: 'nonce-invalid' } };
  // One LINE account per resident: a link from another LINE account moves it.
  await tx.query(
    `UPDATE adapters.line_user SET common_id = NULL, notices = false, linked_at = NULL, updated_at = $3
      WHERE common_id = $1 AND user_index <> $2`,
    [commonId, index, at],
  );
  await tx.query(
    'UPDATE adapters.line_user SET common_id = $2, linked_at = $3, updated_at = $3 WHERE user_index = $1',
    [index, commonId, at],
  );
  await deps.audit.recordInTransaction(tx, {
    actor: `resident:${commonId}`,
    action: 'adapters.line.link',
    target: `adapters.line_user:${index.slice(0, 16)}`,
  });
  return { reply: 'linked', outcome: { linked: true } };
}

/** Acts on one event; `duplicate` when LINE delivered it before. */
export async function handleEvent(deps: EventDeps, destination: string, event: LineEvent) {
  const source = event.source;
  const userId = source?.type === 'user' ? source.userId : undefined;
  return deps.kit.inbox.receive(
    { adapter: 'line', source: `line:${destination}`, eventId: event.webhookEventId, kind: event.type },
    async (tx): Promise<Outcome> => {
      if (!userId || source?.type !== 'user') return { ignored: 'not-a-user-chat' };
      const index = deps.users.blindIndex(userId);
      if (event.type === 'unfollow') {
        await tx.query(
          'UPDATE adapters.line_user SET followed = false, updated_at = $2 WHERE user_index = $1',
          [index, deps.now()],
        );
        return { followed: false };
      }
      const user = await findOrAddUser(tx, deps, userId, index, event.type === 'follow');
      let step: { reply: Reply; outcome: Outcome } | undefined;
      if (event.type === 'follow')
        step = {
          reply: user.commonId ? 'help' : 'welcome',
          outcome: { followed: true, linked: user.commonId !== null },
        };
      else if (event.type === 'message')
        step = await runCommand(
          tx,
          deps,
          event.message.type === 'text' ? commandOfText(event.message.text) : 'help',
          index,
          user,
        );
      else if (event.type === 'postback')
        step = await runCommand(tx, deps, commandOfPostback(event.postback.data), index, user);
      else if (event.type === 'accountLink') step = await accountLink(tx, deps, event, index);
      if (!step) return { ignored: event.type };
      const replyToken = 'replyToken' in event ? event.replyToken : undefined;
      if (event.mode !== 'active' || !replyToken) return { ...step.outcome, replied: false };
      const linkedNow = step.reply === 'linked' ? undefined : user.commonId;
      const payload: ReplyPayload = {
        replyToken,
        userId,
        reply: step.reply,
        ...(linkedNow ? { commonId: linkedNow } : {}),
      };
      // A reply token lives about a minute: a few quick tries, then a dead letter.
      await deps.kit.outbox.enqueue(tx, { adapter: 'line', kind: 'reply', payload, maxAttempts: 3 });
      return { ...step.outcome, reply: step.reply };
    },
  );
}
