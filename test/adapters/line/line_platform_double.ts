/**
 * A contract test double of the LINE Platform, as LINE publishes it (Messaging API reference):
 *
 *   POST /v2/bot/message/reply            { replyToken, messages[1..5] } — a reply token works once,
 *                                          for a limited time, only if this "platform" issued it
 *   POST /v2/bot/message/push             { to, messages[1..5] } + optional X-Line-Retry-Key (UUID):
 *                                          the same key again → 409 with x-line-accepted-request-id
 *   POST /v2/bot/user/{userId}/linkToken  → { linkToken } (single use, 10 minutes)
 *   GET  /dialog/bot/accountLink?linkToken&nonce   the account-link dialog (access.line.me): the user
 *                                          "confirms", and the platform sends the signed `accountLink`
 *                                          webhook event to the bot's webhook URL
 *
 * Every API call needs `Authorization: Bearer <channel access token>` (401 otherwise); bodies are
 * checked the way LINE documents them (400 with `message` and `details`). The double also builds
 * webhook deliveries (events with webhookEventId, replyToken issued here) and signs them with the
 * channel secret (X-Line-Signature = base64 HMAC-SHA256 of the body).
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SentMessage {
  type: string;
  text?: string;
  altText?: string;
  template?: { type: string; text: string; actions: Array<{ type: string; label: string; uri?: string }> };
  quickReply?: { items: Array<{ action: { type: string; label: string; data?: string } }> };
}

const REPLY_TOKEN_TTL_MS = 60_000;
const LINK_TOKEN_TTL_MS = 600_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function lineUserId(): string {
  return `U${randomBytes(16).toString('hex')}`;
}

/** 26 characters like LINE's webhook event ids (ULID). */
function webhookEventId(): string {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  return Array.from(randomBytes(26), (b) => alphabet[b % 32]).join('');
}

export function signBody(body: string, channelSecret: string): string {
  return createHmac('sha256', channelSecret).update(body).digest('base64');
}

