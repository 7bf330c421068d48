// The CSV number reader's WebAssembly: reads one line of comma-separated decimal numbers from bytes
// into doubles, exactly as `Number()` reads them, or says it cannot (docs/formats.md, "Numbers and
// missing values"; the caller then reads that line by the JavaScript rule). V8's string-to-number
// after `split` was half of a pool thread's time on `:batch` rows (docs/jobs.md, Performance).
//
// A field is empty (missing: NaN), or `[+-]digits[.digits][(e|E)[+-]digits]` with at least one
// digit in the mantissa and at most 19 significant digits (a mantissa below 10^19); anything else
// (spaces, NaN tokens, infinities, more digits, other bytes) makes the line fall back. The digits become a
// 64-bit integer and a power of ten, converted by the Eisel-Lemire algorithm (Lemire, "Number
// Parsing at a Gigabyte per Second", 2021; as Go's strconv and fast_float do it): a 64x128-bit
// product with a table of the powers of ten's 128-bit mantissas, rounded down. What it cannot
// decide is mostly a value that is a short binary fraction (float32 data printed in decimal, or a
// halfway case): such a value is an integer over a power of two, so when the digits divide by 5^k
// (the value is d / 10^k), it is (d / 5^k) * 2^-k, rounded once by the integer-to-double
// conversion (`exact`). The rest (subnormals, overflow) falls back, so every value it returns is
// the correctly rounded double, which is what `Number()` returns.
import { encodeModule, F64, type FuncDef, I32, I64 } from '../runtime/wasm/encoder.js';
import { Code64 } from '../runtime/wasm/int64-code.js';

/** Powers of ten in the table: 10^MIN_EXP10 .. 10^MAX_EXP10 (the range of a double, and more). */
const MIN_EXP10 = -348;
const MAX_EXP10 = 347;
/** Memory: the tables, then a line's values, then the text window. */
const TABLE = 0;
/** 5^0 .. 5^MAX_K5 as 64-bit integers (5^27 < 2^63). */
const POW5 = (MAX_EXP10 - MIN_EXP10 + 1) * 16;
const MAX_K5 = 27;
export const VALUES_AT = 16384;
/** Fields a line may have on this path (a wider line falls back). */
export const MAX_FIELDS = (65536 - VALUES_AT) / 8;
export const TEXT_AT = 65536;
/** Bytes of text read into the memory at a time (whole lines). */
export const WINDOW = 1 << 20;
const PAGES = (TEXT_AT + WINDOW) / 65536;

/** The 128-bit mantissa of 10^e, normalized (bit 127 set) and rounded down: [low 64, high 64]. */
export function powerOfTenMantissa(e: number): [bigint, bigint] {
  const bits = (x: bigint) => x.toString(2).length;
  let m: bigint;
  if (e >= 0) {
    const v = 10n ** BigInt(e);
    const L = bits(v);
    m = L >= 128 ? v >> BigInt(L - 128) : v << BigInt(128 - L);
  } else {
    const d = 10n ** BigInt(-e);
    m = (1n << BigInt(127 + bits(d))) / d;
  }
  return [m & 0xffffffffffffffffn, m >> 64n];
}

/** The tables' bytes: for each power of ten, its low then high 64 bits; then the powers of five. */
function tableBytes(): Uint8Array {
  const tens = (MAX_EXP10 - MIN_EXP10 + 1) * 2;
  const out = new BigUint64Array(tens + MAX_K5 + 1);
  for (let e = MIN_EXP10; e <= MAX_EXP10; e++) {
    const [lo, hi] = powerOfTenMantissa(e);
    out[(e - MIN_EXP10) * 2] = lo;
    out[(e - MIN_EXP10) * 2 + 1] = hi;
  }
  for (let k = 0; k <= MAX_K5; k++) out[tens + k] = 5n ** BigInt(k);
  return new Uint8Array(out.buffer);
}

