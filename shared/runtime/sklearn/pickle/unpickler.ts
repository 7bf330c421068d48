// A pickle virtual machine (protocols 0 to 5, Lib/pickle.py's opcodes) that builds plain data and
// executes nothing: globals are resolved through the allowlist (allowlist.ts), which refuses
// anything it does not know before a single object is made, and "calls" only rebuild data.
// joblib files interleave raw numpy array bytes with the pickle stream (after the BUILD of each
// NumpyArrayWrapper, joblib/numpy_pickle.py `NumpyArrayWrapper.read_array`); `joblib: true`
// reads them in place, the way joblib's NumpyUnpickler does.
import {
  ModelFormatError,
  TruncatedModelError,
  UnsafePickleError,
  UnsupportedModelError,
} from '../../../errors/grove-error.js';
import { callGlobal, isAllowedClass, resolveGlobal } from './allowlist.js';
import { DType, NdArray } from './numpy-array.js';
import { asNumber, describe, isDict, PyGlobal, PyObject, tuple } from './py-values.js';

const MAX_MEMO = 1 << 26;

export interface UnpickleOptions {
  /** Read NumpyArrayWrapper array bytes from the stream (joblib.dump files). */
  joblib?: boolean;
}

export function unpickle(data: Uint8Array, options: UnpickleOptions = {}): unknown {
  return new Unpickler(data, 0, options).load();
}

class Unpickler {
  private stack: unknown[] = [];
  private readonly marks: number[] = [];
  /** Memo entries by index (MEMOIZE numbers them densely from 0; BINPUT may skip). */
  private readonly memo: unknown[] = [];
  private memoSize = 0;
  private readonly view: DataView;
  /** The same bytes as a Buffer: its native UTF-8 decoding is much faster than TextDecoder for
   *  the many short strings of a pickle (a 1M-word vocabulary is 1M of them). */
  private readonly buf: Buffer;

  private readonly data: Uint8Array;

