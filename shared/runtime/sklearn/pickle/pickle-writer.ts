// A small pickle encoder (protocol 4 opcodes, no memo) for the values unpickler.ts builds. grove
// never writes scikit-learn models for serving; this exists so tests can derive files in other
// scikit-learn / numpy layouts (renamed attributes, extra node fields, numpy._core module names)
// from real fixtures, and craft hostile pickles, byte for byte as Python would read them.
import { DType, NdArray } from './numpy-array.js';
import { PyGlobal, PyObject } from './py-values.js';

export interface WriteOptions {
  /** Module of numpy's array helpers: 'numpy.core' (numpy 1.x) or 'numpy._core' (numpy 2). */
  numpyCore?: 'numpy.core' | 'numpy._core';
  /**
   * Write arrays the way joblib.dump does: a NumpyArrayWrapper, then the raw bytes in the stream
   * (object arrays: a nested pickle). `alignment` adds joblib >= 1.2's padding byte + padding.
   */
  joblib?: { alignment: boolean };
}

export function writePickle(value: unknown, options: WriteOptions = {}): Uint8Array {
  const w = new Writer(options.numpyCore ?? 'numpy.core', options.joblib ?? null);
  w.bytes([0x80, 4]);
  w.value(value);
  w.bytes([0x2e]);
  return w.result();
}

class Writer {
  private chunks: Buffer[] = [];
  constructor(
    private readonly core: string,
    private readonly joblib: { alignment: boolean } | null,
  ) {}

  private length(): number {
    return this.chunks.reduce((n, c) => n + c.length, 0);
  }

