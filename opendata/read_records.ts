/**
 * Streams CSV records (RFC 4180, via `csv-parse`) out of raw bytes, each with the physical line it
 * starts on — the row number a staff member sees when the file is open in Excel. Quoted cells may
 * span lines; CRLF, LF and CR line ends are accepted; blank lines are counted but not yielded.
 *
 * @example
 *   for await (const { line, cells } of readRecords(createReadStream(file), 'shift_jis')) …
 */
import { Readable } from 'node:stream';
import { type Options, parse } from 'csv-parse';
import { type SourceEncoding, StrictDecoder } from './decode_stream.ts';

export interface CsvRecord {
  /** One-based physical line the record starts on. */
  line: number;
  cells: string[];
  /** Bytes of the file read so far (for progress). */
  bytesRead: number;
}

/** The CSV structure is broken (an unclosed quote, text after a closing quote). */
export class CsvSyntaxError extends Error {
  override name = 'CsvSyntaxError';
  readonly line: number;
  readonly reason: 'unclosed-quote' | 'invalid-quote' | 'other';

  constructor(line: number, reason: CsvSyntaxError['reason'], message: string) {
    super(message);
    this.line = line;
    this.reason = reason;
  }
}

const LINE_BREAK = /\r\n|\r|\n/g;

function countBreaks(text: string): number {
  if (!text.includes('\n') && !text.includes('\r')) return 0;
  let n = 0;
  LINE_BREAK.lastIndex = 0;
  while (LINE_BREAK.exec(text) !== null) n++;
  return n;
}

/**
 * Physical lines a record spans: its record delimiter plus the line breaks kept verbatim inside
 * its quoted cells (csv-parse's own line counter counts a CRLF inside quotes twice). Cheaper than
 * csv-parse's `raw` option, which halves its throughput.
 */
function linesOf(cells: string[]): number {
  let n = 1;
  for (const cell of cells) n += countBreaks(cell);
  return n;
}

export async function* readRecords(
  source: AsyncIterable<Uint8Array>,
  encoding: SourceEncoding,
): AsyncGenerator<CsvRecord> {
  const decoder = new StrictDecoder(encoding);
  async function* text(): AsyncGenerator<string> {
    for await (const chunk of source) {
      const s = decoder.push(chunk);
      if (s) yield s;
    }
    const rest = decoder.end();
    if (rest) yield rest;
  }
  // Lines are counted as records are parsed (not as they are consumed), so that a syntax error is
  // reported on the line where the broken record starts even when earlier records are still queued.
  let parsedLines = 1;
  const options: Options = {
    relax_column_count: true,
    skip_empty_lines: false,
    bom: false,
    on_record: (rec: unknown) => {
      parsedLines += linesOf(rec as string[]);
      return rec as string[];
    },
  };
  const parser = parse(options);
  const input = Readable.from(text(), { objectMode: false });
  input.on('error', (error) => parser.destroy(error));
  input.pipe(parser);

  let line = 1;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      const start = line;
      line += linesOf(record);
      if (record.length === 1 && record[0] === '') continue; // blank line (or a lone "" — nothing either way)
      yield { line: start, cells: record, bytesRead: decoder.bytesRead };
    }
  } catch (error) {
    line = parsedLines;
    const code = (error as { code?: string }).code;
    if (code === 'CSV_QUOTE_NOT_CLOSED') {
      throw new CsvSyntaxError(
        line,
        'unclosed-quote',
        `unclosed quote in the record starting on line ${line}`,
      );
    }
    if (code === 'CSV_INVALID_CLOSING_QUOTE' || code === 'INVALID_OPENING_QUOTE') {
      throw new CsvSyntaxError(
        line,
        'invalid-quote',
        `misplaced quote in the record starting on line ${line}`,
      );
    }
    if (typeof code === 'string' && code.startsWith('CSV_')) {
      throw new CsvSyntaxError(
        line,
        'other',
        `${(error as Error).message} (record starting on line ${line})`,
      );
    }
    throw error;
  } finally {
    input.destroy();
    parser.destroy();
  }
}
