/**
 * Sends notifications asynchronously. Jobs wait in a bounded queue, one FIFO per subscription so a
 * receiver sees its notifications in order, while different subscriptions are served in parallel
 * up to `concurrency`. A job is retried after a transport error or a 5xx; a full queue drops the
 * job and counts it as failed. Requests go out through `node:http` with exactly Orion's headers.
 */
import http from 'node:http';
import https from 'node:https';

export interface NotificationJob {
  /** Orders jobs: one FIFO per key (tenant + subscription id). */
  key: string;
  method: string;
  url: URL;
  /** In the order they are sent. */
  headers: Array<[string, string]>;
  body: Buffer;
  timeoutMs: number;
  /** Called once per job with the final outcome. */
  done(outcome: { ok: true; status: number } | { ok: false; reason: string }): void;
}

export interface NotifierOptions {
  maxQueue: number;
  concurrency: number;
  retries: number;
  retryDelayMs: number;
}

export interface Notifier {
  enqueue(job: NotificationJob): boolean;
  /** Jobs waiting or in flight. */
  pending(): number;
  /** Resolves when nothing is waiting or in flight. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

// Orion reports transport failures with libcurl's texts.
const CURL_TEXT: Record<string, string> = {
  ECONNREFUSED: "Couldn't connect to server",
  ENOTFOUND: "Couldn't resolve host name",
  EAI_AGAIN: "Couldn't resolve host name",
  ECONNRESET: 'Failure when receiving data from the peer',
  EHOSTUNREACH: "Couldn't connect to server",
};

const agentOptions = { keepAlive: true, maxSockets: 64 };

export function createNotifier(options: NotifierOptions): Notifier {
  const queues = new Map<string, NotificationJob[]>();
  const ready: string[] = [];
  const busy = new Set<string>();
  let queued = 0;
  let inFlight = 0;
  let stopped = false;
  let idle: Array<() => void> = [];
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);

  function send(job: NotificationJob): Promise<{ status: number } | { error: string }> {
    return new Promise((resolve) => {
      const secure = job.url.protocol === 'https:';
      const request = (secure ? https : http).request(job.url, {
        method: job.method,
        agent: secure ? httpsAgent : httpAgent,
        setHost: false,
        timeout: job.timeoutMs,
      });
      for (const [name, value] of job.headers) request.setHeader(name, value);
      // Orion sends no Connection header; Node would add one unless told otherwise.
      request.removeHeader('Connection');
      request.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
        res.on('error', (e) => resolve({ error: e.message }));
      });
      request.on('timeout', () => request.destroy(new Error('Timeout was reached')));
      request.on('error', (e) =>
        resolve({ error: CURL_TEXT[(e as NodeJS.ErrnoException).code ?? ''] ?? e.message }),
      );
      request.end(job.body);
    });
  }

  async function deliver(job: NotificationJob): Promise<void> {
    let last: { status: number } | { error: string } = { error: 'not sent' };
    for (let attempt = 0; attempt <= options.retries && !stopped; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, options.retryDelayMs * 2 ** (attempt - 1)));
      last = await send(job);
      if ('status' in last && last.status < 500) break;
    }
    // Like Orion, any HTTP answer counts as delivered (its status becomes lastSuccessCode); only
    // transport failures (refused, reset, timeout) count as failures.
    if ('status' in last) job.done({ ok: true, status: last.status });
    else job.done({ ok: false, reason: last.error });
  }

  function pump(): void {
    while (inFlight < options.concurrency && ready.length > 0) {
      const key = ready.shift()!;
      const queue = queues.get(key);
      const job = queue?.shift();
      if (!job) continue;
      if (queue!.length === 0) queues.delete(key);
      queued -= 1;
      inFlight += 1;
      busy.add(key);
      void deliver(job).finally(() => {
        inFlight -= 1;
        busy.delete(key);
        if (queues.has(key)) ready.push(key);
        pump();
        if (queued === 0 && inFlight === 0) {
          for (const resolve of idle) resolve();
          idle = [];
        }
      });
    }
  }

  return {
    enqueue(job) {
      if (stopped || queued >= options.maxQueue) {
        job.done({ ok: false, reason: 'notification queue is full' });
        return false;
      }
      const queue = queues.get(job.key);
      if (queue) queue.push(job);
      else {
        queues.set(job.key, [job]);
        if (!busy.has(job.key)) ready.push(job.key);
      }
      queued += 1;
      pump();
      return true;
    },
    pending: () => queued + inFlight,
    drain() {
      if (queued === 0 && inFlight === 0) return Promise.resolve();
      return new Promise((resolve) => idle.push(resolve));
    },
    async stop() {
      stopped = true;
      for (const queue of queues.values())
        for (const job of queue) job.done({ ok: false, reason: 'broker stopping' });
      queues.clear();
      ready.length = 0;
      queued = 0;
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
