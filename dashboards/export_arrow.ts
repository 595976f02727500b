/**
 * Streams a view's rows, with filters, as Apache Arrow IPC (stream format) or Parquet. Pages from
 * the server-side cursor become Arrow record batches (`apache-arrow`): days as Date32 (DateDay),
 * text as Utf8, measures as Float64. Parquet is written by `parquet-wasm` from the same batches as
 * they come (`transformParquetStream`), in row groups of ROW_GROUP rows, so neither format holds
 * the whole view in memory.
 */
import { once } from 'node:events';
import {
  DateDay,
  Float64,
  makeData,
  RecordBatch,
  RecordBatchStreamWriter,
  Schema,
  Field,
  Struct,
  tableToIPC,
  Utf8,
  vectorFromArray,
  Table,
} from 'apache-arrow';
import type { Response } from 'express';
import * as parquet from 'parquet-wasm';
import type { Database } from '../core/index.ts';
import type { Filter } from './chart_definition.ts';
import { type PageRow, readViewPages, viewColumns } from './read_view_pages.ts';
import type { AnalyticsView } from './views.ts';
import { writeWithBackpressure } from './write_with_backpressure.ts';

const ROW_GROUP = 100_000;

export function arrowSchema(view: AnalyticsView): Schema {
  return new Schema(
    viewColumns(view).map((c) => {
      if (view.dimensions[c] === 'date') return new Field(c, new DateDay(), false);
      return new Field(c, c in view.measures ? new Float64() : new Utf8(), true);
    }),
  );
}

/** One page of rows as a record batch of the view's schema. */
export function toRecordBatch(schema: Schema, rows: PageRow[]): RecordBatch {
  const children = schema.fields.map((field) => {
    if (field.type instanceof DateDay)
      return makeData({
        type: new DateDay(),
        length: rows.length,
        data: Int32Array.from(rows, (r) => Number(r[field.name])),
      });
    return vectorFromArray(
      rows.map((r) => r[field.name] ?? null),
      field.type as Utf8 | Float64,
    ).data[0]!;
  });
  const data = makeData({ type: new Struct(schema.fields), length: rows.length, nullCount: 0, children });
  return new RecordBatch(schema, data);
}

function startDownload(res: Response, view: AnalyticsView, type: string, ext: string) {
  res.status(200).type(type);
  res.setHeader('content-disposition', `attachment; filename="${view.name}.${ext}"`);
}

export async function streamViewArrow(
  db: Database,
  view: AnalyticsView,
  filters: Filter[],
  res: Response,
): Promise<number> {
  const schema = arrowSchema(view);
  const pages = readViewPages(db, view, filters, { daysAsNumbers: true });
  let count = 0;
  try {
    const first = await pages.next();
    startDownload(res, view, 'application/vnd.apache.arrow.stream', 'arrows');
    const writer = new RecordBatchStreamWriter();
    const out = writer.toNodeStream();
    out.pipe(res);
    const ended = once(out, 'end');
    if (first.done) writer.write(new Table(schema));
    else {
      writer.write(toRecordBatch(schema, first.value));
      count += first.value.length;
      for await (const rows of pages) {
        if (res.destroyed) throw new Error('client closed the connection');
        writer.write(toRecordBatch(schema, rows));
        count += rows.length;
        if (res.writableNeedDrain) await once(res, 'drain');
      }
    }
    writer.finish();
    await ended;
    return count;
  } finally {
    await pages.return(undefined);
  }
}

export async function streamViewParquet(
  db: Database,
  view: AnalyticsView,
  filters: Filter[],
  res: Response,
): Promise<number> {
  const schema = arrowSchema(view);
  const pages = readViewPages(db, view, filters, { daysAsNumbers: true });
  let count = 0;
  try {
    const first = await pages.next();
    startDownload(res, view, 'application/vnd.apache.parquet', 'parquet');
    let pending: PageRow[] | undefined = first.done ? [] : first.value;
    // Pulled by the Parquet writer: the next page only when it wants more (backpressure).
    const batches = new ReadableStream<parquet.RecordBatch>({
      async pull(controller) {
        const rows = pending ?? (await pages.next()).value;
        pending = undefined;
        if (!rows || (rows.length === 0 && count > 0)) {
          controller.close();
          return;
        }
        count += rows.length;
        const ipc = tableToIPC(new Table(toRecordBatch(schema, rows)), 'stream');
        for (const batch of parquet.Table.fromIPCStream(ipc).recordBatches()) controller.enqueue(batch);
        if (rows.length === 0) controller.close();
      },
    });
    const properties = new parquet.WriterPropertiesBuilder()
      .setCompression(parquet.Compression.SNAPPY)
      .setMaxRowGroupSize(ROW_GROUP)
      .build();
    const bytes = await parquet.transformParquetStream(batches, properties);
    for await (const chunk of bytes as unknown as AsyncIterable<Uint8Array>)
      await writeWithBackpressure(res, chunk);
    res.end();
    return count;
  } finally {
    await pages.return(undefined);
  }
}
