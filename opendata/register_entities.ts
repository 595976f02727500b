/**
 * Writes entities to the broker with `POST /v2/op/update` (`append`, i.e. upsert), in batches kept
 * under Orion's default 1 MB request limit by serialised size, not by count. A few batches are in
 * flight at once so that parsing the file and the broker's writes overlap; ids are unique within
 * an upload, so the order of batches does not change the result.
 */
import type { NgsiClient, NgsiEntity } from '../broker/index.ts';

const MAX_BATCH_BYTES = 900_000;

export class BatchWriter {
  readonly #client: NgsiClient;
  readonly #maxInFlight: number;
  readonly #onBatch: ((written: number, batches: number) => Promise<void>) | undefined;
  #batch: NgsiEntity[] = [];
  #bytes = 0;
  #inFlight = new Set<Promise<void>>();
  #failure: unknown = null;
  batches = 0;
  written = 0;

  constructor(
    client: NgsiClient,
    options: { maxInFlight?: number; onBatch?: (written: number, batches: number) => Promise<void> } = {},
  ) {
    this.#client = client;
    this.#maxInFlight = options.maxInFlight ?? 3;
    this.#onBatch = options.onBatch;
  }

  async add(entity: NgsiEntity): Promise<void> {
    const size = Buffer.byteLength(JSON.stringify(entity)) + 1;
    if (this.#bytes + size > MAX_BATCH_BYTES) await this.#send();
    this.#batch.push(entity);
    this.#bytes += size;
  }

  /** Sends what is left and waits for every batch; throws the first broker error. */
  async flush(): Promise<void> {
    await this.#send();
    await Promise.all(this.#inFlight);
    if (this.#failure) throw this.#failure;
  }

  async #send(): Promise<void> {
    if (this.#failure) throw this.#failure;
    if (this.#batch.length === 0) return;
    while (this.#inFlight.size >= this.#maxInFlight) await Promise.race(this.#inFlight);
    if (this.#failure) throw this.#failure;
    const batch = this.#batch;
    this.#batch = [];
    this.#bytes = 0;
    const job = this.#client
      .batchUpdate('append', batch)
      .then(async () => {
        this.batches++;
        this.written += batch.length;
        await this.#onBatch?.(this.written, this.batches);
      })
      .catch((error: unknown) => {
        this.#failure ??= error;
      })
      .finally(() => {
        this.#inFlight.delete(job);
      });
    this.#inFlight.add(job);
  }
}
