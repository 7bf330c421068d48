// The byte side of the pickle machine (unpickler.ts): a cursor over the stream that never reads
// past its end (every length is checked against the bytes left before anything is copied), and
// the decoders of pickled scalars (little-endian integers of any length, protocol-0 text forms).
// Integer decoding is linear in the digits and bounded by LIMITS.integerBytes: a pickle cannot
// make the loader do quadratic big-integer arithmetic.
import { fileText } from '../../../errors/file-text.js';
import { ModelFormatError, TruncatedModelError } from '../../../errors/grove-error.js';
import { LIMITS } from '../../limits.js';

/**
 * Buffer's native UTF-8 decoder without toString's argument and encoding handling, which cost as
 * much as the decoding for a pickle's many short strings (Node's own Buffer methods call it; the
 * fallback covers a runtime without it).
 */
const utf8Slice = (Buffer.prototype as { utf8Slice?: (start: number, end: number) => string }).utf8Slice;

export class PickleBytes {
  readonly data: Uint8Array;
  readonly view: DataView;
  /** The same bytes as a Buffer: its native UTF-8 decoding is much faster than TextDecoder for
   *  the many short strings of a pickle (a 1M-word vocabulary is 1M of them). */
  private readonly buf: Buffer;

  constructor(
    bytes: Uint8Array,
    public pos: number,
  ) {
    // A plain Uint8Array view (a Buffer's subarray would build a Buffer object per string).
    this.data = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Moves past `n` bytes and returns where they start; a length beyond the stream is truncation. */
  advance(n: number): number {
    if (!(Number.isSafeInteger(n) && n >= 0) || n > this.data.length - this.pos)
      throw new TruncatedModelError('pickle stream ends early (truncated file?)');
    const at = this.pos;
    this.pos += n;
    return at;
  }
  take(n: number): Uint8Array {
    const at = this.advance(n);
    return this.data.subarray(at, at + n);
  }
  text(n: number): string {
    const at = this.advance(n);
    return utf8Slice ? utf8Slice.call(this.buf, at, at + n) : this.buf.toString('utf8', at, at + n);
  }
  u8(): number {
    return this.data[this.advance(1)]!;
  }
  u16(): number {
    return this.view.getUint16(this.advance(2), true);
  }
  i32(): number {
    return this.view.getInt32(this.advance(4), true);
  }
  u32(): number {
    return this.view.getUint32(this.advance(4), true);
  }
  f64be(): number {
    return this.view.getFloat64(this.advance(8), false);
  }
  len64(): number {
    const at = this.advance(8);
    const n = this.view.getUint32(at, true) + this.view.getUint32(at + 4, true) * 4294967296;
    if (n > this.data.length - this.pos)
      throw new TruncatedModelError('pickle stream ends early (truncated file?)');
    return n;
  }
  /** LONG1 / LONG4: `n` bytes of two's-complement little-endian. */
  long(n: number): number | bigint {
    if (n > LIMITS.integerBytes)
      throw new ModelFormatError(`pickle integer of ${n} bytes; grove's limit is ${LIMITS.integerBytes}`);
    return intFromBytes(this.take(n));
  }
  /** A protocol-0 argument line (latin-1, without its newline). */
  line(): string {
    const end = this.data.indexOf(0x0a, this.pos);
    if (end < 0) throw new TruncatedModelError('pickle stream ends early (truncated file?)');
    const s = this.buf.toString('latin1', this.pos, end);
    this.pos = end + 1;
    return s;
  }
}

const MIN = BigInt(Number.MIN_SAFE_INTEGER);
const MAX = BigInt(Number.MAX_SAFE_INTEGER);
const small = (v: bigint): number | bigint => (v >= MIN && v <= MAX ? Number(v) : v);

/** Two's-complement little-endian bytes -> a number (a bigint beyond 2^53), in linear time. */
export function intFromBytes(b: Uint8Array): number | bigint {
  const n = b.length;
  if (n === 0) return 0;
  let v = BigInt(`0x${Buffer.from(b).reverse().toString('hex')}`);
  if (b[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
  return small(v);
}

/** A protocol-0 INT / LONG argument: decimal digits with an optional sign. */
export function intFromText(s: string): number | bigint {
  const t = s.trim();
  if (t.length > LIMITS.integerBytes || !/^[-+]?\d+$/.test(t))
    throw new ModelFormatError(`pickle integer ${fileText(s)} is not valid`);
  return small(BigInt(t));
}

/** A protocol-0 STRING argument: a Python repr in quotes, with backslash escapes. */
export function unquote(s: string): string {
  const q = s[0];
  if ((q !== "'" && q !== '"') || s[s.length - 1] !== q)
    throw new ModelFormatError('pickle STRING is not quoted');
  return s.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_m, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(Number.parseInt(e.slice(1), 16));
    return ({ n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' } as Record<string, string>)[e] ?? e;
  });
}

/** A protocol-0 UNICODE argument (raw-unicode-escape). */
export function rawUnicode(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})/g, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
}
