// A UBJSON (Universal Binary JSON, ubjson.org, draft 12) decoder for the subset XGBoost writes in
// `.ubj` model files (src/common/json.cc UBJWriter): big-endian numbers, objects whose keys are
// length-prefixed strings, and optimized containers (`$` element type, `#` count). Strongly typed
// arrays (`[$d#L...`: float32 split conditions, int32 children, uint8 default_left, int64 ids) decode
// straight into typed arrays, which is what makes a 500-tree model load fast. Objects have no
// prototype, so a key such as `__proto__` is plain data.
//
// Hostile input: every count is checked against the bytes left before anything is allocated;
// null/true/false elements of a typed container take no bytes, so the file may hold at most as
// many of them (in all its containers together) as it has bytes; containers nest at most
// LIMITS.nesting deep.

import { fileText } from '../../errors/file-text.js';
import { ModelFormatError, TruncatedModelError } from '../../errors/grove-error.js';
import { LIMITS } from '../limits.js';

class Reader {
  pos = 0;
  depth = 0;
  /** Elements that take no bytes (typed Z/T/F containers) still allowed. */
  freeElements: number;
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.freeElements = bytes.length;
  }
  need(n: number): void {
    if (this.pos + n > this.bytes.length) {
      throw new TruncatedModelError(
        `UBJSON model ends early: needs ${n} more byte(s) at offset ${this.pos} of ${this.bytes.length} (truncated file?)`,
      );
    }
  }
  u8(): number {
    this.need(1);
    return this.bytes[this.pos++] as number;
  }
}

const decoder = new TextDecoder('utf-8');

/** Bytes per element of the fixed-size types, by marker. */
const SIZE: Record<number, number> = { 105: 1, 85: 1, 73: 2, 108: 4, 76: 8, 100: 4, 68: 8, 67: 1 };

export function decodeUbjson(bytes: Uint8Array): unknown {
  const r = new Reader(bytes);
  const value = readValue(r, r.u8());
  while (r.pos < bytes.length && bytes[r.pos] === 0x4e) r.pos++; // trailing no-ops
  if (r.pos !== bytes.length) {
    throw new ModelFormatError(
      `UBJSON model has ${bytes.length - r.pos} unexpected byte(s) after the top-level value`,
    );
  }
  return value;
}

function readInt(r: Reader, marker: number): number {
  const v = r.view;
  switch (marker) {
    case 0x69: // i int8
      r.need(1);
      return v.getInt8(r.pos++);
    case 0x55: // U uint8
      return r.u8();
    case 0x49: // I int16
      r.need(2);
      r.pos += 2;
      return v.getInt16(r.pos - 2);
    case 0x6c: // l int32
      r.need(4);
      r.pos += 4;
      return v.getInt32(r.pos - 4);
    case 0x4c: {
      // L int64: exact up to 2^53, which every count and id in a model file is
      r.need(8);
      r.pos += 8;
      return Number(v.getBigInt64(r.pos - 8));
    }
    default:
      throw new ModelFormatError(
        `UBJSON: expected an integer marker at offset ${r.pos - 1}, found 0x${marker.toString(16)}`,
      );
  }
}

function readLength(r: Reader): number {
  const n = readInt(r, r.u8());
  if (n < 0) throw new ModelFormatError(`UBJSON: negative length ${n} at offset ${r.pos}`);
  return n;
}

