// A small WebAssembly binary encoder: just what grove's tree kernels emit (one memory, i32/f32/f64
// scalars, blocks, loops, br_table; the CSV number reader adds 64-bit integers, int64-code.ts), so
// kernels are generated as bytes at load with no C toolchain and no wabt. Opcodes and encodings follow the WebAssembly core spec 1.0, section 5
// ("Binary format"): LEB128 integers, IEEE 754 little-endian constants, memarg = (align, offset).

export const I32 = 0x7f;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const I64 = 0x7e;
export type ValType = typeof I32 | typeof F32 | typeof F64 | typeof I64;

/** Instruction sink with one method per opcode used; every method returns `this` to chain. */
export class Code {
  readonly bytes: number[] = [];

  u32(v: number): this {
    let x = v >>> 0;
    do {
      const b = x & 0x7f;
      x >>>= 7;
      this.bytes.push(x ? b | 0x80 : b);
    } while (x);
    return this;
  }
  s32(v: number): this {
    let x = v | 0;
    for (;;) {
      const b = x & 0x7f;
      x >>= 7;
      const done = (x === 0 && (b & 0x40) === 0) || (x === -1 && (b & 0x40) !== 0);
      this.bytes.push(done ? b : b | 0x80);
      if (done) return this;
    }
  }
  protected op(o: number): this {
    this.bytes.push(o);
    return this;
  }
  protected mem(o: number, align: number, offset: number): this {
    if (offset < 0) throw new RangeError(`negative memory offset ${offset}`);
    return this.op(o).u32(align).u32(offset);
  }

  // Control (block types: 0x40 = no result).
  block(): this {
    return this.op(0x02).op(0x40);
  }
  loop(): this {
    return this.op(0x03).op(0x40);
  }
  if(): this {
    return this.op(0x04).op(0x40);
  }
  else(): this {
    return this.op(0x05);
  }
  end(): this {
    return this.op(0x0b);
  }
  br(depth: number): this {
    return this.op(0x0c).u32(depth);
  }
  brIf(depth: number): this {
    return this.op(0x0d).u32(depth);
  }
  brTable(targets: number[], fallback: number): this {
    this.op(0x0e).u32(targets.length);
    for (const t of targets) this.u32(t);
    return this.u32(fallback);
  }
  /**
   * The tail of a counted loop: `local += step`, then back to the loop's start while `local` is
   * below `limit` (unsigned; a number is a constant, `{ local }` another local).
   */
  nextWhileBelow(local: number, step: number, limit: number | { local: number }): this {
    this.get(local).i32(step).i32Add().tee(local);
    if (typeof limit === 'number') this.i32(limit);
    else this.get(limit.local);
    return this.i32LtU().brIf(0);
  }
  call(fn: number): this {
    return this.op(0x10).u32(fn);
  }
  select(): this {
    return this.op(0x1b);
  }

  // Locals.
  get(i: number): this {
    return this.op(0x20).u32(i);
  }
  set(i: number): this {
    return this.op(0x21).u32(i);
  }
  tee(i: number): this {
    return this.op(0x22).u32(i);
  }

  // Memory (align is log2 of the natural alignment; a hint only).
  i32Load(offset = 0): this {
    return this.mem(0x28, 2, offset);
  }
  f32Load(offset = 0): this {
    return this.mem(0x2a, 2, offset);
  }
  f64Load(offset = 0): this {
    return this.mem(0x2b, 3, offset);
  }
  i32Store(offset = 0): this {
    return this.mem(0x36, 2, offset);
  }
  f32Store(offset = 0): this {
    return this.mem(0x38, 2, offset);
  }
  f64Store(offset = 0): this {
    return this.mem(0x39, 3, offset);
  }

  // Constants.
  i32(v: number): this {
    return this.op(0x41).s32(v);
  }
  f64(v: number): this {
    this.op(0x44);
    const b = new Uint8Array(new Float64Array([v]).buffer);
    for (const x of b) this.bytes.push(x);
    return this;
  }

  // i32 arithmetic and comparisons.
  i32Eqz(): this {
    return this.op(0x45);
  }
  i32LtS(): this {
    return this.op(0x48);
  }
  i32LtU(): this {
    return this.op(0x49);
  }
  i32Add(): this {
    return this.op(0x6a);
  }
  i32Sub(): this {
    return this.op(0x6b);
  }
  i32Mul(): this {
    return this.op(0x6c);
  }
  i32Or(): this {
    return this.op(0x72);
  }
  i32And(): this {
    return this.op(0x71);
  }
  i32Shl(): this {
    return this.op(0x74);
  }
  i32ShrU(): this {
    return this.op(0x76);
  }