function messageErrors(messages: unknown): Array<{ message: string; property: string }> {
  if (!Array.isArray(messages) || messages.length < 1 || messages.length > 5)
    return [{ message: 'Size must be between 1 and 5', property: 'messages' }];
  const errors: Array<{ message: string; property: string }> = [];
  messages.forEach((m: SentMessage, i) => {
    const at = `messages[${i}]`;
    if (m.type === 'text') {
      if (typeof m.text !== 'string' || m.text.length < 1 || m.text.length > 5000)
        errors.push({ message: 'Length must be between 1 and 5000', property: `${at}.text` });
    } else if (m.type === 'template') {
      if (typeof m.altText !== 'string' || m.altText.length < 1 || m.altText.length > 400)
        errors.push({ message: 'Length must be between 1 and 400', property: `${at}.altText` });
      const t = m.template;
      if (t?.type !== 'buttons')
        errors.push({ message: 'Unsupported template in this double', property: `${at}.template.type` });
      else {
        if (typeof t.text !== 'string' || t.text.length < 1 || t.text.length > 160)
          errors.push({ message: 'Length must be between 1 and 160', property: `${at}.template.text` });
        if (!Array.isArray(t.actions) || t.actions.length < 1 || t.actions.length > 4)
          errors.push({ message: 'Size must be between 1 and 4', property: `${at}.template.actions` });
        t.actions?.forEach((a, j) => {
          if (typeof a.label !== 'string' || a.label.length > 20)
            errors.push({
              message: 'Length must be at most 20',
              property: `${at}.template.actions[${j}].label`,
            });
          if (a.type === 'uri' && !/^https?:\/\//.test(a.uri ?? ''))
            errors.push({ message: 'Invalid uri', property: `${at}.template.actions[${j}].uri` });
        });
      }
    } else errors.push({ message: 'Unsupported message type in this double', property: `${at}.type` });
    const items = m.quickReply?.items;
    if (items !== undefined && (!Array.isArray(items) || items.length > 13))
      errors.push({ message: 'Size must be at most 13', property: `${at}.quickReply.items` });
    items?.forEach((it, j) => {
      if (it.action.label.length > 20)
        errors.push({
          message: 'Length must be at most 20',
          property: `${at}.quickReply.items[${j}].action.label`,
        });
    });
  });
  return errors;
}

export class LinePlatformDouble {
  readonly channelSecret = randomBytes(16).toString('hex');
  readonly channelAccessToken = randomBytes(24).toString('base64url');
  /** The bot's user id (`destination` of webhook bodies). */
  readonly botUserId = lineUserId();
  url = '';
  /** Where the platform sends webhook deliveries (set by the test). */
  webhookUrl = '';
  readonly replies: Array<{ replyToken: string; messages: SentMessage[] }> = [];
  readonly pushes: Array<{ to: string; messages: SentMessage[]; retryKey: string | undefined }> = [];
  readonly linkDialogs: Array<{ linkToken: string; nonce: string; status: number }> = [];
  /** Webhook answers the platform got when it delivered events itself (account link). */
  readonly webhookAnswers: number[] = [];
  private readonly replyTokens = new Map<string, { expiresAt: number; used: boolean }>();
  private readonly linkTokens = new Map<string, { userId: string; expiresAt: number; used: boolean }>();
  private readonly acceptedRetryKeys = new Map<string, string>();
  private failures: Array<{ path: string; status: number }> = [];
  private server: Server | undefined;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        res.statusCode = 500;
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The next `times` calls to `path` answer `status` (an outage, throttling). */
  failNext(path: string, status: number, times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push({ path, status });
  }

  /** The outage is over. */
  clearFailures(): void {
    this.failures = [];
  }

  /** A webhook event as LINE sends it, with a reply token this platform will accept. */
  event(
    type: string,
    userId: string,
    extra: Record<string, unknown> = {},
    options: { redelivery?: boolean } = {},
  ) {
    const withReply = !['unfollow', 'leave', 'memberLeft'].includes(type);
    const replyToken = randomBytes(16).toString('hex');
    if (withReply)
      this.replyTokens.set(replyToken, { expiresAt: Date.now() + REPLY_TOKEN_TTL_MS, used: false });
    return {
      type,
      ...(withReply ? { replyToken } : {}),
      source: { type: 'user', userId },
      timestamp: Date.now(),
      mode: 'active',
      webhookEventId: webhookEventId(),
      deliveryContext: { isRedelivery: options.redelivery ?? false },
      ...extra,
    };
  }

  textMessage(userId: string, text: string) {
    return this.event('message', userId, {
      message: { id: String(Date.now()), type: 'text', text, quoteToken: randomBytes(8).toString('hex') },
    });
  }

  postback(userId: string, data: string) {
    return this.event('postback', userId, { postback: { data } });
  }

  /** A webhook delivery body and its signature. */
  delivery(events: unknown[]): { body: string; signature: string } {
    const body = JSON.stringify({ destination: this.botUserId, events });
    return { body, signature: signBody(body, this.channelSecret) };
  }

  /** Sends a delivery to the webhook URL the way the platform does. */
  async deliver(events: unknown[]): Promise<Response> {
    const { body, signature } = this.delivery(events);
    return fetch(this.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', 'x-line-signature': signature },
      body,
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, {
        'content-type': 'application/json',
        'x-line-request-id': randomUUID(),
        ...headers,
      });
      res.end(JSON.stringify(body));
    };

    if (req.method === 'GET' && url.pathname === '/dialog/bot/accountLink') {
      await this.accountLinkDialog(url, res);
      return;
    }
    if (req.headers.authorization !== `Bearer ${this.channelAccessToken}`)
      return send(401, {
        message: 'Authentication failed. Confirm that the access token in the authorization header is valid.',
      });
    const failure = this.failures.findIndex(
      (f) => f.path === url.pathname || url.pathname.startsWith(f.path),
    );
    if (failure >= 0) {
      const { status } = this.failures.splice(failure, 1)[0]!;
      return send(status, {
        message: status === 429 ? 'The API rate limit has been exceeded.' : 'Internal error',
      });
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: Record<string, unknown> = {};
    if (raw) {
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        return send(400, {
          message: 'The request body has 1 error(s)',
          details: [{ message: 'Malformed JSON' }],
        });
      }
    }
    const sent = (messages: unknown[]) => ({
      sentMessages: messages.map(() => ({
        id: String(Date.now()),
        quoteToken: randomBytes(8).toString('hex'),
      })),
    });

    if (req.method === 'POST' && url.pathname === '/v2/bot/message/reply') {
      const errors = messageErrors(body['messages']);
      if (errors.length)
        return send(400, { message: `The request body has ${errors.length} error(s)`, details: errors });
      const token = this.replyTokens.get(String(body['replyToken']));
      if (!token || token.used || token.expiresAt < Date.now())
        return send(400, { message: 'Invalid reply token' });
      token.used = true;
      this.replies.push({
        replyToken: String(body['replyToken']),
        messages: body['messages'] as SentMessage[],
      });
      return send(200, sent(body['messages'] as unknown[]));
    }
    if (req.method === 'POST' && url.pathname === '/v2/bot/message/push') {
      const retryKey = req.headers['x-line-retry-key'] as string | undefined;
      if (retryKey !== undefined && !UUID.test(retryKey))
        return send(400, { message: "The value for the 'X-Line-Retry-Key' header is invalid" });
      if (retryKey && this.acceptedRetryKeys.has(retryKey))
        return send(
          409,
          { message: 'The retry key is already accepted', sentMessages: [] },
          {
            'x-line-accepted-request-id': this.acceptedRetryKeys.get(retryKey)!,
          },
        );
      const errors = messageErrors(body['messages']);
      if (typeof body['to'] !== 'string' || !/^U[0-9a-f]{32}$/.test(body['to']))
        errors.push({ message: 'Invalid to', property: 'to' });
      if (errors.length)
        return send(400, { message: `The request body has ${errors.length} error(s)`, details: errors });
      if (retryKey) this.acceptedRetryKeys.set(retryKey, randomUUID());
      this.pushes.push({ to: String(body['to']), messages: body['messages'] as SentMessage[], retryKey });
      return send(200, sent(body['messages'] as unknown[]));
    }
    const link = /^\/v2\/bot\/user\/(U[0-9a-f]{32})\/linkToken$/.exec(url.pathname);
    if (req.method === 'POST' && link) {
      const linkToken = randomBytes(24).toString('base64url');
      this.linkTokens.set(linkToken, {
        userId: link[1]!,
        expiresAt: Date.now() + LINK_TOKEN_TTL_MS,
        used: false,
      });
      return send(200, { linkToken });
    }
    return send(404, { message: 'Not found' });
  }

  /** The user confirms the link in LINE: the platform sends the signed accountLink event. */
  private async accountLinkDialog(url: URL, res: ServerResponse): Promise<void> {
    const linkToken = url.searchParams.get('linkToken') ?? '';
    const nonce = url.searchParams.get('nonce') ?? '';
    const token = this.linkTokens.get(linkToken);
    const valid =
      token && !token.used && token.expiresAt > Date.now() && nonce.length >= 10 && nonce.length <= 255;
    this.linkDialogs.push({ linkToken, nonce, status: valid ? 200 : 400 });
    if (!valid) {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('invalid link token');
      return;
    }
    token.used = true;
    const answer = await this.deliver([
      this.event('accountLink', token.userId, { link: { result: 'ok', nonce } }),
    ]);
    this.webhookAnswers.push(answer.status);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html lang="ja"><title>LINE</title><p>連携しました</p></html>');
  }
}
