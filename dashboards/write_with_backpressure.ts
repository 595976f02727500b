/** Writes a chunk to an HTTP response and waits for `drain` when its buffer is full; fails when the client left. */
import type { Response } from 'express';

export async function writeWithBackpressure(res: Response, chunk: string | Uint8Array): Promise<void> {
  if (res.destroyed) throw new Error('client closed the connection');
  if (res.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', closed);
      resolve();
    };
    const closed = () => {
      res.off('drain', done);
      reject(new Error('client closed the connection'));
    };
    res.once('drain', done);
    res.once('close', closed);
  });
}