  constructor(
    bytes: Uint8Array,
    public pos: number,
    private readonly options: UnpickleOptions,
  ) {
    // A plain Uint8Array view (a Buffer's subarray would build a Buffer object per string).
    this.data = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  load(): unknown {
    for (;;) {
      const op = this.u8();
      switch (op) {
        case 0x80: // PROTO
          if (this.u8() > 5) throw new ModelFormatError('pickle protocol is newer than 5');
          break;
        case 0x95: // FRAME: frames only group opcodes; reading linearly needs no buffering.
          this.advance(8);
          break;
        case 0x2e: // STOP
          return this.pop();
        // ---- marks and stack ----
        case 0x28: // MARK
          this.marks.push(this.stack.length);
          break;
        case 0x30: // POP
          if (this.marks.length && this.marks[this.marks.length - 1] === this.stack.length) this.marks.pop();
          else this.pop();
          break;
        case 0x31: // POP_MARK
          this.popMark();
          break;
        case 0x32: // DUP
          this.stack.push(this.top());
          break;
        // ---- memo ----
        case 0x94: // MEMOIZE
          this.put(this.memoSize, this.top());
          break;
        case 0x71: // BINPUT
          this.put(this.u8(), this.top());
          break;
        case 0x72: // LONG_BINPUT
          this.put(this.u32(), this.top());
          break;
        case 0x70: // PUT
          this.put(Number(this.line()), this.top());
          break;
        case 0x68: // BINGET
          this.stack.push(this.get(this.u8()));
          break;
        case 0x6a: // LONG_BINGET
          this.stack.push(this.get(this.u32()));
          break;
        case 0x67: // GET
          this.stack.push(this.get(Number(this.line())));
          break;
        // ---- scalars ----
        case 0x4e: // NONE
          this.stack.push(null);
          break;
        case 0x88: // NEWTRUE
          this.stack.push(true);
          break;
        case 0x89: // NEWFALSE
          this.stack.push(false);
          break;
        case 0x4b: // BININT1
          this.stack.push(this.u8());
          break;
        case 0x4d: // BININT2
          this.stack.push(this.take(2)[0]! | (this.data[this.pos - 1]! << 8));
          break;
        case 0x4a: // BININT
          this.stack.push(this.view.getInt32(this.advance(4), true));
          break;
        case 0x8a: // LONG1
          this.stack.push(this.long(this.u8()));
          break;
        case 0x8b: // LONG4
          this.stack.push(this.long(this.len32()));
          break;
        case 0x49: {
          // INT (protocol 0): "00"/"01" are False/True.
          const s = this.line();
          this.stack.push(s === '00' ? false : s === '01' ? true : intFromText(s));
          break;
        }
        case 0x4c: // LONG (protocol 0)
          this.stack.push(intFromText(this.line().replace(/L$/, '')));
          break;
        case 0x47: // BINFLOAT (big-endian)
          this.stack.push(this.view.getFloat64(this.advance(8), false));
          break;
        case 0x46: // FLOAT
          this.stack.push(Number.parseFloat(this.line()));
          break;
        // ---- strings and bytes ----
        case 0x8c: // SHORT_BINUNICODE
          this.stack.push(this.text(this.u8()));
          break;
        case 0x58: // BINUNICODE
          this.stack.push(this.text(this.len32()));
          break;
        case 0x8d: // BINUNICODE8
          this.stack.push(this.text(this.len64()));
          break;
        case 0x56: // UNICODE (raw-unicode-escape line)
          this.stack.push(
            this.line().replace(/\\u([0-9a-fA-F]{4})/g, (_m, h: string) =>
              String.fromCharCode(Number.parseInt(h, 16)),
            ),
          );
          break;
        case 0x43: // SHORT_BINBYTES
          this.stack.push(this.take(this.u8()).slice());
          break;
        case 0x42: // BINBYTES
          this.stack.push(this.take(this.len32()).slice());
          break;
        case 0x8e: // BINBYTES8
        case 0x96: // BYTEARRAY8
          this.stack.push(this.take(this.len64()).slice());
          break;
        case 0x55: // SHORT_BINSTRING (Python 2 str)
          this.stack.push(Buffer.from(this.take(this.u8())).toString('latin1'));
          break;
        case 0x54: // BINSTRING
          this.stack.push(Buffer.from(this.take(this.len32())).toString('latin1'));
          break;
        case 0x53: // STRING (quoted repr)
          this.stack.push(unquote(this.line()));
          break;
        case 0x97: // NEXT_BUFFER
          throw new UnsupportedModelError(
            'pickle uses out-of-band buffers (NEXT_BUFFER), which a file cannot carry',
          );
        case 0x98: // READONLY_BUFFER
          break;
        // ---- containers ----
        case 0x29: // EMPTY_TUPLE
          this.stack.push(tuple([]));
          break;
        case 0x85: // TUPLE1
          this.stack.push(tuple([this.pop()]));
          break;
        case 0x86: {
          // TUPLE2
          const b = this.pop();
          this.stack.push(tuple([this.pop(), b]));
          break;
        }
        case 0x87: {
          // TUPLE3
          const c = this.pop();
          const b = this.pop();
          this.stack.push(tuple([this.pop(), b, c]));
          break;
        }
        case 0x74: // TUPLE
          this.stack.push(tuple(this.popMark()));
          break;
        case 0x5d: // EMPTY_LIST
          this.stack.push([]);
          break;
        case 0x6c: // LIST
          this.stack.push(this.popMark());
          break;
        case 0x61: {
          // APPEND
          const v = this.pop();
          this.list(this.top()).push(v);
          break;
        }
        case 0x65: {
          // APPENDS
          const items = this.popMark();
          const l = this.list(this.top());
          for (const v of items) l.push(v);
          break;
        }
        case 0x7d: // EMPTY_DICT
          this.stack.push(new Map());
          break;
        case 0x64: {
          // DICT
          const items = this.popMark();
          const d = new Map<unknown, unknown>();
          for (let i = 0; i + 1 < items.length; i += 2) d.set(key(items[i]), items[i + 1]);
          this.stack.push(d);
          break;
        }
        case 0x73: {
          // SETITEM
          const v = this.pop();
          const k = this.pop();
          this.dict(this.top()).set(key(k), v);
          break;
        }
        case 0x75: {
          // SETITEMS
          const items = this.popMark();
          const d = this.dict(this.top());
          for (let i = 0; i + 1 < items.length; i += 2) d.set(key(items[i]), items[i + 1]);
          break;
        }
        case 0x8f: // EMPTY_SET
          this.stack.push(new Set());
          break;
        case 0x90: {
          // ADDITEMS
          const items = this.popMark();
          const s = this.top();
          if (!(s instanceof Set)) throw new ModelFormatError('pickle ADDITEMS on a non-set');
          for (const v of items) s.add(key(v));
          break;
        }
        case 0x91: // FROZENSET
          this.stack.push(new Set(this.popMark().map(key)));
          break;
        // ---- globals and objects: everything goes through the allowlist ----
        case 0x63: {
          // GLOBAL "module\nname\n"
          const module = this.line();
          const name = this.line();
          this.stack.push(resolveGlobal(module, name));
          break;
        }
        case 0x93: {
          // STACK_GLOBAL
          const name = this.pop();
          const module = this.pop();
          if (typeof name !== 'string' || typeof module !== 'string') {
            throw new ModelFormatError('pickle STACK_GLOBAL needs two strings');
          }
          this.stack.push(resolveGlobal(module, name));
          break;
        }
        case 0x82: // EXT1
        case 0x83: // EXT2
        case 0x84: {
          // EXT4: copyreg's extension registry could name any global.
          const code =
            op === 0x82
              ? this.u8()
              : op === 0x83
                ? this.take(2)[0]! | (this.data[this.pos - 1]! << 8)
                : this.u32();
          throw new UnsafePickleError(`copyreg extension code ${code}`);
        }
        case 0x50: // PERSID
        case 0x51: // BINPERSID
          throw new UnsafePickleError('a persistent id (PERSID/BINPERSID)');
        case 0x52: {
          // REDUCE
          const args = this.pop();
          const fn = this.pop();
          this.stack.push(callGlobal(fn, this.args(args)));
          break;
        }
        case 0x81: {
          // NEWOBJ: cls.__new__(cls, *args)
          const args = this.pop();
          const cls = this.pop();
          this.stack.push(this.newObject(cls, this.args(args)));
          break;
        }
        case 0x92: {
          // NEWOBJ_EX: cls.__new__(cls, *args, **kwargs)
          this.pop();
          const args = this.pop();
          const cls = this.pop();
          this.stack.push(this.newObject(cls, this.args(args)));
          break;
        }
        case 0x6f: {
          // OBJ: MARK cls args... OBJ
          const items = this.popMark();
          this.stack.push(this.newObject(items[0], items.slice(1)));
          break;
        }
        case 0x69: {
          // INST "module\nname\n": MARK args... INST
          const cls = resolveGlobal(this.line(), this.line());
          this.stack.push(this.newObject(cls, this.popMark()));
          break;
        }
        case 0x62: // BUILD
          this.build(this.pop(), this.top());
          break;
        default:
          throw new ModelFormatError(
            `pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${this.pos - 1} is not valid`,
          );
      }
    }
  }

  private newObject(cls: unknown, args: readonly unknown[]): unknown {
    if (!isAllowedClass(cls))
      throw new UnsafePickleError(
        cls instanceof PyGlobal ? cls.fullName : `instantiation of ${describe(cls)}`,
      );
    return callGlobal(cls, args);
  }

  private build(state: unknown, obj: unknown): void {
    if (obj instanceof NdArray) {
      obj.setState(state);
    } else if (obj instanceof DType) {
      obj.setState(state);
    } else if (obj instanceof PyObject) {
      // `obj.__setstate__(state)` or `obj.__dict__.update(state)`; (dict, slots) pairs merge both.
      const parts =
        Array.isArray(state) &&
        state.length === 2 &&
        (isDict(state[0]) || state[0] === null) &&
        isDict(state[1])
          ? state
          : [state];
      for (const p of parts) {
        if (isDict(p)) for (const [k, v] of p) obj.dict.set(k, v);
        else if (p !== null) obj.state = p;
      }
      if (obj.className === 'joblib.numpy_pickle.NumpyArrayWrapper') {
        if (!this.options.joblib)
          throw new ModelFormatError('a joblib NumpyArrayWrapper outside a joblib file');
        this.stack[this.stack.length - 1] = this.readWrappedArray(obj);
      } else if (obj.className === 'joblib.numpy_pickle.NDArrayWrapper') {
        throw new UnsupportedModelError(
          'joblib file from joblib < 0.10 (arrays in separate .npy files) is not supported',
        );
      }
    } else {
      throw new ModelFormatError(`pickle BUILD on ${describe(obj)}`);
    }
  }

  /** joblib NumpyArrayWrapper.read_array: [padding length byte + padding] then the raw elements. */
  private readWrappedArray(w: PyObject): NdArray {
    const dtype = w.dict.get('dtype');
    if (!(dtype instanceof DType)) throw new ModelFormatError('joblib array wrapper has no dtype');
    const shape = this.args(w.dict.get('shape')).map((d) => asNumber(d, 'joblib array dimension'));
    if (dtype.hasObject) {
      // Object arrays are a nested pickle stream (pickle.load on the same file).
      const nested = new Unpickler(this.data, this.pos, this.options);
      const inner = nested.load();
      this.pos = nested.pos;
      if (!(inner instanceof NdArray))
        throw new ModelFormatError(`joblib object array is ${describe(inner)}`);
      return inner;
    }
    const alignment = w.dict.get('numpy_array_alignment_bytes');
    if (alignment !== undefined && alignment !== null) this.take(this.u8());
    const size = shape.reduce((a, b) => a * b, 1);
    const bytes = this.take(size * dtype.itemsize);
    return NdArray.fromBytes(dtype, shape, bytes, w.dict.get('order') === 'F');
  }

  // ---- helpers ----
  private args(v: unknown): readonly unknown[] {
    if (!Array.isArray(v))
      throw new ModelFormatError(`pickle call arguments are ${describe(v)}, not a tuple`);
    return v;
  }
  private list(v: unknown): unknown[] {
    if (!Array.isArray(v) || Object.isFrozen(v))
      throw new ModelFormatError(`pickle APPEND on ${describe(v)}`);
    return v;
  }
  private dict(v: unknown): Map<unknown, unknown> {
    if (!isDict(v)) throw new ModelFormatError(`pickle SETITEM on ${describe(v)}`);
    return v;
  }
  private put(i: number, v: unknown): void {
    if (i > MAX_MEMO) throw new ModelFormatError('pickle memo index is out of range');
    // MEMOIZE numbers entries by how many are stored, as pickle.py's len(memo).
    if (i >= this.memo.length || !(i in this.memo)) this.memoSize++;
    this.memo[i] = v;
  }
  private get(i: number): unknown {
    if (i >= this.memo.length || !(i in this.memo)) {
      throw new ModelFormatError(`pickle refers to memo entry ${i}, which was never stored`);
    }
    return this.memo[i];
  }
  private pop(): unknown {
    const floor = this.marks.length ? this.marks[this.marks.length - 1]! : 0;
    if (this.stack.length <= floor) throw new ModelFormatError('pickle stack underflow');
    return this.stack.pop();
  }
  private top(): unknown {
    if (!this.stack.length) throw new ModelFormatError('pickle stack underflow');
    return this.stack[this.stack.length - 1];
  }
  private popMark(): unknown[] {
    const m = this.marks.pop();
    if (m === undefined) throw new ModelFormatError('pickle has no MARK to pop to');
    return this.stack.splice(m);
  }
  private advance(n: number): number {
    if (this.pos + n > this.data.length)
      throw new TruncatedModelError('pickle stream ends early (truncated file?)');
    const at = this.pos;
    this.pos += n;
    return at;
  }
  private take(n: number): Uint8Array {
    const at = this.advance(n);
    return this.data.subarray(at, at + n);
  }
  private text(n: number): string {
    const at = this.advance(n);
    return this.buf.toString('utf8', at, at + n);
  }
  private u8(): number {
    return this.data[this.advance(1)]!;
  }
  private u32(): number {
    return this.view.getUint32(this.advance(4), true);
  }
  private len32(): number {
    return this.u32();
  }
  private len64(): number {
    const at = this.advance(8);
    const n = this.view.getUint32(at, true) + this.view.getUint32(at + 4, true) * 4294967296;
    if (n > this.data.length - this.pos)
      throw new TruncatedModelError('pickle stream ends early (truncated file?)');
    return n;
  }
  private long(n: number): number | bigint {
    const b = this.take(n);
    if (n === 0) return 0;
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (b[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  private line(): string {
    const end = this.data.indexOf(0x0a, this.pos);
    if (end < 0) throw new TruncatedModelError('pickle stream ends early (truncated file?)');
    const s = Buffer.from(this.data.subarray(this.pos, end)).toString('latin1');
    this.pos = end + 1;
    return s;
  }
}

/** Dict/set keys: tuples become their JSON text so equal tuples are equal keys. */
function key(k: unknown): unknown {
  if (!Array.isArray(k)) return k;
  try {
    return JSON.stringify(k, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  } catch {
    return k; // cyclic or exotic tuples stay keyed by identity
  }
}

function intFromText(s: string): number | bigint {
  if (!/^[-+]?\d+$/.test(s.trim())) throw new ModelFormatError(`pickle integer '${s}' is not valid`);
  const v = BigInt(s.trim());
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function unquote(s: string): string {
  const q = s[0];
  if ((q !== "'" && q !== '"') || s[s.length - 1] !== q)
    throw new ModelFormatError('pickle STRING is not quoted');
  return s.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_m, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(Number.parseInt(e.slice(1), 16));
    return ({ n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' } as Record<string, string>)[e] ?? e;
  });
}
