/**
 * The bot's messages, Japanese first with English beneath (LINE text messages; a buttons template
 * for the account link; quick replies for the commands).
 */
import type { LineMessage } from './messaging_client.ts';

type QuickReply = NonNullable<LineMessage['quickReply']>;

const action = (ja: string, a: string) => ({
  type: 'action' as const,
  action: { type: 'postback' as const, label: ja, data: `action=${a}`, displayText: ja },
});

export const NOTICE_CHOICE: QuickReply = {
  items: [action('通知オン', 'notices-on'), action('通知オフ', 'notices-off')],
};

export const MENU: QuickReply = {
  items: [
    action('残高', 'balance'),
    action('履歴', 'history'),
    action('通知オン', 'notices-on'),
    action('通知オフ', 'notices-off'),
  ],
};

export function text(body: string, quickReply?: QuickReply): LineMessage {
  return { type: 'text', text: body.slice(0, 5000), ...(quickReply ? { quickReply } : {}) };
}

export function linkOffer(url: string, greeting: boolean): LineMessage[] {
  const intro = greeting
    ? text('友だち追加ありがとうございます。\nThank you for adding us as a friend.')
    : undefined;
  return [
    ...(intro ? [intro] : []),
    {
      type: 'template',
      altText: 'アカウント連携 / Link your account',
      template: {
        type: 'buttons',
        text: 'つなぐIDと連携すると、ポイント残高や履歴を確認できます。\nLink your Tsunagu ID to see your points.',
        actions: [{ type: 'uri', label: '連携する / Link', uri: url }],
      },
    },
  ];
}

export const TEXT = {
  help:
    '「残高」「履歴」「連携」「通知オン」「通知オフ」「連携解除」と送ってください。\n' +
    'Send: balance, history, link, notices on, notices off, unlink.',
  linked:
    'アカウントを連携しました。ポイントの変動をLINEでお知らせしましょうか？\n' +
    'Your account is linked. Shall we notify you of point changes on LINE?',
  linkFailed:
    'アカウント連携を完了できませんでした。もう一度「連携」と送ってください。\n' +
    'The account link did not complete. Send "link" to try again.',
  unlinked: 'アカウント連携を解除しました。\nYour account is no longer linked.',
  noticesOn: 'ポイントの変動をお知らせします。\nWe will notify you of point changes.',
  noticesOff: 'お知らせを停止しました。\nNotices are off.',
  notLinked: 'まだアカウントが連携されていません。\nYour account is not linked yet.',
  noCurrency: '照会できるポイントが設定されていません。\nNo points are set up for this account yet.',
  noHistory: '履歴はまだありません。\nNo history yet.',
};

const KIND_JA: Record<string, string> = {
  grant: '付与',
  payment: '支払い',
  charge: 'チャージ',
  reversal: '取消',
  expiry: '失効',
  exchange: '交換',
  'grant-bulk': '付与',
};

/** JST date `M/D` for history lines. */
function jstDay(iso: string): string {
  const d = new Date(new Date(iso).getTime() + 9 * 3_600_000);
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}`;
}

export function balanceText(items: Array<{ currency: string; balance: number; spendable: number }>): string {
  return items
    .map(
      (b) =>
        `【${b.currency}】残高 ${b.balance.toLocaleString('ja-JP')} pt（利用可能 ${b.spendable.toLocaleString('ja-JP')} pt）\n` +
        `Balance ${b.balance} pt (spendable ${b.spendable} pt)`,
    )
    .join('\n\n');
}

export function historyText(
  currency: string,
  items: Array<{ kind: string; amount: number; at: string; balanceAfter: number }>,
): string {
  if (items.length === 0) return `【${currency}】${TEXT.noHistory}`;
  const lines = items.map(
    (i) =>
      `${jstDay(i.at)} ${KIND_JA[i.kind] ?? i.kind} ${i.amount > 0 ? '+' : ''}${i.amount} pt（残 ${i.balanceAfter}）`,
  );
  return `【${currency}】最近の履歴 / Recent history\n${lines.join('\n')}`;
}

export function noticeText(notice: {
  event: 'balance-changed' | 'expiry-soon';
  currency: string;
  amount: number;
}) {
  if (notice.event === 'expiry-soon')
    return `【${notice.currency}】${notice.amount} pt がまもなく失効します。\n${notice.amount} points expire soon.`;
  const sign = notice.amount > 0 ? '+' : '';
  return `【${notice.currency}】ポイントが ${sign}${notice.amount} pt 変動しました。\nYour points changed by ${sign}${notice.amount}.`;
}
