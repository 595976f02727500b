/**
 * Serves the broker on Node's HTTP objects, standalone or mounted in the platform's Express app.
 * Writes exactly Orion's header set (Date, Fiware-Correlator, then Location / Fiware-Total-Count /
 * Allow, Content-Type, Content-Length) with RFC 9110 reason phrases; headers the platform's
 * middleware set earlier (helmet, request id, rate limit) are removed first.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { REASON } from '../errors.ts';
import { dispatch, type Engine, type RawReply } from './dispatch.ts';

function readBody(
  req: IncomingMessage,
  max: number,
): Promise<{ body: Buffer; tooLarge: number | undefined }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) chunks.push(chunk);
    });
    req.on('end', () => resolve({ body: Buffer.concat(chunks), tooLarge: size > max ? size : undefined }));
    req.on('error', reject);
  });
}

export function writeReply(req: IncomingMessage, res: ServerResponse, out: RawReply, close = false): void {
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  const keepAlive = !close && req.headers.connection?.toLowerCase() !== 'close' && req.httpVersion !== '1.0';
  const flat: string[] = ['Date', new Date().toUTCString()];
  for (const [name, value] of out.headers) flat.push(name, value);
  // Naming the Connection header stops Node from adding its own `Connection` and `Keep-Alive` lines.
  flat.push('Connection', keepAlive ? 'Keep-Alive' : 'close');
  res.writeHead(out.status, REASON[out.status] ?? 'Unknown', flat);
  res.end(out.body);
}

export function nodeHandler(engine: Engine): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void (async () => {
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      const declared =
        req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
      let body: Buffer | undefined;
      let declaredLength: number | undefined;
      let close = false;
      if (declared === undefined || Number.isNaN(declared)) {
        // Orion requires Content-Length on bodies; a chunked body is drained and answered 411.
        req.resume();
      } else if (declared > engine.maxBodyBytes) {
        declaredLength = declared;
        close = true;
        req.resume();
      } else {
        const read = await readBody(req, engine.maxBodyBytes);
        body = read.body;
        if (read.tooLarge !== undefined) declaredLength = read.tooLarge;
      }
      const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/';
      const out = await dispatch(engine, {
        method: req.method ?? 'GET',
        url,
        headers,
        body,
        ...(declaredLength === undefined ? {} : { declaredLength }),
      });
      writeReply(req, res, out, close);
    })().catch((error) => {
      engine.logger.error({ err: error }, 'broker: transport failure');
      if (!res.headersSent) res.writeHead(500, 'Internal Server Error');
      res.end();
    });
  };
}