/**
 * `exact(man: i64, exp10: i32) -> f64`: man * 10^exp10 when exp10 is in -27..0 and man divides by
 * 5^-exp10 (NaN otherwise): the quotient converted (one rounding) and scaled by 2^exp10 (exact).
 */
function exactBody(): Code64 {
  const man = 0;
  const exp10 = 1;
  const p5 = 2;
  const c = new Code64();
  c.get(exp10).i32(0).i32GtS().get(exp10).i32(-MAX_K5).i32LtS().i32Or().if();
  undecided(c).end();
  c.i32(0).get(exp10).i32Sub().i32(3).i32Shl().i64Load(POW5).set(p5);
  c.get(man).get(p5).i64RemU().i64Eqz().i32Eqz().if();
  undecided(c).end();
  c.get(man).get(p5).i64DivU().f64ConvertI64U();
  c.i32(1023).get(exp10).i32Add().i64ExtendI32U().i64(52n).i64Shl().f64ReinterpretI64().f64Mul();
  return c;
}

const M32 = 0xffffffffn;
const LOW9 = 0x1ffn;

/** Locals of the conversion function `convert(man: i64, exp10: i32) -> f64` (NaN: cannot decide). */
const C = {
  man: 0,
  exp10: 1,
  clz: 2,
  exp2: 3,
  xHi: 4,
  xLo: 5,
  yHi: 6,
  yLo: 7,
  b: 8,
  at: 9,
  msb: 10,
  mant: 11,
};
/** Scratch locals of the 64x64 -> 128-bit product. */
const S = { aL: 12, aH: 13, bL: 14, bH: 15, p0: 16, p1: 17, p2: 18, p3: 19, mid: 20 };

/** hi:lo = a * b, unsigned, from four 32x32-bit products. */
function mul128(c: Code64, a: number, b: number, hi: number, lo: number): void {
  c.get(a).i64(M32).i64And().set(S.aL).get(a).i64(32n).i64ShrU().set(S.aH);
  c.get(b).i64(M32).i64And().set(S.bL).get(b).i64(32n).i64ShrU().set(S.bH);
  c.get(S.aL).get(S.bL).i64Mul().set(S.p0);
  c.get(S.aL).get(S.bH).i64Mul().set(S.p1);
  c.get(S.aH).get(S.bL).i64Mul().set(S.p2);
  c.get(S.aH).get(S.bH).i64Mul().set(S.p3);
  c.get(S.p0).i64(32n).i64ShrU().get(S.p1).i64(M32).i64And().i64Add().get(S.p2).i64(M32).i64And().i64Add();
  c.set(S.mid);
  c.get(S.p0).i64(M32).i64And().get(S.mid).i64(32n).i64Shl().i64Or().set(lo);
  c.get(S.p3).get(S.p1).i64(32n).i64ShrU().i64Add().get(S.p2).i64(32n).i64ShrU().i64Add();
  c.get(S.mid).i64(32n).i64ShrU().i64Add().set(hi);
}

/** Returns NaN (cannot decide) from `convert`. */
function undecided(c: Code64): Code64 {
  return c.f64(Number.NaN).return();
}