  // Float comparisons and arithmetic.
  f32Ge(): this {
    return this.op(0x60);
  }
  f64Ne(): this {
    return this.op(0x62);
  }
  f64Le(): this {
    return this.op(0x65);
  }
  f64Ge(): this {
    return this.op(0x66);
  }
  f64Lt(): this {
    return this.op(0x63);
  }
  f64Gt(): this {
    return this.op(0x64);
  }
  f32Add(): this {
    return this.op(0x92);
  }
  f64Add(): this {
    return this.op(0xa0);
  }
  f64Div(): this {
    return this.op(0xa3);
  }
  f32DemoteF64(): this {
    return this.op(0xb6);
  }
  f64PromoteF32(): this {
    return this.op(0xbb);
  }
  /** i32.trunc_sat_f64_s (non-trapping float-to-int: NaN -> 0, out of range saturates). */
  i32TruncSatF64S(): this {
    return this.op(0xfc).u32(2);
  }
}

export interface FuncDef {
  params: ValType[];
  results: ValType[];
  /** Locals beyond the parameters, in index order after them. */
  locals: ValType[];
  body: Code;
  /** Exported under this name when given. */
  export?: string;
}

/**
 * A module's bytes as a list of byte arrays, written into one Uint8Array at the end: function
 * bodies are the bulk of a kernel module, and copying them byte by byte through three growing
 * arrays was a large part of building a model's kernels at load.
 */
class Parts {
  readonly list: number[][] = [];
  size = 0;
  add(bytes: number[]): this {
    this.list.push(bytes);
    this.size += bytes.length;
    return this;
  }
  addAll(p: Parts): this {
    for (const b of p.list) this.add(b);
    return this;
  }
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const b of this.list) {
      out.set(b, at);
      at += b.length;
    }
    return out;
  }
}

function section(out: Parts, id: number, content: Code | Parts): void {
  const size = content instanceof Code ? content.bytes.length : content.size;
  out.add([id, ...new Code().u32(size).bytes]);
  if (content instanceof Code) out.add(content.bytes);
  else out.addAll(content);
}

function name(c: Code, s: string): void {
  const b = Buffer.from(s, 'utf8');
  c.u32(b.length);
  for (const x of b) c.bytes.push(x);
}

/**
 * A module with one memory of `pages` 64 KiB pages (fixed size, exported as "mem") and the given
 * functions, each with its own type entry (function index = position in `funcs`).
 */
export function encodeModule(funcs: FuncDef[], pages: number): Uint8Array {
  const out = new Parts().add([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const types = new Code().u32(funcs.length);
  for (const f of funcs) {
    types.bytes.push(0x60);
    types.u32(f.params.length);
    for (const p of f.params) types.bytes.push(p);
    types.u32(f.results.length);
    for (const r of f.results) types.bytes.push(r);
  }
  section(out, 1, types);
  const fns = new Code().u32(funcs.length);
  for (let i = 0; i < funcs.length; i++) fns.u32(i);
  section(out, 3, fns);
  section(out, 5, new Code().u32(1).u32(0x01).u32(pages).u32(pages));
  const exported = funcs.map((f, i) => [f.export, i] as const).filter(([n]) => n !== undefined);
  const exps = new Code().u32(exported.length + 1);
  name(exps, 'mem');
  exps.u32(0x02).u32(0);
  for (const [n, i] of exported) {
    name(exps, n!);
    exps.u32(0x00).u32(i);
  }
  section(out, 7, exps);
  const code = new Parts().add(new Code().u32(funcs.length).bytes);
  for (const f of funcs) {
    // Locals are run-length encoded as (count, type) groups.
    const head = new Code();
    const groups: Array<[number, ValType]> = [];
    for (const t of f.locals) {
      const last = groups.at(-1);
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    head.u32(groups.length);
    for (const [n, t] of groups) head.u32(n).bytes.push(t);
    // body size, then locals, instructions and `end`
    code.add(new Code().u32(head.bytes.length + f.body.bytes.length + 1).bytes);
    code.add(head.bytes).add(f.body.bytes).add([0x0b]);
  }
  section(out, 10, code);
  return out.toBytes();
}
