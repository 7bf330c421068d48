import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../random/seeded-rng.js';
import { plainDecimals } from './decimal-list.js';

/** What the general path (split on spaces, Number per token) reads, for comparison. */
const general = (s: string) => s.split(' ').map(Number);

describe('plainDecimals', () => {
  it('reads plain decimals exactly as Number() does, bit for bit', () => {
    const r = mulberry32(7);
    for (let round = 0; round < 2000; round++) {
      const toks: string[] = [];
      const n = 1 + Math.floor(r() * 8);
      for (let i = 0; i < n; i++) {
        const digits = 1 + Math.floor(r() * 15);
        let t = '';
        for (let d = 0; d < digits; d++) t += String(Math.floor(r() * 10));
        const point = Math.floor(r() * (digits + 2)) - 1; // -1: no point
        if (point >= 0) t = `${t.slice(0, point)}.${t.slice(point)}`;
        toks.push(r() < 0.4 ? `-${t}` : t);
      }
      const line = toks.join(' ');
      const out = new Float64Array(n);
      expect(plainDecimals(line, out, 0, n)).toBe(n);
      const want = general(line);
      for (let i = 0; i < n; i++) expect(Object.is(out[i], want[i]), `${toks[i]}`).toBe(true);
    }
  });

  it('reads the edge forms: negative zero, a bare or trailing point, leading zeros, 15 digits', () => {
    const line = '-0 0 .5 -.25 5. 007 0.00000000000001 999999999999999 -123456789.012345';
    const out = new Float64Array(9);
    expect(plainDecimals(line, out, 0, 9)).toBe(9);
    const want = general(line);
    for (let i = 0; i < 9; i++) expect(Object.is(out[i], want[i])).toBe(true);
  });

  it('writes at the offset and refuses more tokens than the limit, writing nothing past it', () => {
    const out = new Float64Array(5).fill(9);
    expect(plainDecimals('1 2', out, 2, 2)).toBe(2);
    expect([...out]).toEqual([9, 9, 1, 2, 9]);
    expect(plainDecimals('1 2 3', out, 2, 2)).toBe(-1);
    expect(out[4]).toBe(9);
  });

  it('leaves every other line to the general path', () => {
    const out = new Float64Array(4);
    for (const line of [
      '',
      '1  2',
      ' 1',
      '1 ',
      '1\t2',
      '1e5',
      'inf',
      'nan',
      '-inf 1',
      '+1',
      '.',
      '-',
      '1.2.3',
      '--1',
      '1-2',
      '0x10',
      '1234567890123456', // 16 digits: not exact by the fast path
      '0.12345678901234567',
    ])
      expect(plainDecimals(line, out, 0, 4), JSON.stringify(line)).toBe(-1);
  });
});