/** Eisel-Lemire, step for step as Go's strconv.eiselLemire64 (the comments name its sections). */
function convertBody(): Code64 {
  const c = new Code64();
  // Exp10 range.
  c.get(C.man).i64Eqz().if().f64(0).return().end();
  c.get(C.exp10).i32(MIN_EXP10).i32LtS().get(C.exp10).i32(MAX_EXP10).i32GtS().i32Or().if();
  undecided(c).end();
  // Normalization.
  c.get(C.man).i64Clz().set(C.clz);
  c.get(C.man).get(C.clz).i64Shl().set(C.man);
  c.i32(217706)
    .get(C.exp10)
    .i32Mul()
    .i32(16)
    .i32ShrS()
    .i32(64 + 1023)
    .i32Add()
    .i64ExtendI32S();
  c.get(C.clz).i64Sub().set(C.exp2);
  c.get(C.exp10).i32(-MIN_EXP10).i32Add().i32(4).i32Shl().set(C.at);
  // Multiplication, by the high 64 bits of the power.
  c.get(C.at)
    .i64Load(TABLE + 8)
    .set(C.b);
  mul128(c, C.man, C.b, C.xHi, C.xLo);
  // Wider approximation, when the low bits of the product could still carry.
  c.get(C.xHi).i64(LOW9).i64And().i64(LOW9).i64Eq();
  c.get(C.xLo).get(C.man).i64Add().get(C.man).i64LtU().i32And().if();
  c.get(C.at).i64Load(TABLE).set(C.b);
  mul128(c, C.man, C.b, C.yHi, C.yLo);
  // merged = x + (y >> 64), kept in xHi:xLo only when it decides.
  c.get(C.xLo).get(C.yHi).i64Add().set(C.yHi);
  c.get(C.yHi).get(C.xLo).i64LtU().i64ExtendI32U().get(C.xHi).i64Add().set(C.b);
  c.get(C.b).i64(LOW9).i64And().i64(LOW9).i64Eq();
  c.get(C.yHi).i64(1n).i64Add().i64Eqz().i32And();
  c.get(C.yLo).get(C.man).i64Add().get(C.man).i64LtU().i32And().if();
  undecided(c).end();
  c.get(C.b).set(C.xHi).get(C.yHi).set(C.xLo);
  c.end();
  // Shifting to 54 bits.
  c.get(C.xHi).i64(63n).i64ShrU().set(C.msb);
  c.get(C.xHi).get(C.msb).i64(9n).i64Add().i64ShrU().set(C.mant);
  c.get(C.exp2).i64(1n).get(C.msb).i64Xor().i64Sub().set(C.exp2);
  // Half-way ambiguity.
  c.get(C.xLo).i64Eqz().get(C.xHi).i64(LOW9).i64And().i64Eqz().i32And();
  c.get(C.mant).i64(3n).i64And().i64(1n).i64Eq().i32And().if();
  undecided(c).end();
  // From 54 to 53 bits.
  c.get(C.mant).get(C.mant).i64(1n).i64And().i64Add().i64(1n).i64ShrU().set(C.mant);
  c.get(C.mant).i64(53n).i64ShrU().i64Eqz().i32Eqz().if();
  c.get(C.mant).i64(1n).i64ShrU().set(C.mant).get(C.exp2).i64(1n).i64Add().set(C.exp2);
  c.end();
  // Subnormal, or past the largest double: not decided here.
  c.get(C.exp2).i64(1n).i64Sub().i64(0x7fen).i64GeU().if();
  undecided(c).end();
  c.get(C.exp2).i64(52n).i64Shl().get(C.mant).i64(0xfffffffffffffn).i64And().i64Or().f64ReinterpretI64();
  return c;
}

/** Locals of `line(start: i32, end: i32, max: i32) -> i32` (fields read, or -1: fall back). */
const L = { p: 0, end: 1, max: 2, n: 3, c: 4, d: 5, neg: 6, any: 7, frac: 8, e: 9, eneg: 10 };
const L_MAN = 11;
const L_V = 12;
/** Eight bytes of text at a time. */
const L_W = 13;
const COMMA = 44;

function fallBack(c: Code64): Code64 {
  return c.i32(-1).return();
}

function advance(c: Code64): Code64 {
  return c.get(L.p).i32(1).i32Add().set(L.p);
}

const MAN_8 = 10n ** 11n;
const MAN_1 = 10n ** 18n;
const ASCII_0 = 0x3030303030303030n;

/**
 * Mantissa digits from p (`fraction`: each also moves the decimal point), eight at a time where
 * eight digits follow (SWAR, as simdjson and fast_float read them), then one at a time. The
 * mantissa stays below 10^19 (fits 64 bits): a digit that would take it past falls back.
 */
