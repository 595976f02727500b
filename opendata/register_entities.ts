/**
 * Writes entities to the broker with `POST /v2/op/update` (`append`, i.e. upsert), in batches kept
 * under Orion's default 1 MB request limit by serialised size, not by count.
 */
import type { NgsiClient, NgsiEntity } from '../broker/index.ts';

const MAX_BATCH_BYTES = 900_000;

export class BatchWriter {
  readonly #client: NgsiClient;
  #batch: NgsiEntity[] = [];
  #bytes = 0;
  batches = 0;
  written = 0;

  constructor(client: NgsiClient) {
    this.#client = client;
  }

  async add(entity: NgsiEntity): Promise<void> {
    const size = Buffer.byteLength(JSON.stringify(entity)) + 1;
    if (this.#bytes + size > MAX_BATCH_BYTES) await this.flush();
    this.#batch.push(entity);
    this.#bytes += size;
  }

  async flush(): Promise<void> {
    if (this.#batch.length === 0) return;
    const batch = this.#batch;
    this.#batch = [];
    this.#bytes = 0;
    await this.#client.batchUpdate('append', batch);
    this.batches++;
    this.written += batch.length;
  }
}
