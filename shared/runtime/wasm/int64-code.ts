// The encoder's instructions for byte loads, 64-bit integers and the comparisons the CSV number
// reader needs (shared/csv/number-module.ts), kept beside Code so the tree kernels' encoder stays
// what they use. Opcodes from the WebAssembly core spec 1.0, section 5.4 ("Instructions").
import { Code } from './encoder.js';

export class Code64 extends Code {
  /** i64.const: a signed LEB128 of up to 64 bits (a bigint, taken modulo 2^64). */
  i64(v: bigint): this {
    let x = BigInt.asIntN(64, v);
    this.op(0x42);
    for (;;) {
      const b = Number(x & 0x7fn);
      x >>= 7n;
      const done = (x === 0n && (b & 0x40) === 0) || (x === -1n && (b & 0x40) !== 0);
      this.bytes.push(done ? b : b | 0x80);
      if (done) return this;
    }
  }
  return(): this {
    return this.op(0x0f);
  }
  i32Load8U(offset = 0): this {
    return this.mem(0x2d, 0, offset);
  }
  i64Load(offset = 0): this {
    return this.mem(0x29, 3, offset);
  }
  i32Eq(): this {
    return this.op(0x46);
  }
  i32Ne(): this {
    return this.op(0x47);
  }
  i32GtS(): this {
    return this.op(0x4a);
  }
  i32GeU(): this {
    return this.op(0x4f);
  }
  i32ShrS(): this {
    return this.op(0x75);
  }
  i32Xor(): this {
    return this.op(0x73);
  }
  i64Eqz(): this {
    return this.op(0x50);
  }
  i64Eq(): this {
    return this.op(0x51);
  }
  i64Ne(): this {
    return this.op(0x52);
  }
  i64LtU(): this {
    return this.op(0x54);
  }
  i64GeU(): this {
    return this.op(0x5a);
  }
  i64Clz(): this {
    return this.op(0x79);
  }
  i64Add(): this {
    return this.op(0x7c);
  }
  i64Sub(): this {
    return this.op(0x7d);
  }
  i64Mul(): this {
    return this.op(0x7e);
  }
  i64And(): this {
    return this.op(0x83);
  }
  i64Or(): this {
    return this.op(0x84);
  }
  i64Xor(): this {
    return this.op(0x85);
  }
  i64Shl(): this {
    return this.op(0x86);
  }
  i64ShrU(): this {
    return this.op(0x88);
  }
  i64DivU(): this {
    return this.op(0x80);
  }
  i64RemU(): this {
    return this.op(0x82);
  }
  i64ExtendI32S(): this {
    return this.op(0xac);
  }
  i64ExtendI32U(): this {
    return this.op(0xad);
  }
  f64Mul(): this {
    return this.op(0xa2);
  }
  /** f64.convert_i64_u: rounds to nearest, ties to even (IEEE 754). */
  f64ConvertI64U(): this {
    return this.op(0xba);
  }
  f64Neg(): this {
    return this.op(0x9a);
  }
  f64ReinterpretI64(): this {
    return this.op(0xbf);
  }
}