function digitLoop(c: Code64, fraction: boolean): void {
  c.block().loop();
  c.get(L.end).get(L.p).i32(8).i32Add().i32LtU().i32Eqz().get(L_MAN).i64(MAN_8).i64LtU().i32And().if();
  c.get(L.p).i64Load().set(L_W);
  // Each of the eight bytes is 0x30..0x39.
  c.get(L_W).i64(0xf0f0f0f0f0f0f0f0n).i64And();
  c.get(L_W).i64(0x0606060606060606n).i64Add().i64(0xf0f0f0f0f0f0f0f0n).i64And().i64(4n).i64ShrU();
  c.i64Or().i64(0x3333333333333333n).i64Eq().if();
  c.get(L_W).i64(ASCII_0).i64Sub().set(L_W);
  c.get(L_W).i64(10n).i64Mul().get(L_W).i64(8n).i64ShrU().i64Add().set(L_W);
  c.get(L_W).i64(0x000000ff000000ffn).i64And().i64(0x000f424000000064n).i64Mul();
  c.get(L_W).i64(16n).i64ShrU().i64(0x000000ff000000ffn).i64And().i64(0x0000271000000001n).i64Mul();
  c.i64Add().i64(32n).i64ShrU().set(L_W);
  c.get(L_MAN).i64(100000000n).i64Mul().get(L_W).i64Add().set(L_MAN);
  c.i32(1).set(L.any);
  if (fraction) c.get(L.frac).i32(8).i32Add().set(L.frac);
  c.get(L.p).i32(8).i32Add().set(L.p).br(2);
  c.end();
  c.end();
  c.get(L.p).get(L.end).i32GeU().brIf(1);
  c.get(L.p).i32Load8U().i32(48).i32Sub().tee(L.d).i32(10).i32GeU().brIf(1);
  c.get(L_MAN).i64(MAN_1).i64GeU().if();
  fallBack(c).end();
  c.get(L_MAN).i64(10n).i64Mul().get(L.d).i64ExtendI32U().i64Add().set(L_MAN);
  c.i32(1).set(L.any);
  if (fraction) c.get(L.frac).i32(1).i32Add().set(L.frac);
  advance(c).br(0);
  c.end().end();
}

