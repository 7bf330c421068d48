// numpy arrays and dtypes as pickles describe them, rebuilt as plain data (never via numpy code):
// - `numpy.dtype(spec, align, copy)` + BUILD state `(version, byteorder, subarray, names, fields,
//   elsize, alignment, flags[, metadata])` (numpy/core/src/multiarray/descriptor.c, arraydescr_reduce);
// - `numpy.core.multiarray._reconstruct(ndarray, (0,), b'b')` + BUILD state
//   `(version, shape, dtype, is_fortran, rawdata)` (protocols <= 4; rawdata is a list for object arrays);
// - `numpy.core.numeric._frombuffer(buffer, dtype, shape, order)` (protocol 5, in-band buffers);
// - `numpy.core.multiarray.scalar(dtype, bytes)` for numpy scalars.
// numpy 2 moved numpy.core to numpy._core; both spellings are accepted by the allowlist.
// Element bytes are kept as they came (any byte order) and decoded on access into typed arrays.
// Hostile input: shapes are checked (non-negative integers, at most LIMITS.arrayElements elements)
// and every element counts as at least one byte against the data present, so a zero-sized dtype
// ('U0', 'V0') cannot declare more elements than its bytes.
import { fileText } from '../../../errors/file-text.js';
import { ModelFormatError, TruncatedModelError } from '../../../errors/grove-error.js';
import { declaredCount, LIMITS } from '../../limits.js';
import { asArray, asNumber, describe, isDict } from './py-values.js';

/** Bytes one element may take (a 'U' string of 2^20 code points): more is not a model. */
const MAX_ITEMSIZE = 1 << 22;

/** A shape read from a pickle: non-negative integer dimensions, at most LIMITS.arrayElements in all. */
export function arrayShape(v: unknown, what: string): number[] {
  const dims = asArray(v, what);
  if (dims.length > 32) throw new ModelFormatError(`${what} has ${dims.length} dimensions (numpy allows 32)`);
  const shape = dims.map((d) =>
    declaredCount(asNumber(d, `${what} dimension`), LIMITS.arrayElements, `${what} dimension`),
  );
  let size = 1;
  for (const d of shape) size *= d;
  if (size > LIMITS.arrayElements)
    throw new ModelFormatError(`${what} holds ${size} elements; grove's limit is ${LIMITS.arrayElements}`);
  return shape;
}

export interface DTypeField {
  name: string;
  dtype: DType;
  offset: number;
}

/** A numpy dtype: kind letter ('f','i','u','b','O','V','U','S'), item size, byte order, fields. */
export class DType {
  littleEndian: boolean;
  fields: DTypeField[] | null = null;
  constructor(
    public kind: string,
    public itemsize: number,
    byteOrder = '<',
  ) {
    this.littleEndian = byteOrder !== '>';
  }

  /** `numpy.dtype('f8')`, `'<i4'`, `'V56'`, `'O8'`, `'U5'`. */
  static fromSpec(spec: string): DType {
    const m = /^([<>|=]?)([a-zA-Z])(\d{0,8})$/.exec(spec);
    if (!m) throw new ModelFormatError(`numpy dtype ${fileText(spec)} is not supported`);
    const kind = m[2]!;
    let size = m[3] ? Number(m[3]) : 0;
    if (size > MAX_ITEMSIZE / 4) throw new ModelFormatError(`numpy dtype of ${size}-unit elements`);
    if (kind === 'O') size = 8;
    if (kind === 'U') size *= 4;
    if (!m[3] && kind !== 'O') size = kind === 'b' || kind === '?' ? 1 : 8;
    return new DType(kind === '?' ? 'b' : kind, size, m[1] === '>' ? '>' : '<');
  }

