/**
 * The Messaging API calls the adapter makes, through `@line/bot-sdk`'s client: reply, push (with
 * `X-Line-Retry-Key`, so a retried push is sent once) and issuing account-link tokens. LINE's
 * answers become outbox outcomes: 4xx other than 409/429 cannot succeed on retry (`PermanentFailure`),
 * 409 on a push with a retry key means LINE already accepted it, everything else is retried.
 */
import { createHash } from 'node:crypto';
import { HTTPFetchError, messagingApi } from '@line/bot-sdk';
import { PermanentFailure } from '../kit/index.ts';

export type LineMessage = messagingApi.Message;

export interface LineMessaging {
  reply(replyToken: string, messages: LineMessage[]): Promise<void>;
  /** `retryKey`: any string; it is turned into the UUID LINE expects. */
  push(to: string, messages: LineMessage[], retryKey: string): Promise<void>;
  issueLinkToken(userId: string): Promise<string>;
}

/** A UUID derived from `key`, so every retry of one message sends the same `X-Line-Retry-Key`. */
export function retryUuid(key: string): string {
  const h = createHash('sha256').update(`tsunagu-line-retry\u0000${key}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function failure(error: unknown, call: string): Error {
  if (!(error instanceof HTTPFetchError))
    return new Error(`LINE ${call}: ${(error as Error).message ?? 'failed'}`);
  let message = '';
  try {
    message = String((JSON.parse(error.body) as { message?: unknown }).message ?? '');
  } catch {
    /* not JSON */
  }
  const text = `LINE ${call} answered ${error.status}${message ? `: ${message}` : ''}`;
  return error.status >= 400 && error.status < 500 && error.status !== 429
    ? new PermanentFailure(text)
    : new Error(text);
}

export function createLineMessaging(settings: {
  apiBaseUrl: string;
  channelAccessToken: string;
}): LineMessaging {
  const client = new messagingApi.MessagingApiClient({
    channelAccessToken: settings.channelAccessToken,
    baseURL: settings.apiBaseUrl,
  });
  return {
    async reply(replyToken, messages) {
      try {
        await client.replyMessage({ replyToken, messages });
      } catch (error) {
        throw failure(error, 'reply');
      }
    },
    async push(to, messages, retryKey) {
      try {
        await client.pushMessage({ to, messages }, retryUuid(retryKey));
      } catch (error) {
        if (error instanceof HTTPFetchError && error.status === 409) return; // accepted before
        throw failure(error, 'push');
      }
    },
    async issueLinkToken(userId) {
      try {
        return (await client.issueLinkToken(userId)).linkToken;
      } catch (error) {
        throw failure(error, 'linkToken');
      }
    },
  };
}