function lineBody(): Code64 {
  const c = new Code64();
  c.i32(0).set(L.n);
  c.loop();
  c.get(L.n).get(L.max).i32GeU().if();
  fallBack(c).end();
  // An empty field is a missing value.
  c.get(L.p).get(L.end).i32GeU().if();
  c.get(L.n).i32(3).i32Shl().f64(Number.NaN).f64Store(VALUES_AT);
  c.get(L.n).i32(1).i32Add().return();
  c.end();
  c.get(L.p).i32Load8U().i32(COMMA).i32Eq().if();
  c.get(L.n).i32(3).i32Shl().f64(Number.NaN).f64Store(VALUES_AT);
  c.get(L.n).i32(1).i32Add().set(L.n);
  advance(c).br(1);
  c.end();
  // Sign.
  c.i32(0).set(L.neg).i32(0).set(L.any).i32(0).set(L.frac).i32(0).set(L.e);
  c.i64(0n).set(L_MAN);
  c.get(L.p).i32Load8U().set(L.c);
  c.get(L.c).i32(45).i32Eq().if().i32(1).set(L.neg);
  advance(c).else();
  c.get(L.c).i32(43).i32Eq().if();
  advance(c).end();
  c.end();
  digitLoop(c, false);
  c.get(L.p).get(L.end).i32LtU().if();
  c.get(L.p).i32Load8U().i32(46).i32Eq().if();
  advance(c);
  digitLoop(c, true);
  c.end().end();
  c.get(L.any).i32Eqz().if();
  fallBack(c).end();
  // Exponent: more than 5 digits' worth falls back rather than being cut.
  c.get(L.p).get(L.end).i32LtU().if();
  c.get(L.p).i32Load8U().i32(32).i32Or().i32(101).i32Eq().if();
  advance(c);
  c.i32(0).set(L.eneg).i32(0).set(L.any);
  c.get(L.p).get(L.end).i32LtU().if();
  c.get(L.p).i32Load8U().set(L.c);
  c.get(L.c).i32(45).i32Eq().if().i32(1).set(L.eneg);
  advance(c).else();
  c.get(L.c).i32(43).i32Eq().if();
  advance(c).end();
  c.end().end();
  c.block().loop();
  c.get(L.p).get(L.end).i32GeU().brIf(1);
  c.get(L.p).i32Load8U().i32(48).i32Sub().tee(L.d).i32(10).i32GeU().brIf(1);
  c.get(L.e).i32(100000).i32GeU().if();
  fallBack(c).end();
  c.get(L.e).i32(10).i32Mul().get(L.d).i32Add().set(L.e).i32(1).set(L.any);
  advance(c).br(0);
  c.end().end();
  c.get(L.any).i32Eqz().if();
  fallBack(c).end();
  c.get(L.eneg).if().i32(0).get(L.e).i32Sub().set(L.e).end();
  c.end().end();
  // The field ends here, at a comma or the line's end.
  c.get(L.p).get(L.end).i32LtU().if();
  c.get(L.p).i32Load8U().i32(COMMA).i32Ne().if();
  fallBack(c).end();
  c.end();
  c.get(L_MAN).get(L.e).get(L.frac).i32Sub().call(0).tee(L_V).get(L_V).f64Ne().if();
  c.get(L_MAN).get(L.e).get(L.frac).i32Sub().call(1).tee(L_V).get(L_V).f64Ne().if();
  fallBack(c).end();
  c.end();
  c.get(L.neg).if().get(L_V).f64Neg().set(L_V).end();
  c.get(L.n).i32(3).i32Shl().get(L_V).f64Store(VALUES_AT);
  c.get(L.n).i32(1).i32Add().set(L.n);
  c.get(L.p).get(L.end).i32GeU().if().get(L.n).return().end();
  advance(c).br(0);
  c.end();
  c.i32(-1);
  return c;
}

// lib ES2023 without DOM declares no WebAssembly: the few members used here, typed locally.
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

let compiled: object | null = null;
let table: Uint8Array | null = null;

/** The module's bytes (exported for the tests, which decode it with the engine's own validator). */
export function numberModuleBytes(): Uint8Array {
  const convert: FuncDef = {
    params: [I64, I32],
    results: [F64],
    locals: [I64, I64, I64, I64, I64, I64, I64, I32, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64],
    body: convertBody(),
  };
  const exact: FuncDef = { params: [I64, I32], results: [F64], locals: [I64], body: exactBody() };
  const line: FuncDef = {
    params: [I32, I32, I32],
    results: [I32],
    locals: [I32, I32, I32, I32, I32, I32, I32, I32, I64, F64, I64],
    body: lineBody(),
    export: 'line',
  };
  return encodeModule([convert, exact, line], PAGES);
}

export interface NumberInstance {
  /** Reads the line at [start, end) of the memory; its values land at VALUES_AT. */
  line: (start: number, end: number, max: number) => number;
  memory: ArrayBuffer;
}

/** A new instance with the table in place (one per thread: the memory is its scratch); null without WebAssembly. */
export function numberInstance(): NumberInstance | null {
  if (!wasmApi) return null;
  compiled ??= new wasmApi.Module(numberModuleBytes());
  const inst = new wasmApi.Instance(compiled, {});
  const memory = (inst.exports.mem as { buffer: ArrayBuffer }).buffer;
  table ??= tableBytes();
  new Uint8Array(memory, TABLE).set(table);
  return { line: inst.exports.line as NumberInstance['line'], memory };
}
