/**
 * The LINE adapter's settings (environment variables). Without a channel secret the webhook
 * answers 503 `adapter-not-configured`; the production check refuses a plain-http API base URL.
 */
import { type Env, text } from '../kit/index.ts';

export interface LineSettings {
  /** LINE_CHANNEL_SECRET: the Messaging API channel secret (webhook signatures). */
  channelSecret: string | undefined;
  /** LINE_CHANNEL_ACCESS_TOKEN: a (long-lived or v2.1) channel access token. */
  channelAccessToken: string | undefined;
  /** LINE_API_BASE_URL: the Messaging API (default https://api.line.me). */
  apiBaseUrl: string;
  /** LINE_ACCESS_BASE_URL: where the account-link dialog lives (default https://access.line.me). */
  accessBaseUrl: string;
  /** LINE_CURRENCIES: the currencies whose balance and history the bot answers with (comma-separated). */
  currencies: string[];
}

export function lineSettings(env: Env): LineSettings {
  return {
    channelSecret: text(env, 'LINE_CHANNEL_SECRET'),
    channelAccessToken: text(env, 'LINE_CHANNEL_ACCESS_TOKEN'),
    apiBaseUrl: (text(env, 'LINE_API_BASE_URL') ?? 'https://api.line.me').replace(/\/+$/, ''),
    accessBaseUrl: (text(env, 'LINE_ACCESS_BASE_URL') ?? 'https://access.line.me').replace(/\/+$/, ''),
    currencies: (text(env, 'LINE_CURRENCIES') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  };
}