function readString(r: Reader): string {
  const n = readLength(r);
  r.need(n);
  const b = r.bytes;
  const start = r.pos;
  r.pos += n;
  // Keys are short ASCII: building them directly beats a TextDecoder call per key.
  if (n <= 64) {
    let s = '';
    for (let i = start; i < start + n; i++) {
      const c = b[i] as number;
      if (c >= 0x80) return decoder.decode(b.subarray(start, start + n));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return decoder.decode(b.subarray(start, start + n));
}

function readValue(r: Reader, marker: number): unknown {
  const v = r.view;
  switch (marker) {
    case 0x7b: // {
    case 0x5b: {
      // [
      if (++r.depth > LIMITS.nesting)
        throw new ModelFormatError(`UBJSON containers nest deeper than ${LIMITS.nesting} levels`);
      const value = marker === 0x7b ? readObject(r) : readArray(r);
      r.depth--;
      return value;
    }
    case 0x5a: // Z null
      return null;
    case 0x54: // T
      return true;
    case 0x46: // F
      return false;
    case 0x69:
    case 0x55:
    case 0x49:
    case 0x6c:
    case 0x4c:
      return readInt(r, marker);
    case 0x64: // d float32
      r.need(4);
      r.pos += 4;
      return v.getFloat32(r.pos - 4);
    case 0x44: // D float64
      r.need(8);
      r.pos += 8;
      return v.getFloat64(r.pos - 8);
    case 0x53: // S string
      return readString(r);
    case 0x48: {
      // H high-precision number, as a decimal string
      const s = readString(r);
      const n = Number(s);
      if (Number.isNaN(n)) throw new ModelFormatError(`UBJSON: bad high-precision number ${fileText(s)}`);
      return n;
    }
    case 0x43: // C char
      return String.fromCharCode(r.u8());
    default:
      throw new ModelFormatError(
        `UBJSON: unknown type marker 0x${marker.toString(16)} at offset ${r.pos - 1}`,
      );
  }
}

/** Reads the optional `$type` and `#count` after an opening bracket. type -1 = none; count -1 = none. */
function readHeader(r: Reader): { type: number; count: number } {
  let type = -1;
  let count = -1;
  r.need(1);
  if (r.bytes[r.pos] === 0x24) {
    r.pos++;
    type = r.u8();
    r.need(1);
    if (r.bytes[r.pos] !== 0x23)
      throw new ModelFormatError(`UBJSON: '$' type without '#' count at offset ${r.pos}`);
  }
  r.need(1);
  if (r.bytes[r.pos] === 0x23) {
    r.pos++;
    count = readLength(r);
    // Every element takes at least one byte (or its fixed size): a count beyond the remaining
    // bytes is a truncated (or hostile) file, refused before allocating anything.
    if (type === 0x5a || type === 0x54 || type === 0x46) {
      if (count > r.freeElements) {
        throw new ModelFormatError(
          `UBJSON: a container of ${count} null/true/false elements at offset ${r.pos} exceeds what a file of ${r.bytes.length} bytes may declare`,
        );
      }
      r.freeElements -= count;
    } else if (count * (type >= 0 ? (SIZE[type] ?? 1) : 1) > r.bytes.length - r.pos) {
      throw new TruncatedModelError(
        `UBJSON container of ${count} elements runs past the end of the file at offset ${r.pos} (truncated file?)`,
      );
    }
  }
  return { type, count };
}

function readArray(r: Reader): unknown {
  const { type, count } = readHeader(r);
  if (type >= 0 && SIZE[type] !== undefined && type !== 0x43) return readTypedArray(r, type, count);
  const out: unknown[] = [];
  if (count >= 0) {
    for (let i = 0; i < count; i++) out.push(readValue(r, type >= 0 ? type : r.u8()));
    return out;
  }
  for (;;) {
    const m = r.u8();
    if (m === 0x5d) return out; // ]
    if (m === 0x4e) continue; // no-op
    out.push(readValue(r, m));
  }
}

function readTypedArray(r: Reader, type: number, count: number): ArrayLike<number> {
  const size = SIZE[type] as number;
  r.need(count * size);
  const v = r.view;
  let p = r.pos;
  let out: Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array;
  switch (type) {
    case 0x55:
      out = r.bytes.slice(p, p + count);
      break;
    case 0x69:
      out = new Int8Array(r.bytes.buffer.slice(r.bytes.byteOffset + p, r.bytes.byteOffset + p + count));
      break;
    case 0x49:
      out = new Int16Array(count);
      for (let i = 0; i < count; i++, p += 2) out[i] = v.getInt16(p);
      break;
    case 0x6c:
      out = new Int32Array(count);
      for (let i = 0; i < count; i++, p += 4) out[i] = v.getInt32(p);
      break;
    case 0x4c:
      // int64 values become doubles (exact below 2^53: node ids, counts)
      out = new Float64Array(count);
      for (let i = 0; i < count; i++, p += 8) out[i] = Number(v.getBigInt64(p));
      break;
    case 0x64:
      out = new Float32Array(count);
      for (let i = 0; i < count; i++, p += 4) out[i] = v.getFloat32(p);
      break;
    default: // 0x44
      out = new Float64Array(count);
      for (let i = 0; i < count; i++, p += 8) out[i] = v.getFloat64(p);
  }
  r.pos += count * size;
  return out;
}

function readObject(r: Reader): Record<string, unknown> {
  const { type, count } = readHeader(r);
  const out = Object.create(null) as Record<string, unknown>;
  if (count >= 0) {
    for (let i = 0; i < count; i++) {
      const key = readString(r);
      out[key] = readValue(r, type >= 0 ? type : r.u8());
    }
    return out;
  }
  for (;;) {
    r.need(1);
    const m = r.bytes[r.pos] as number;
    if (m === 0x7d) {
      r.pos++;
      return out;
    }
    if (m === 0x4e) {
      r.pos++;
      continue;
    }
    const key = readString(r);
    out[key] = readValue(r, r.u8());
  }
}