  result(): Uint8Array {
    return new Uint8Array(Buffer.concat(this.chunks));
  }
  bytes(b: number[] | Uint8Array): void {
    this.chunks.push(Buffer.from(b as Uint8Array));
  }
  private u32(op: number, n: number): void {
    const b = Buffer.alloc(5);
    b[0] = op;
    b.writeUInt32LE(n, 1);
    this.chunks.push(b);
  }
  private global(module: string, name: string): void {
    this.chunks.push(Buffer.from(`c${module}\n${name}\n`, 'latin1'));
  }
  private str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u32(0x58, b.length);
    this.chunks.push(b);
  }
  private tuple(items: readonly unknown[]): void {
    this.bytes([0x28]);
    for (const it of items) this.value(it);
    this.bytes([0x74]);
  }

  value(v: unknown): void {
    if (v === null || v === undefined) {
      this.bytes([0x4e]);
      return;
    }
    if (v === true) {
      this.bytes([0x88]);
      return;
    }
    if (v === false) {
      this.bytes([0x89]);
      return;
    }
    if (typeof v === 'number') {
      if (Number.isInteger(v) && v >= -2147483648 && v <= 2147483647 && !Object.is(v, -0)) {
        const b = Buffer.alloc(5);
        b[0] = 0x4a;
        b.writeInt32LE(v, 1);
        this.bytes(b);
        return;
      }
      const b = Buffer.alloc(9);
      b[0] = 0x47;
      b.writeDoubleBE(v, 1);
      this.bytes(b);
      return;
    }
    if (typeof v === 'bigint') {
      const out: number[] = [];
      let x = v;
      for (;;) {
        out.push(Number(x & 0xffn));
        x >>= 8n;
        if (
          (x === 0n && (out[out.length - 1]! & 0x80) === 0) ||
          (x === -1n && (out[out.length - 1]! & 0x80) !== 0)
        )
          break;
      }
      this.bytes([0x8a, out.length, ...out]);
      return;
    }
    if (typeof v === 'string') {
      this.str(v);
      return;
    }
    if (v instanceof Uint8Array) {
      this.u32(0x42, v.length);
      this.bytes(v);
      return;
    }
    if (v instanceof PyGlobal) {
      this.global(v.module, v.name);
      return;
    }
    if (v instanceof DType) {
      this.dtype(v);
      return;
    }
    if (v instanceof NdArray) {
      this.ndarray(v);
      return;
    }
    if (v instanceof PyObject) {
      this.object(v);
      return;
    }
    if (Array.isArray(v)) {
      if (Object.isFrozen(v)) {
        this.tuple(v);
        return;
      }
      this.bytes([0x5d, 0x28]);
      for (const it of v) this.value(it);
      this.bytes([0x65]);
      return;
    }
    if (v instanceof Map) {
      this.bytes([0x7d, 0x28]);
      for (const [k, x] of v) {
        this.value(k);
        this.value(x);
      }
      this.bytes([0x75]);
      return;
    }
    if (v instanceof Set) {
      this.bytes([0x8f, 0x28]);
      for (const it of v) this.value(it);
      this.bytes([0x90]);
      return;
    }
    throw new Error(`cannot pickle ${typeof v}`);
  }

  private object(o: PyObject): void {
    this.global(o.cls.module, o.cls.name);
    if (o.args.length === 0 && !o.cls.name.startsWith('__')) {
      this.bytes([0x29, 0x81]); // EMPTY_TUPLE NEWOBJ
    } else {
      this.tuple(o.args);
      this.bytes([0x52]);
    }
    if (o.dict.size) {
      this.value(o.dict);
      this.bytes([0x62]);
    }
    if (o.state !== undefined) {
      this.value(o.state);
      this.bytes([0x62]);
    }
  }

  private dtype(d: DType): void {
    this.global('numpy', 'dtype');
    const spec = d.fields ? `V${d.itemsize}` : `${d.kind}${d.kind === 'U' ? d.itemsize / 4 : d.itemsize}`;
    this.tuple([spec, false, true]);
    this.bytes([0x52]);
    const order = d.kind === 'V' || d.kind === 'O' || d.itemsize === 1 ? '|' : d.littleEndian ? '<' : '>';
    const names = d.fields ? Object.freeze(d.fields.map((f) => f.name)) : null;
    const fields = d.fields
      ? new Map<unknown, unknown>(d.fields.map((f) => [f.name, Object.freeze([f.dtype, f.offset])]))
      : null;
    const elsize = d.fields || d.kind === 'U' || d.kind === 'S' ? d.itemsize : -1;
    this.tuple([3, order, null, names, fields, elsize, d.fields ? 1 : -1, d.fields ? 16 : 0]);
    this.bytes([0x62]);
  }

  private ndarray(a: NdArray): void {
    if (this.joblib) {
      this.wrappedArray(a, this.joblib.alignment);
      return;
    }
    this.global(`${this.core}.multiarray`, '_reconstruct');
    this.tuple([new PyGlobal('numpy', 'ndarray'), Object.freeze([0]), new Uint8Array([0x62])]);
    this.bytes([0x52]);
    this.tuple([1, Object.freeze([...a.shape]), a.dtype, false, a.objects ? [...a.objects] : a.raw]);
    this.bytes([0x62]);
  }

  /** joblib/numpy_pickle.py NumpyArrayWrapper.write_array. */
  private wrappedArray(a: NdArray, alignment: boolean): void {
    this.global('joblib.numpy_pickle', 'NumpyArrayWrapper');
    this.bytes([0x29, 0x81]);
    const state = new Map<unknown, unknown>([
      ['subclass', new PyGlobal('numpy', 'ndarray')],
      ['shape', Object.freeze([...a.shape])],
      ['order', 'C'],
      ['dtype', a.dtype],
      ['allow_mmap', !a.objects],
    ]);
    if (alignment) state.set('numpy_array_alignment_bytes', 16);
    this.value(state);
    this.bytes([0x62]);
    if (a.objects) {
      // Object arrays: pickle.dump(array, file) right after the wrapper.
      const inner = new Writer(this.core, null);
      inner.bytes([0x80, 2]);
      inner.value(a);
      inner.bytes([0x2e]);
      this.bytes(inner.result());
      return;
    }
    if (alignment) {
      const pad = 16 - ((this.length() + 1) % 16);
      this.bytes([pad, ...new Array<number>(pad).fill(0xff)]);
    }
    this.bytes(a.raw!);
  }
}
