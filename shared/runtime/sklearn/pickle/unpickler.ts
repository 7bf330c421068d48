// A pickle virtual machine (protocols 0 to 5, Lib/pickle.py's opcodes) that builds plain data and
// executes nothing: globals are resolved through the allowlist (allowlist.ts), which refuses
// anything it does not know before a single object is made, and "calls" only rebuild data
// (class-builders.ts makes and fills objects; pickle-bytes.ts reads the stream). The memo only
// holds what was put and dict/set keys are interned (dict-keys.ts), so the work stays linear in the stream.
import { ModelFormatError, UnsafePickleError, UnsupportedModelError } from '../../../errors/grove-error.js';
import { callGlobal, resolveGlobal } from './allowlist.js';
import { type BuildContext, build, newObject } from './class-builders.js';
import { DictKeys } from './dict-keys.js';
import { intFromText, PickleBytes, rawUnicode, unquote } from './pickle-bytes.js';
import { describe, isDict, tuple } from './py-values.js';

/** Memo indexes a pickle may use (pickle.py numbers them densely; BINPUT may skip). */
const MAX_MEMO = 1 << 26;

export interface UnpickleOptions {
  /** Read NumpyArrayWrapper array bytes from the stream (joblib.dump files). */
  joblib?: boolean;
}

export function unpickle(data: Uint8Array, options: UnpickleOptions = {}): unknown {
  return new Unpickler(new PickleBytes(data, 0), options, new DictKeys(), 1).load();
}

class Unpickler {
  private readonly stack: unknown[] = [];
  private readonly marks: number[] = [];
  // An array, not a Map (a Map's hashing was a tenth of a large pickle's load): pickle.py numbers
  // entries densely; an index far past the end (BINPUT may skip) turns V8's array into a
  // dictionary, which still stores only what was put, so memory and time stay linear.
  private readonly memo: unknown[] = [];
  private memoSize = 0;
  private readonly ctx: BuildContext;

  constructor(
    private readonly b: PickleBytes,
    options: UnpickleOptions,
    private readonly keys: DictKeys,
    depth: number,
  ) {
    this.ctx = {
      bytes: b,
      joblib: options.joblib === true,
      depth,
      loadNested: () => new Unpickler(b, options, keys, depth + 1).load(),
    };
  }

