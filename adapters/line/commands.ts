/**
 * What a resident asks the bot, from a text message or a postback (`action=balance`). Words are
 * matched after NFKC normalisation, Japanese or English.
 */
export type Command = 'balance' | 'history' | 'link' | 'unlink' | 'notices-on' | 'notices-off' | 'help';

const WORDS: Record<string, Command> = {
  残高: 'balance',
  ざんだか: 'balance',
  ポイント: 'balance',
  balance: 'balance',
  履歴: 'history',
  りれき: 'history',
  history: 'history',
  連携: 'link',
  link: 'link',
  連携解除: 'unlink',
  unlink: 'unlink',
  通知オン: 'notices-on',
  'notices on': 'notices-on',
  通知オフ: 'notices-off',
  'notices off': 'notices-off',
  ヘルプ: 'help',
  help: 'help',
};

const COMMANDS = new Set<string>(Object.values(WORDS));

export function commandOfText(text: string): Command {
  const word = text.normalize('NFKC').trim().toLowerCase().replace(/\s+/g, ' ');
  return WORDS[word] ?? 'help';
}

export function commandOfPostback(data: string): Command {
  const action = new URLSearchParams(data).get('action') ?? '';
  return COMMANDS.has(action) ? (action as Command) : 'help';
}
