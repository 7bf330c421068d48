// The WebAssembly number reader against `Number()`, the rule it must reproduce bit for bit
// (docs/formats.md): every value it returns is the same double (-0 and all), and what it declines
// falls back; the shapes real CSV holds (shortest round-trip doubles, float32 data printed as
// doubles, fixed decimals, integers) must almost never be declined, or the fast path is no path.
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../random/seeded-rng.js';
import { MAX_FIELDS, numberInstance, powerOfTenMantissa, TEXT_AT, VALUES_AT } from './number-module.js';

const r = numberInstance()!;
const mem = new Uint8Array(r.memory);
const values = new Float64Array(r.memory, VALUES_AT, MAX_FIELDS);

/** The reader's fields for one line, or null when it declines the line. */
function read(line: string, max = MAX_FIELDS): number[] | null {
  const b = Buffer.from(line, 'latin1');
  mem.set(b, TEXT_AT);
  const k = r.line(TEXT_AT, TEXT_AT + b.length, max);
  return k < 0 ? null : Array.from(values.subarray(0, k));
}

/** One field: its value when read (must be Number()'s, or NaN for an empty field), or 'declined'. */
function check(field: string): 'read' | 'declined' {
  const got = read(field);
  if (got === null) return 'declined';
  const want = field === '' ? Number.NaN : Number(field);
  if (got.length !== 1 || !Object.is(got[0], want)) {
    throw new Error(`'${field}': read ${got.join('|')}, Number() says ${want}`);
  }
  return 'read';
}

describe('powers of ten (Eisel-Lemire table)', () => {
  it('holds 128-bit mantissas rounded down, bit 127 set', () => {
    // Go's strconv documents 1e43 = 0xE596B7B0_C643C719_6D9CCD05_D0000000 * 2^15.
    expect(powerOfTenMantissa(43)).toEqual([0x6d9ccd05d0000000n, 0xe596b7b0c643c719n]);
    expect(powerOfTenMantissa(0)).toEqual([0n, 1n << 63n]);
    for (const e of [-348, -300, -1, 1, 22, 28, 300, 347]) {
      const [lo, hi] = powerOfTenMantissa(e);
      const m = (hi << 64n) | lo;
      expect(hi >> 63n).toBe(1n);
      // m <= 10^e * 2^s < m + 1 for the scale s that puts bit 127 on top.
      const s = 127n - BigInt((e >= 0 ? 10n ** BigInt(e) : 10n ** BigInt(-e)).toString(2).length - 1);
      if (e >= 0) {
        const exact = s >= 0n ? (10n ** BigInt(e)) << s : (10n ** BigInt(e)) >> -s;
        expect(m).toBe(exact);
      } else {
        const d = 10n ** BigInt(-e);
        const k = 127n + BigInt(d.toString(2).length);
        expect(m * d <= 1n << k && 1n << k < (m + 1n) * d).toBe(true);
      }
    }
  });
});