  /** Applies the BUILD state of a pickled dtype (byte order, structured fields, element size). */
  setState(state: unknown): void {
    const s = asArray(state, 'numpy dtype state');
    if (typeof s[1] === 'string') this.littleEndian = s[1] !== '>';
    const names = s[3];
    const fields = s[4];
    if (Array.isArray(names) && isDict(fields)) {
      this.fields = names.map((n) => {
        const f = asArray(fields.get(n), `numpy field ${fileText(n)}`);
        const dt = f[0];
        if (!(dt instanceof DType)) throw new ModelFormatError(`numpy field ${fileText(n)} has no dtype`);
        const offset = declaredCount(
          asNumber(f[1], 'numpy field offset'),
          MAX_ITEMSIZE,
          'numpy field offset',
        );
        return { name: String(n), dtype: dt, offset };
      });
    }
    const elsize = s[5];
    if (
      typeof elsize === 'number' &&
      elsize > 0 &&
      (this.kind === 'V' || this.kind === 'U' || this.kind === 'S')
    ) {
      this.itemsize = declaredCount(elsize, MAX_ITEMSIZE, 'numpy dtype element size');
    }
    // A field must lie inside its record: reads are record offset + field offset.
    for (const f of this.fields ?? []) {
      if (f.offset + f.dtype.itemsize > this.itemsize)
        throw new ModelFormatError(
          `numpy field ${fileText(f.name)} runs past its ${this.itemsize}-byte record`,
        );
    }
  }

  field(name: string): DTypeField | undefined {
    return this.fields?.find((f) => f.name === name);
  }

  get hasObject(): boolean {
    return this.kind === 'O';
  }

  toString(): string {
    if (this.fields) return `[${this.fields.map((f) => `${f.name}:${f.dtype}`).join(', ')}]`;
    return `${this.littleEndian ? '<' : '>'}${this.kind}${this.itemsize}`;
  }
}

/** An n-dimensional array in C order: raw element bytes, or a list for object arrays. Mutable only
 *  while unpickling (`_reconstruct` makes an empty array that its BUILD state fills in place, so
 *  memo references see the filled array, as in Python). */
export class NdArray {
  constructor(
    public dtype: DType,
    public shape: readonly number[],
    /** Element bytes in C order (null for object arrays). */
    public raw: Uint8Array | null,
    /** Elements of object arrays (C order). */
    public objects: readonly unknown[] | null,
  ) {}

  /** What `_reconstruct(ndarray, (0,), b'b')` returns: an empty array awaiting its state. */
  static placeholder(): NdArray {
    return new NdArray(new DType('b', 1), [0], new Uint8Array(0), null);
  }

