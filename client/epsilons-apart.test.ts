import { describe, expect, it } from 'vitest';
import { epsilonsApart } from './client-fixtures.test-helper.js';

const f = (...x: number[]) => Float64Array.from(x);

describe('epsilonsApart', () => {
  it('is 0 for equal values (NaN beside NaN, 0 beside -0) and grows with the gap', () => {
    expect(epsilonsApart(f(1, 2, Number.NaN), f(1, 2, Number.NaN))).toBe(0);
    expect(epsilonsApart(f(0), f(-0))).toBe(0);
    expect(epsilonsApart(f(1), f(1 + Number.EPSILON))).toBeCloseTo(1, 12);
    expect(epsilonsApart(f(0.5), f(0.5 + 3 * Number.EPSILON))).toBeCloseTo(3, 12);
  });

  it('scales by the values above 1 and by 1 below it', () => {
    expect(epsilonsApart(f(1024), f(1024 + 1024 * Number.EPSILON))).toBeCloseTo(1, 12);
    // Tiny probabilities: an absolute gap of one epsilon of 1.
    expect(epsilonsApart(f(1e-5), f(1e-5 + Number.EPSILON))).toBeCloseTo(1, 6);
    expect(epsilonsApart(f(1e-5), f(2e-5))).toBeGreaterThan(1e10);
  });

  it('is Infinity when lengths differ or a NaN meets a number', () => {
    expect(epsilonsApart(f(1), f(1, 2))).toBe(Number.POSITIVE_INFINITY);
    expect(epsilonsApart(f(Number.NaN), f(1))).toBe(Number.POSITIVE_INFINITY);
  });
});
