// A stored CSV chunk's rows found in its bytes, so that the common chunk is scored without turning
// megabytes into text and back (docs/jobs.md, Performance): the workers get the uploaded lines as
// they are, the key column left in and named by `:batch?exclude=` (docs/api.md), and only each
// row's key is decoded here. The rows, keys and refusals are exactly those raw-chunk.ts would
// find: a chunk this cannot read the same way without its rules (a double quote anywhere, a row
// without the key's field, a key it would refuse, rows refused at upload) gets null and goes the
// text way (raw-chunk.ts), which decides as it always has.
import { keyProblem } from './row-key.js';

const NL = 10;
const CR = 13;
const COMMA = 44;
const QUOTE = 34;

export interface ByteRows {
  /** Rows (non-blank lines) in the chunk. */
  count: number;
  /** Row i is bytes [starts[i], ends[i]) of the body (its line end and a CR before it left out). */
  starts: Int32Array;
  ends: Int32Array;
  /** Each row's key, trimmed (null without a key column). */
  keys: string[] | null;
}

/**
 * The rows of `body` (the uploaded lines of one chunk) with, when `keyIndex` >= 0, each row's key
 * from field `keyIndex` (checked as raw-chunk.ts checks it, against `keyColumn`); null when the
 * chunk needs the text way (see above).
 */
export function csvByteRows(
  body: Uint8Array,
  keyIndex: number,
  keyColumn: string,
  rowCount: number,
): ByteRows | null {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (buf.indexOf(QUOTE) !== -1) return null;
  const starts = new Int32Array(rowCount);
  const ends = new Int32Array(rowCount);
  const keys: string[] | null = keyIndex >= 0 ? new Array<string>(rowCount) : null;
  const n = buf.length;
  let count = 0;
  let start = 0;
  while (start < n) {
    let nl = buf.indexOf(NL, start);
    if (nl === -1) nl = n;
    let end = nl;
    if (end > start && buf[end - 1] === CR) end--;
    if (end > start) {
      if (count === rowCount) return null;
      if (keys !== null) {
        let from = start;
        for (let i = 0; i < keyIndex; i++) {
          const c = buf.indexOf(COMMA, from);
          if (c === -1 || c >= end) return null;
          from = c + 1;
        }
        let to = buf.indexOf(COMMA, from);
        if (to === -1 || to > end) to = end;
        const key = buf.toString('utf8', from, to).trim();
        if (keyProblem(key, keyColumn) !== null) return null;
        keys[count] = key;
      }
      starts[count] = start;
      ends[count] = end;
      count++;
    }
    start = nl + 1;
  }
  return count === rowCount ? { count, starts, ends, keys } : null;
}

/** The `:batch` body of rows [lo, hi): the header line, then those rows' bytes as uploaded. */
export function byteRowsBody(
  header: Buffer,
  body: Uint8Array,
  rows: ByteRows,
  lo: number,
  hi: number,
): Buffer {
  const from = rows.starts[lo]!;
  const to = rows.ends[hi - 1]!;
  const out = Buffer.allocUnsafe(header.length + (to - from) + 1);
  header.copy(out, 0);
  out.set(body.subarray(from, to), header.length);
  out[out.length - 1] = NL;
  return out;
}