  /** `ndarray.__setstate__((version, shape, dtype, is_fortran, rawdata))`. */
  setState(state: unknown): void {
    const s = asArray(state, 'numpy array state');
    // Version-less 4-tuples come from old numpy.
    const [shapeV, dtypeV, fortranV, data] = s.length >= 5 ? s.slice(1) : s;
    const shape = arrayShape(shapeV, 'numpy array shape');
    if (!(dtypeV instanceof DType))
      throw new ModelFormatError(`numpy array state has no dtype (${describe(dtypeV)})`);
    const fortran = fortranV === true || fortranV === 1;
    let filled: NdArray;
    if (dtypeV.hasObject) {
      const objects = asArray(data, 'numpy object array data');
      if (objects.length !== shape.reduce((a, b) => a * b, 1))
        throw new ModelFormatError(`numpy object array of shape (${shape}) holds ${objects.length} elements`);
      filled = new NdArray(dtypeV, shape, null, objects);
    } else if (data instanceof Uint8Array) {
      filled = NdArray.fromBytes(dtypeV, shape, data, fortran);
    } else if (typeof data === 'string') {
      // Python 2 pickles: raw data as a latin-1 str.
      filled = NdArray.fromBytes(dtypeV, shape, Buffer.from(data, 'latin1'), fortran);
    } else {
      throw new ModelFormatError(`numpy array data is ${describe(data)}, expected bytes`);
    }
    this.dtype = filled.dtype;
    this.shape = filled.shape;
    this.raw = filled.raw;
    this.objects = filled.objects;
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** Builds an array from its raw bytes in C or Fortran order. */
  static fromBytes(dtype: DType, shape: readonly number[], bytes: Uint8Array, fortran: boolean): NdArray {
    const size = shape.reduce((a, b) => a * b, 1);
    const need = size * dtype.itemsize;
    if (bytes.length < need) {
      throw new TruncatedModelError(`numpy array data is truncated: ${bytes.length} bytes for ${need}`);
    }
    // Zero-sized elements ('U0', 'S0', 'V0') take no bytes: each still counts as one, so an array
    // can never declare more elements than the bytes that came with it.
    if (dtype.itemsize === 0 && size > bytes.length)
      throw new ModelFormatError(`numpy array of ${size} zero-sized elements (dtype kind '${dtype.kind}')`);
    let raw = bytes.subarray(0, need);
    if (fortran && shape.length > 1) raw = fortranToC(raw, shape, dtype.itemsize);
    return new NdArray(dtype, shape, raw, null);
  }

  /** Every element (or one field of a structured dtype) as doubles. */
  toFloat64(fieldName?: string): Float64Array {
    const n = this.size;
    const out = new Float64Array(n);
    if (this.objects) {
      for (let i = 0; i < n; i++) out[i] = asNumber(this.objects[i], 'numpy object element');
      return out;
    }
    let dt = this.dtype;
    let offset = 0;
    if (fieldName !== undefined) {
      const f = dt.field(fieldName);
      if (!f) throw new ModelFormatError(`numpy record has no field '${fieldName}'`);
      dt = f.dtype;
      offset = f.offset;
    }
    const raw = this.raw!;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const step = this.dtype.itemsize;
    readNumbers(out, view, step, offset, dt);
    return out;
  }

  /** Elements as JS values: numbers for numeric arrays, strings for 'U'/'S', the objects otherwise. */
  toList(): unknown[] {
    if (this.objects) return [...this.objects];
    const k = this.dtype.kind;
    if (k === 'U' || k === 'S') {
      const out: string[] = [];
      const raw = this.raw!;
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const sz = this.dtype.itemsize;
      for (let i = 0; i < this.size; i++) {
        let s = '';
        if (k === 'U') {
          for (let j = 0; j < sz; j += 4) {
            const cp = view.getUint32(i * sz + j, this.dtype.littleEndian);
            if (cp === 0) break;
            if (cp > 0x10ffff) throw new ModelFormatError(`numpy 'U' array holds code point ${cp}`);
            s += String.fromCodePoint(cp);
          }
        } else {
          const bytes = raw.subarray(i * sz, (i + 1) * sz);
          const end = bytes.indexOf(0);
          s = Buffer.from(end < 0 ? bytes : bytes.subarray(0, end)).toString('latin1');
        }
        out.push(s);
      }
      return out;
    }
    if (k === 'b') return [...this.toFloat64()].map((v) => v !== 0);
    return [...this.toFloat64()];
  }
}

/**
 * out[i] = element i (at i * step + offset) as a double. The common dtypes get a loop of their
 * own: one reader closure called per element (a different one per field) made V8's call site
 * megamorphic, and tree fields (7 per sklearn tree) were a large part of a forest's load.
 */
function readNumbers(out: Float64Array, v: DataView, step: number, offset: number, dt: DType): void {
  const n = out.length;
  const le = dt.littleEndian;
  const k = dt.kind;
  const s = dt.itemsize;
  if (k === 'f' && s === 8)
    for (let i = 0, at = offset; i < n; i++, at += step) out[i] = v.getFloat64(at, le);
  else if (k === 'f' && s === 4)
    for (let i = 0, at = offset; i < n; i++, at += step) out[i] = v.getFloat32(at, le);
  else if (k === 'i' && s === 8) {
    const lo = le ? 0 : 4;
    const hi = le ? 4 : 0;
    for (let i = 0, at = offset; i < n; i++, at += step)
      out[i] = v.getInt32(at + hi, le) * 4294967296 + v.getUint32(at + lo, le);
  } else if (k === 'i' && s === 4)
    for (let i = 0, at = offset; i < n; i++, at += step) out[i] = v.getInt32(at, le);
  else if (k === 'u' && s === 4)
    for (let i = 0, at = offset; i < n; i++, at += step) out[i] = v.getUint32(at, le);
  else if ((k === 'u' || k === 'b') && s === 1)
    for (let i = 0, at = offset; i < n; i++, at += step) out[i] = v.getUint8(at);
  else {
    const read = reader(dt);
    for (let i = 0, at = offset; i < n; i++, at += step) out[i] = read(v, at, le);
  }
}

type Reader = (v: DataView, at: number, le: boolean) => number;

function reader(dt: DType): Reader {
  const k = dt.kind;
  const s = dt.itemsize;
  if (k === 'f' && s === 8) return (v, at, le) => v.getFloat64(at, le);
  if (k === 'f' && s === 4) return (v, at, le) => v.getFloat32(at, le);
  if (k === 'f' && s === 2) return (v, at, le) => halfToFloat(v.getUint16(at, le));
  if ((k === 'i' || k === 'u') && s === 8) {
    const signed = k === 'i';
    return (v, at, le) => {
      const lo = v.getUint32(at + (le ? 0 : 4), le);
      const hi = signed ? v.getInt32(at + (le ? 4 : 0), le) : v.getUint32(at + (le ? 4 : 0), le);
      return hi * 4294967296 + lo;
    };
  }
  if (k === 'i' && s === 4) return (v, at, le) => v.getInt32(at, le);
  if (k === 'u' && s === 4) return (v, at, le) => v.getUint32(at, le);
  if (k === 'i' && s === 2) return (v, at, le) => v.getInt16(at, le);
  if (k === 'u' && s === 2) return (v, at, le) => v.getUint16(at, le);
  if (k === 'i' && s === 1) return (v, at) => v.getInt8(at);
  if ((k === 'u' || k === 'b') && s === 1) return (v, at) => v.getUint8(at);
  throw new ModelFormatError(`numpy dtype '${k}' of ${s} bytes cannot be read as numbers`);
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

function fortranToC(raw: Uint8Array, shape: readonly number[], itemsize: number): Uint8Array {
  const out = new Uint8Array(raw.length);
  const nd = shape.length;
  const fStride: number[] = new Array(nd);
  let acc = 1;
  for (let d = 0; d < nd; d++) {
    fStride[d] = acc;
    acc *= shape[d]!;
  }
  const idx = new Array<number>(nd).fill(0);
  for (let c = 0; c < acc; c++) {
    let f = 0;
    for (let d = 0; d < nd; d++) f += idx[d]! * fStride[d]!;
    out.set(raw.subarray(f * itemsize, (f + 1) * itemsize), c * itemsize);
    for (let d = nd - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** `numpy.core.numeric._frombuffer(buf, dtype, shape, order)`. */
export function fromBuffer(args: readonly unknown[]): NdArray {
  const [buf, dtype, shapeV, order] = args;
  if (!(buf instanceof Uint8Array))
    throw new ModelFormatError(`numpy _frombuffer needs bytes, got ${describe(buf)}`);
  if (!(dtype instanceof DType))
    throw new ModelFormatError(`numpy _frombuffer needs a dtype, got ${describe(dtype)}`);
  return NdArray.fromBytes(dtype, arrayShape(shapeV, 'numpy array shape'), buf, order === 'F');
}

/** `numpy.core.multiarray.scalar(dtype, bytes)`: a numpy scalar as a JS number (or the object). */
export function scalar(args: readonly unknown[]): unknown {
  const [dtype, data] = args;
  if (!(dtype instanceof DType))
    throw new ModelFormatError(`numpy scalar needs a dtype, got ${describe(dtype)}`);
  if (dtype.hasObject) return data;
  const bytes =
    data instanceof Uint8Array ? data : typeof data === 'string' ? Buffer.from(data, 'latin1') : null;
  if (!bytes) throw new ModelFormatError(`numpy scalar data is ${describe(data)}`);
  const arr = NdArray.fromBytes(dtype, [], bytes, false);
  return arr.toList()[0];
}