describe('the WebAssembly number reader reads what Number() reads', () => {
  it('spellings: signs, points, exponents, zeros, missing', () => {
    for (const f of [
      '0',
      '-0',
      '+0',
      '0.0',
      '-0.000',
      '00012',
      '1.',
      '.5',
      '-.5',
      '+.5e1',
      '1e5',
      '1E5',
      '1e+5',
    ]) {
      expect(check(f), f).toBe('read');
    }
    for (const f of [
      '2.5e-3',
      '-7e0',
      '123456789012345678',
      '9999999999999999999',
      '0.1',
      '1e-7',
      '-1.5E-300',
    ]) {
      expect(check(f), f).toBe('read');
    }
    expect(check('')).toBe('read');
    expect(read('1,,2,')).toEqual([1, Number.NaN, 2, Number.NaN]);
    expect(read(',')).toEqual([Number.NaN, Number.NaN]);
    expect(Object.is(read('-0,0')![0], -0)).toBe(true);
  });

  it('declines what it does not cover (the JavaScript rule reads or refuses it)', () => {
    const declined = [
      ' 1',
      '1 ',
      'NaN',
      'nan',
      'inf',
      '-Infinity',
      'NA',
      '0x10',
      '1_000',
      '--1',
      '-',
      '+',
      '.',
      'e5',
      '.e5',
      '1e',
      '1e+',
      '1e-',
      '1.2.3',
      '1,5"',
      '1\r',
      '12345678901234567890',
      '1e400',
      '1e-400',
      '5e-324',
      '1.7976931348623159e308',
      '1e999999',
      '0.' + '0'.repeat(99990) + '1e1000000',
    ];
    for (const f of declined) expect(check(f), JSON.stringify(f.slice(0, 30))).toBe('declined');
    // Line widths: more fields than asked for is declined (the caller reports the width).
    expect(read('1,2,3', 2)).toBeNull();
    expect(read('1,2,3', 3)).toEqual([1, 2, 3]);
  });

  it('the largest and smallest normal doubles, exact binary fractions and halfway cases', () => {
    const fields = [
      '1.7976931348623157e308',
      '2.2250738585072014e-308',
      '2.2250738585072011e-308',
      '4.9406564584124654e-324',
      '9007199254740993',
      '9007199254740995',
      '9007199254740992.5',
      '0.30000000000000004',
      '0.1000000000000000055511151231257827',
      '2.201385498046875',
      '3.2121429443359375',
      '-4.7059783935546875',
      '1.00000000000000011102230246251565404236316680908203125',
    ];
    let read = 0;
    for (const f of fields) if (check(f) === 'read') read++;
    expect(read).toBeGreaterThan(fields.length / 2);
  });

  it('a million seeded fields of the shapes CSV files hold: identical values, almost none declined', () => {
    const rng = mulberry32(20261203);
    const f32 = new Float32Array(1);
    const u = new BigUint64Array(1);
    const asDouble = new Float64Array(u.buffer);
    const shapes: Array<() => string> = [
      // Shortest round-trip doubles of every magnitude (JavaScript's and Python's repr).
      () => {
        u[0] = (BigInt(Math.floor(rng() * 2 ** 32)) << 32n) | BigInt(Math.floor(rng() * 2 ** 32));
        const x = asDouble[0]!;
        return Number.isFinite(x) ? String(x) : '1';
      },
      // float32 data written out as doubles (NumPy float32 -> float64 -> text): short binary fractions.
      () => {
        f32[0] = (rng() - 0.5) * 10 ** Math.floor(rng() * 12 - 6);
        return String(f32[0]);
      },
      () => (rng() * 2000 - 1000).toFixed(Math.floor(rng() * 10)),
      () => (rng() * 10 ** Math.floor(rng() * 30 - 15)).toPrecision(1 + Math.floor(rng() * 19)),
      () => (rng() * 1e6).toExponential(Math.floor(rng() * 18)),
      () => String(Math.floor(rng() * 2 ** 53) * (rng() < 0.5 ? -1 : 1)),
      // Halfway and near-halfway: an exact 54-bit dyadic value, printed in full, nudged by one digit.
      () => {
        const m =
          BigInt(Math.floor(rng() * 2 ** 26)) * 2n ** 28n + BigInt(Math.floor(rng() * 2 ** 28)) * 2n + 1n;
        const k = Math.floor(rng() * 20);
        const digits = (m * 5n ** BigInt(k)).toString();
        const text = k === 0 ? digits : `${digits.slice(0, -k) || '0'}.${digits.slice(-k).padStart(k, '0')}`;
        const nudge = rng();
        return nudge < 0.34
          ? text
          : nudge < 0.67
            ? `${text}${k === 0 ? '.' : ''}1`
            : text.replace(/.$/, (d) => String(Math.max(0, +d - 1)));
      },
    ];
    const declined = new Array<number>(shapes.length).fill(0);
    const n = 1_000_000;
    for (let i = 0; i < n; i++) {
      const s = i % shapes.length;
      if (check(shapes[s]!()) === 'declined') declined[s]!++;
    }
    const per = n / shapes.length;
    // Ordinary numbers: declined only for subnormals, 20+ digits and the like.
    for (const s of [0, 1, 2, 3, 4, 5]) expect(declined[s]!, `shape ${s}`).toBeLessThan(per * 0.02);
  });
});
