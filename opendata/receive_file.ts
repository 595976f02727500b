/**
 * Streams a request body to a file (never held in memory), hashing it on the way, with a size
 * limit. A body that is cut short (client cancelled) or too large leaves no file behind.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export class TooLargeError extends Error {
  override name = 'TooLargeError';
}

export async function receiveFile(
  req: IncomingMessage,
  file: string,
  maxBytes: number,
): Promise<{ bytes: number; sha256: string }> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > maxBytes) throw new TooLargeError();
  const hash = createHash('sha256');
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      if (bytes > maxBytes) return done(new TooLargeError());
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(req, meter, createWriteStream(file, { flags: 'wx' }));
    if (!req.complete) throw new Error('request body incomplete');
  } catch (error) {
    await rm(file, { force: true });
    throw error;
  }
  return { bytes, sha256: hash.digest('hex') };
}
