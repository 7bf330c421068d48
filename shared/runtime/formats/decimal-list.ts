// The fast path for LightGBM's number lists (lightgbm-text.ts): a line of plain decimals separated
// by single spaces is read in one pass over its characters, without an array of token strings and
// without a string-to-number conversion per token. Most of a model's lists are integers (features,
// children, decision types, counts) or short decimals (gains); converting them with split and
// Number() was most of a LightGBM load.
//
// Exactness: a token of at most 15 digits is m / 10^k with m < 10^15 and 10^k (k <= 15) exact
// doubles, so one IEEE division gives the correctly rounded value, the value Number() gives
// (Clinger's fast path). A longer token, an exponent, 'inf' / 'nan', other whitespace or anything
// else ends the fast path: the caller reads that line the general way.

/** 10^0 .. 10^15, each exact in a double. */
const POW10 = new Float64Array(16);
for (let k = 0, p = 1; k < 16; k++, p *= 10) POW10[k] = p;

/**
 * Reads `s`, plain decimals separated by single spaces, into out[offset ..]: returns how many it
 * read, or -1 when `s` is not such a line or holds more than `limit` of them (nothing written past
 * offset + limit).
 */
export function plainDecimals(s: string, out: Float64Array, offset: number, limit: number): number {
  const len = s.length;
  let n = 0;
  let m = 0;
  let digits = 0;
  let frac = -1; // digits after the point; -1 before any point
  let neg = false;
  let fresh = true; // at the start of a token
  for (let i = 0; i <= len; i++) {
    const c = i < len ? s.charCodeAt(i) : 32;
    if (c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      digits++;
      if (frac >= 0) frac++;
      fresh = false;
    } else if (c === 32) {
      if (digits === 0 || digits > 15 || n >= limit) return -1;
      const v = frac > 0 ? m / POW10[frac]! : m;
      out[offset + n++] = neg ? -v : v;
      m = 0;
      digits = 0;
      frac = -1;
      neg = false;
      fresh = true;
    } else if (c === 46 && frac < 0) {
      frac = 0;
      fresh = false;
    } else if (c === 45 && fresh) {
      neg = true;
      fresh = false;
    } else return -1;
  }
  return n;
}
