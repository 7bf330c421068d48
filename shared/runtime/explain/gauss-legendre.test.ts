import { describe, expect, test } from 'vitest';
import { gaussLegendre } from './gauss-legendre.js';

describe('Gauss-Legendre on [0, 1]', () => {
  test('m nodes integrate t^d exactly for every d <= 2m - 1, and not beyond', () => {
    for (const m of [1, 2, 3, 4, 5, 8, 16, 24, 32, 64]) {
      const { t, w } = gaussLegendre(m);
      expect(t.every((x) => x > 0 && x < 1)).toBe(true);
      for (let d = 0; d <= 2 * m - 1; d++) {
        let s = 0;
        for (let k = 0; k < m; k++) s += w[k]! * t[k]! ** d;
        expect(Math.abs(s - 1 / (d + 1))).toBeLessThan(1e-13);
      }
      if (m > 8) continue; // beyond, the error is too small to see for large m
      let s = 0;
      for (let k = 0; k < m; k++) s += w[k]! * t[k]! ** (2 * m);
      expect(Math.abs(s - 1 / (2 * m + 1))).toBeGreaterThan(1e-11);
    }
  });

  test('refuses sizes that are not small positive integers', () => {
    expect(() => gaussLegendre(0)).toThrow(RangeError);
    expect(() => gaussLegendre(1.5)).toThrow(RangeError);
  });
});
