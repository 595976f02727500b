/**
 * The LINE adapter's outbox handlers: `reply` (answers built at delivery: balance and history are
 * read from the points ledger then, and each read is audited) and `push` (notices, sent once thanks
 * to `X-Line-Retry-Key` derived from the outbox message).
 */
import type { AuditLog } from '../../core/index.ts';
import type { PointsService } from '../../points/index.ts';
import type { OutboxHandler } from '../kit/index.ts';
import type { ReplyPayload } from './handle_event.ts';
import type { LineMessage, LineMessaging } from './messaging_client.ts';
import { balanceText, historyText, linkOffer, MENU, NOTICE_CHOICE, TEXT, text } from './replies.ts';

export interface PushPayload {
  userId: string;
  text: string;
}

export interface DeliverDeps {
  messaging(): LineMessaging;
  points(): PointsService;
  audit: AuditLog;
  currencies: readonly string[];
  /** The account-link page for a LINE link token. */
  linkUrl(linkToken: string): string;
}

async function readAudited(deps: DeliverDeps, commonId: string, what: 'balance' | 'history') {
  await deps.audit.record({
    actor: 'system:adapters/line',
    action: `adapters.line.${what}.read`,
    target: `resident:${commonId}`,
    details: { currencies: [...deps.currencies] },
  });
}

async function messagesFor(deps: DeliverDeps, p: ReplyPayload): Promise<LineMessage[]> {
  switch (p.reply) {
    case 'welcome':
    case 'link-offer': {
      const token = await deps.messaging().issueLinkToken(p.userId);
      return linkOffer(deps.linkUrl(token), p.reply === 'welcome');
    }
    case 'balance': {
      if (!p.commonId) return [text(TEXT.notLinked)];
      if (deps.currencies.length === 0) return [text(TEXT.noCurrency, MENU)];
      const items = await Promise.all(
        deps.currencies.map((currency) => deps.points().balance({ currency, holder: p.commonId! })),
      );
      await readAudited(deps, p.commonId, 'balance');
      return [text(balanceText(items), MENU)];
    }
    case 'history': {
      if (!p.commonId) return [text(TEXT.notLinked)];
      if (deps.currencies.length === 0) return [text(TEXT.noCurrency, MENU)];
      const pages = await Promise.all(
        deps.currencies.map(async (currency) => ({
          currency,
          items: (await deps.points().history({ currency, holder: p.commonId!, limit: 5 })).items,
        })),
      );
      await readAudited(deps, p.commonId, 'history');
      return [text(pages.map((h) => historyText(h.currency, h.items)).join('\n\n'), MENU)];
    }
    case 'linked':
      return [text(TEXT.linked, NOTICE_CHOICE)];
    case 'link-failed':
      return [text(TEXT.linkFailed)];
    case 'unlinked':
      return [text(TEXT.unlinked)];
    case 'notices-on':
      return [text(TEXT.noticesOn, MENU)];
    case 'notices-off':
      return [text(TEXT.noticesOff, MENU)];
    case 'not-linked':
      return [text(TEXT.notLinked)];
    default:
      return [text(TEXT.help, MENU)];
  }
}

export function lineOutboxHandlers(deps: DeliverDeps): Record<string, OutboxHandler> {
  return {
    async reply(message) {
      const p = message.payload as ReplyPayload;
      await deps.messaging().reply(p.replyToken, await messagesFor(deps, p));
    },
    async push(message) {
      const p = message.payload as PushPayload;
      await deps.messaging().push(p.userId, [text(p.text)], `outbox:${message.id}`);
    },
  };
}
