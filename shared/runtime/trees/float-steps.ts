// Neighbouring floating-point values, for storing thresholds so that one `x >= t'` comparison
// reproduces a library's `x < t` or `x <= t` exactly (see flat-layout.ts, "Thresholds").
const f64 = new Float64Array(1);
const u64 = new BigInt64Array(f64.buffer);
const f32 = new Float32Array(1);
const u32 = new Int32Array(f32.buffer);

/** The smallest double greater than x (x itself for NaN and +Infinity). */
export function nextUp64(x: number): number {
  if (Number.isNaN(x) || x === Number.POSITIVE_INFINITY) return x;
  if (x === 0) return Number.MIN_VALUE;
  f64[0] = x;
  u64[0] = x > 0 ? u64[0]! + 1n : u64[0]! - 1n;
  return f64[0]!;
}

/** The smallest float32 greater than the float32 value x. */
export function nextUp32(x: number): number {
  if (Number.isNaN(x) || x === Number.POSITIVE_INFINITY) return x;
  if (x === 0) return 1.401298464324817e-45;
  f32[0] = x;
  u32[0] = x > 0 ? u32[0]! + 1 : u32[0]! - 1;
  return f32[0]!;
}

/** The largest float32 not above x. */
export function down32(x: number): number {
  const f = Math.fround(x);
  if (f <= x || Number.isNaN(x)) return f;
  // f rounded up past x: step one float32 down.
  if (f === 0) return -1.401298464324817e-45;
  f32[0] = f;
  u32[0] = f > 0 ? u32[0]! - 1 : u32[0]! + 1;
  return f32[0]!;
}

/** The smallest float32 not below x. */
export function up32(x: number): number {
  const f = Math.fround(x);
  if (f >= x || Number.isNaN(x)) return f;
  return nextUp32(f);
}
