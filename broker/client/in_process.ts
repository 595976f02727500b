/**
 * A `fetch` that hands requests straight to the embedded broker's dispatcher: the platform's
 * modules use the same NGSIv2 client as against Orion, without a loopback HTTP hop.
 */
import type { Broker } from '../broker.ts';

export function inProcessFetch(broker: Pick<Broker, 'handle'>): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name] = value;
    });
    if (body && body.length > 0) headers['content-length'] = String(body.length);
    const out = await broker.handle({
      method: request.method,
      url: `${url.pathname}${url.search}`,
      headers,
      body,
    });
    const status = out.status;
    const nullBody = status === 204 || status === 304 || out.body === undefined;
    return new Response(nullBody ? null : new Uint8Array(out.body!), { status, headers: out.headers });
  };
}
