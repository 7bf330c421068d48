// The protobuf wire format (protobuf.dev/programming-guides/encoding), as much of it as the Open
// Inference Protocol's messages use: varints (int32/int64/uint32/uint64/bool), fixed 32/64-bit
// (float/double), length-delimited fields (strings, bytes, nested messages, packed repeated
// scalars). grove reads and writes its gRPC messages with this rather than a generated codec: the
// hot path decodes tensor values straight from the wire and writes an answer with one allocation.
// Every length is checked against the message before it is used; a malformed message throws
// GROVE_ERR_BAD_PROTOBUF and never reads outside its buffer.
import { BadInputError } from '../../errors/grove-error.js';

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

function bad(msg: string): never {
  throw new BadInputError(`malformed protobuf: ${msg}`, 'GROVE_ERR_BAD_PROTOBUF');
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Reads one message (or a slice of one: a nested message, a packed field). */
export class ProtoReader {
  pos: number;
  /** Low and high 32 bits of the last varint read. */
  private lo = 0;
  private hi = 0;
  private view: DataView | null = null;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  /** The next field's key: field number * 8 + wire type. */
  key(): number {
    this.varint();
    if (this.hi !== 0 || this.lo >>> 3 === 0) bad('bad field key');
    return this.lo >>> 0;
  }

  private varint(): void {
    const b = this.buf;
    let lo = 0;
    let hi = 0;
    let i = 0;
    for (; i < 4; i++) {
      if (this.pos >= this.end) bad('varint runs past the end');
      const x = b[this.pos++]!;
      lo |= (x & 0x7f) << (7 * i);
      if (x < 0x80) {
        this.lo = lo >>> 0;
        this.hi = 0;
        return;
      }
    }
    // Byte 5 straddles the two halves: 4 bits to lo, 3 to hi.
    if (this.pos >= this.end) bad('varint runs past the end');
    let x = b[this.pos++]!;
    lo |= (x & 0x0f) << 28;
    hi = (x & 0x7f) >> 4;
    if (x >= 0x80) {
      for (i = 0; i < 5; i++) {
        if (this.pos >= this.end) bad('varint runs past the end');
        x = b[this.pos++]!;
        hi |= (x & 0x7f) << (7 * i + 3);
        if (x < 0x80) break;
      }
      if (i === 5) bad('varint longer than 10 bytes');
    }
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  uint32(): number {
    this.varint();
    return this.lo;
  }

  int32(): number {
    this.varint();
    return this.lo | 0;
  }

  /** int64 as a double (exact up to 2^53; larger magnitudes round, and callers range-check). */
  int64(): number {
    this.varint();
    return (this.hi | 0) * 4294967296 + this.lo;
  }

  uint64(): number {
    this.varint();
    return this.hi * 4294967296 + this.lo;
  }

  bool(): boolean {
    this.varint();
    return this.lo !== 0 || this.hi !== 0;
  }

  /** A length-delimited field's extent; the reader moves past it. */
  span(): [number, number] {
    this.varint();
    const len = this.lo;
    if (this.hi !== 0 || len > this.end - this.pos) bad('length-delimited field runs past the end');
    const start = this.pos;
    this.pos += len;
    return [start, this.pos];
  }

  bytes(): Uint8Array {
    const [s, e] = this.span();
    return this.buf.subarray(s, e);
  }

  string(): string {
    const [s, e] = this.span();
    return s === e ? '' : utf8.decode(this.buf.subarray(s, e));
  }

  private dataView(): DataView {
    this.view ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    return this.view;
  }

  float(): number {
    if (this.end - this.pos < 4) bad('fixed32 runs past the end');
    const v = this.dataView().getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  double(): number {
    if (this.end - this.pos < 8) bad('fixed64 runs past the end');
    const v = this.dataView().getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** Skips a field of this wire type (unknown fields are ignored, as proto3 requires). */
  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_LEN) this.span();
    else if (wire === WIRE_FIXED64) {
      if (this.end - this.pos < 8) bad('fixed64 runs past the end');
      this.pos += 8;
    } else if (wire === WIRE_FIXED32) {
      if (this.end - this.pos < 4) bad('fixed32 runs past the end');
      this.pos += 4;
    } else bad(`wire type ${wire} is not supported`);
  }

  /** A reader over [start, end) of the same buffer (a nested message or a packed field). */
  sub(start: number, end: number): ProtoReader {
    const r = new ProtoReader(this.buf, start, end);
    r.view = this.view;
    return r;
  }
}

/** Bytes a varint of a non-negative integer (< 2^53) takes. */
export function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  let size = 4;
  n = Math.floor(n / 0x10000000);
  while (n > 0) {
    size++;
    n = Math.floor(n / 128);
  }
  return size;
}

/** Bytes an int64 varint takes (negative values take 10, as two's complement). */
export function int64Size(n: number): number {
  return n < 0 ? 10 : varintSize(n);
}

/**
 * Writes one message into a buffer sized in advance (writers compute the size first, so an answer
 * is one allocation and no copies).
 */
export class ProtoWriter {
  pos = 0;
  readonly buf: Buffer;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  varint(n: number): void {
    const b = this.buf;
    while (n >= 0x80) {
      b[this.pos++] = (n & 0x7f) | 0x80;
      n = n >= 0x80000000 ? Math.floor(n / 128) : n >>> 7;
    }
    b[this.pos++] = n;
  }

  int64(n: number): void {
    if (n >= 0) {
      this.varint(n);
      return;
    }
    // Two's complement over 64 bits, 10 bytes.
    let lo = n >>> 0;
    let hi = Math.floor(n / 4294967296) >>> 0;
    for (let i = 0; i < 9; i++) {
      this.buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = (lo >>> 7) | ((hi & 0x7f) << 25);
      hi >>>= 7;
    }
    this.buf[this.pos++] = lo & 0x01;
  }

  key(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  raw(bytes: Uint8Array): void {
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** A string field (tag, length, UTF-8); `len` is its UTF-8 byte length. */
  string(field: number, s: string, len: number): void {
    this.key(field, WIRE_LEN);
    this.varint(len);
    this.pos += this.buf.write(s, this.pos, len, 'utf8');
  }

  double(v: number): void {
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  finish(): Buffer {
    if (this.pos !== this.buf.length)
      throw new Error(`protobuf writer sized ${this.buf.length}, wrote ${this.pos}`);
    return this.buf;
  }
}

/** Size of a string field with its key (field numbers below 16 take a one-byte key). */
export function stringFieldSize(field: number, byteLength: number): number {
  return varintSize(field * 8) + varintSize(byteLength) + byteLength;
}
