/** Small fetch helpers for black-box HTTP tests. */

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON bodies and assert on them.
export type Json = any;

export async function json(res: Response): Promise<Json> {
  return (await res.json()) as Json;
}

export interface Sent {
  status: number;
  headers: Headers;
  body: Json;
}

/** Sends a request and reads the body as JSON when it is JSON, as text otherwise. */
export async function send(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown; raw?: string | Uint8Array } = {},
): Promise<Sent> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | Uint8Array | undefined;
  if (init.raw !== undefined) body = init.raw;
  else if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(url, { method: init.method ?? 'GET', headers, body });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  return {
    status: res.status,
    headers: res.headers,
    body: type.includes('json') && text ? JSON.parse(text) : text,
  };
}