  load(): unknown {
    for (;;) {
      const r = this.b;
      const op = r.u8();
      switch (op) {
        case 0x80: // PROTO
          if (r.u8() > 5) throw new ModelFormatError('pickle protocol is newer than 5');
          break;
        case 0x95: // FRAME: frames only group opcodes; reading linearly needs no buffering.
          r.advance(8);
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
          this.put(this.memoSize, this.top()); // pickle.py: len(memo)
          break;
        case 0x71: // BINPUT
          this.put(r.u8(), this.top());
          break;
        case 0x72: // LONG_BINPUT
          this.put(r.u32(), this.top());
          break;
        case 0x70: // PUT
          this.put(Number(r.line()), this.top());
          break;
        case 0x68: // BINGET
          this.stack.push(this.get(r.u8()));
          break;
        case 0x6a: // LONG_BINGET
          this.stack.push(this.get(r.u32()));
          break;
        case 0x67: // GET
          this.stack.push(this.get(Number(r.line())));
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
          this.stack.push(r.u8());
          break;
        case 0x4d: // BININT2
          this.stack.push(r.u16());
          break;
        case 0x4a: // BININT
          this.stack.push(r.i32());
          break;
        case 0x8a: // LONG1
          this.stack.push(r.long(r.u8()));
          break;
        case 0x8b: // LONG4
          this.stack.push(r.long(r.u32()));
          break;
        case 0x49: {
          // INT (protocol 0): "00"/"01" are False/True.
          const s = r.line();
          this.stack.push(s === '00' ? false : s === '01' ? true : intFromText(s));
          break;
        }
        case 0x4c: // LONG (protocol 0)
          this.stack.push(intFromText(r.line().replace(/L$/, '')));
          break;
        case 0x47: // BINFLOAT (big-endian)
          this.stack.push(r.f64be());
          break;
        case 0x46: // FLOAT
          this.stack.push(Number.parseFloat(r.line()));
          break;
        // ---- strings and bytes ----
        case 0x8c: // SHORT_BINUNICODE
          this.stack.push(r.text(r.u8()));
          break;
        case 0x58: // BINUNICODE
          this.stack.push(r.text(r.u32()));
          break;
        case 0x8d: // BINUNICODE8
          this.stack.push(r.text(r.len64()));
          break;
        case 0x56: // UNICODE (raw-unicode-escape line)
          this.stack.push(rawUnicode(r.line()));
          break;
        case 0x43: // SHORT_BINBYTES
          this.stack.push(r.take(r.u8()).slice());
          break;
        case 0x42: // BINBYTES
          this.stack.push(r.take(r.u32()).slice());
          break;
        case 0x8e: // BINBYTES8
        case 0x96: // BYTEARRAY8
          this.stack.push(r.take(r.len64()).slice());
          break;
        case 0x55: // SHORT_BINSTRING (Python 2 str)
          this.stack.push(Buffer.from(r.take(r.u8())).toString('latin1'));
          break;
        case 0x54: // BINSTRING
          this.stack.push(Buffer.from(r.take(r.u32())).toString('latin1'));
          break;
        case 0x53: // STRING (quoted repr)
          this.stack.push(unquote(r.line()));
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
          for (let i = 0; i + 1 < items.length; i += 2) d.set(this.key(items[i]), items[i + 1]);
          this.stack.push(d);
          break;
        }
        case 0x73: {
          // SETITEM
          const v = this.pop();
          const k = this.pop();
          this.dict(this.top()).set(this.key(k), v);
          break;
        }
        case 0x75: {
          // SETITEMS
          const items = this.popMark();
          const d = this.dict(this.top());
          for (let i = 0; i + 1 < items.length; i += 2) d.set(this.key(items[i]), items[i + 1]);
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
          for (const v of items) s.add(this.key(v));
          break;
        }
        case 0x91: // FROZENSET
          this.stack.push(new Set(this.popMark().map((v) => this.key(v))));
          break;
        // ---- globals and objects: everything goes through the allowlist ----
        case 0x63: {
          // GLOBAL "module\nname\n"
          const module = r.line();
          const name = r.line();
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
          const code = op === 0x82 ? r.u8() : op === 0x83 ? r.u16() : r.u32();
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
          this.stack.push(newObject(cls, this.args(args)));
          break;
        }
        case 0x92: {
          // NEWOBJ_EX: cls.__new__(cls, *args, **kwargs)
          this.pop();
          const args = this.pop();
          const cls = this.pop();
          this.stack.push(newObject(cls, this.args(args)));
          break;
        }
        case 0x6f: {
          // OBJ: MARK cls args... OBJ
          const items = this.popMark();
          this.stack.push(newObject(items[0], items.slice(1)));
          break;
        }
        case 0x69: {
          // INST "module\nname\n": MARK args... INST
          const cls = resolveGlobal(r.line(), r.line());
          this.stack.push(newObject(cls, this.popMark()));
          break;
        }
        case 0x62: {
          // BUILD
          const state = this.pop();
          this.stack[this.stack.length - 1] = build(state, this.top(), this.ctx);
          break;
        }
        default:
          throw new ModelFormatError(
            `pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${r.pos - 1} is not valid`,
          );
      }
    }
  }

  // ---- helpers ----
  private key(k: unknown): unknown {
    return this.keys.key(k);
  }
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
    if (!(Number.isSafeInteger(i) && i >= 0 && i <= MAX_MEMO))
      throw new ModelFormatError('pickle memo index is out of range');
    if (this.memo[i] === undefined && !(i in this.memo)) this.memoSize++;
    this.memo[i] = v;
  }
  private get(i: number): unknown {
    const v = this.memo[i];
    if (v === undefined && !(i in this.memo))
      throw new ModelFormatError(`pickle refers to memo entry ${i}, which was never stored`);
    return v;
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
}
