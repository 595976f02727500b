/**
 * Shared fixtures for the broker tests: the platform with only core and the broker, raw HTTP
 * requests that keep header order, and a notification receiver on localhost.
 */
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrokerSettings } from '../../broker/broker.ts';
import { type BrokerServices, brokerModule } from '../../broker/index.ts';
import { createCoreModule } from '../../core/index.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';

export interface TestBroker {
  t: TestPlatform;
  url: string;
  services: BrokerServices;
  stop(): Promise<void>;
}

export async function startBroker(
  settings: Partial<BrokerSettings> = {},
  now?: () => Date,
): Promise<TestBroker> {
  const t = await startTestPlatform({
    modules: [createCoreModule, brokerModule({ notifyRetryDelayMs: 20, ...settings })],
    env: { RATE_LIMIT_PER_MINUTE: '1000000' },
    ...(now ? { now } : {}),
  });
  return { t, url: t.url, services: t.platform.services['broker'] as BrokerServices, stop: () => t.stop() };
}

export interface Answer {
  status: number;
  reason: string;
  /** Header lines in wire order, as [name, value]. */
  headers: Array<[string, string]>;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON bodies and assert on them.
  body: any;
  header(name: string): string | undefined;
}

/** One HTTP request with node:http, so the answer's header order and reason phrase are visible. */
export function call(
  base: string,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: unknown; raw?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  let payload: Buffer | undefined;
  if (init.raw !== undefined) payload = Buffer.from(init.raw);
  else if (init.body !== undefined) {
    payload = Buffer.from(JSON.stringify(init.body));
    headers['Content-Type'] ??= 'application/json';
  }
  if (payload) headers['Content-Length'] ??= String(payload.length);
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const pairs: Array<[string, string]> = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2)
          pairs.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
        let body: unknown = text;
        if ((res.headers['content-type'] ?? '').includes('json') && text) body = JSON.parse(text);
        resolve({
          status: res.statusCode ?? 0,
          reason: res.statusMessage ?? '',
          headers: pairs,
          text,
          body,
          header: (name) => pairs.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1],
        });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

export interface Received {
  method: string;
  url: string;
  headers: Array<[string, string]>;
  // biome-ignore lint/suspicious/noExplicitAny: notification payloads are arbitrary JSON.
  body: any;
  text: string;
  at: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Status to answer with (default 200), or a function of the request number. */
  status: number | ((n: number) => number);
  /** Delay before answering, ms. */
  delayMs: number;
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const receiver: Receiver = {
    url: '',
    received: [],
    status: 200,
    delayMs: 0,
    async waitFor(count, timeoutMs = 5000) {
      const until = Date.now() + timeoutMs;
      while (receiver.received.length < count) {
        if (Date.now() > until)
          throw new Error(`expected ${count} notifications, got ${receiver.received.length}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return receiver.received;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const headers: Array<[string, string]> = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: kept as text
      }
      receiver.received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers,
        body,
        text,
        at: Date.now(),
      });
      const n = receiver.received.length;
      const status = typeof receiver.status === 'function' ? receiver.status(n) : receiver.status;
      setTimeout(() => {
        res.writeHead(status);
        res.end();
      }, receiver.delayMs);
    });
  });
  server.keepAliveTimeout = 100;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}

/** Polls until `check` passes or the time is up (notifications are asynchronous). */
export async function eventually(check: () => Promise<void> | void, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
