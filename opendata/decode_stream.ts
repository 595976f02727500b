/**
 * Strict, streaming text decoding of uploaded CSV files. Municipal files come as UTF-8, UTF-8 with
 * BOM or Shift_JIS (really CP932, which is what WHATWG's `shift_jis` decoder implements, including
 * NEC/IBM extensions such as ① and 髙). A byte sequence that does not decode is never replaced by
 * U+FFFD: decoding stops with the byte offset and the physical line of the first bad byte.
 *
 * Auto-detection is deliberately not statistical: a BOM decides; otherwise the caller decodes as
 * UTF-8 and, when that fails, restarts the whole pipeline as Shift_JIS (see `analyse_upload.ts`).
 *
 * @example
 *   const decoder = new StrictDecoder('shift_jis');
 *   for await (const chunk of stream) text += decoder.push(chunk);
 *   text += decoder.end();
 */

export type SourceEncoding = 'utf-8' | 'shift_jis';

/** The bytes could not be decoded in the given encoding. */
export class EncodingError extends Error {
  override name = 'EncodingError';
  readonly encoding: SourceEncoding | 'utf-16';
  /** Zero-based byte offset of the first byte that does not decode. */
  readonly offset: number;
  /** One-based physical line (LF-counted) that byte is on. */
  readonly line: number;

  constructor(encoding: SourceEncoding | 'utf-16', offset: number, line: number) {
    super(`cannot decode as ${encoding} at byte ${offset} (line ${line})`);
    this.encoding = encoding;
    this.offset = offset;
    this.line = line;
  }
}

/** What the first bytes say: a UTF-8 BOM, a UTF-16 BOM (rejected), or nothing. */
export function sniffBom(head: Uint8Array): 'utf-8' | 'utf-16' | null {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 'utf-8';
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) return 'utf-16';
  return null;
}

const LF = 0x0a;
/** How much of the current line is kept to locate a bad byte exactly (lines are rarely longer). */
const MAX_CARRY = 1 << 20;

/** Length of the character starting at `b`, from its lead byte; the decoder then judges validity. */
function unitLength(encoding: SourceEncoding, b: number): number {
  if (encoding === 'utf-8') {
    if (b < 0x80) return 1;
    if (b >= 0xc2 && b <= 0xdf) return 2;
    if (b >= 0xe0 && b <= 0xef) return 3;
    if (b >= 0xf0 && b <= 0xf4) return 4;
    return 1;
  }
  return (b >= 0x81 && b <= 0x9f) || (b >= 0xe0 && b <= 0xfc) ? 2 : 1;
}

/** Offset of the first undecodable character in `bytes` (which starts on a character boundary). */
function firstBadOffset(encoding: SourceEncoding, bytes: Uint8Array, final: boolean): number {
  let i = 0;
  while (i < bytes.length) {
    const len = unitLength(encoding, bytes[i]!);
    if (i + len > bytes.length) return final ? i : -1;
    try {
      new TextDecoder(encoding, { fatal: true, ignoreBOM: true }).decode(bytes.subarray(i, i + len));
    } catch {
      return i;
    }
    i += len;
  }
  return -1;
}

function countLf(bytes: Uint8Array, end = bytes.length): number {
  let n = 0;
  for (let i = 0; i < end; i++) if (bytes[i] === LF) n++;
  return n;
}

/** A fatal `TextDecoder` that keeps byte offsets and line numbers to report where decoding failed. */
export class StrictDecoder {
  readonly encoding: SourceEncoding;
  readonly #decoder: InstanceType<typeof TextDecoder>;
  /** Bytes consumed before the current chunk. */
  #offset = 0;
  /** LF count before `#carryStart`. */
  #lines = 0;
  /** Bytes of the current, unfinished line (from just after the last LF). */
  #carry: Uint8Array = new Uint8Array(0);
  #carryStart = 0;
  #carryExact = true;

  constructor(encoding: SourceEncoding) {
    this.encoding = encoding;
    // ignoreBOM: false → a leading UTF-8 BOM is consumed, not returned as U+FEFF.
    this.#decoder = new TextDecoder(encoding, { fatal: true, ignoreBOM: false });
  }

  /** Bytes read so far. */
  get bytesRead(): number {
    return this.#offset;
  }

  push(chunk: Uint8Array): string {
    let text: string;
    try {
      text = this.#decoder.decode(chunk, { stream: true });
    } catch {
      throw this.#locate(chunk, false);
    }
    this.#advance(chunk);
    return text;
  }

  end(): string {
    try {
      return this.#decoder.decode();
    } catch {
      throw this.#locate(new Uint8Array(0), true);
    }
  }

  #advance(chunk: Uint8Array): void {
    const lastLf = chunk.lastIndexOf(LF);
    if (lastLf < 0) {
      if (this.#carry.length + chunk.length <= MAX_CARRY) this.#carry = concat(this.#carry, chunk);
      else this.#carryExact = false;
    } else {
      // The carry never holds an LF, so every LF seen so far is before the new carry.
      this.#lines += countLf(chunk);
      this.#carry = chunk.slice(lastLf + 1);
      this.#carryStart = this.#offset + lastLf + 1;
      this.#carryExact = true;
    }
    this.#offset += chunk.length;
  }

  #locate(chunk: Uint8Array, final: boolean): EncodingError {
    const bytes = concat(this.#carry, chunk);
    const start = this.#carryExact ? this.#carryStart : this.#offset;
    const scanned = this.#carryExact ? bytes : chunk;
    const at = firstBadOffset(this.encoding, scanned, final);
    const within = Math.max(at, 0);
    const line = this.#lines + 1 + countLf(scanned, within);
    return new EncodingError(this.encoding, start + within, line);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
