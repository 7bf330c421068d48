import { describe, expect, it } from 'vitest';
import { extent, linearScale, niceStep } from './scale.js';

describe('linearScale', () => {
  it('widens the domain to nice 1/2/5 ticks and maps it onto the pixel range', () => {
    const s = linearScale(3, 97, 0, 100);
    expect(s.min).toBe(0);
    expect(s.max).toBe(100);
    expect(s.ticks).toEqual([0, 20, 40, 60, 80, 100]);
    expect(s.map(0)).toBe(0);
    expect(s.map(50)).toBe(50);
    // An inverted pixel range is how y axes grow upwards.
    const y = linearScale(0, 10, 300, 20);
    expect(y.map(0)).toBe(300);
    expect(y.map(10)).toBe(20);
  });

  it('produces exact decimal ticks without float drift', () => {
    const s = linearScale(0.1, 0.7, 0, 1);
    for (const t of s.ticks) expect(String(t).length).toBeLessThan(6);
    expect(s.ticks).toContain(0.4);
  });

  it('draws something for a constant or empty domain', () => {
    const c = linearScale(5, 5, 0, 100);
    expect(c.min).toBeLessThan(5);
    expect(c.max).toBeGreaterThan(5);
    const e = linearScale(Number.NaN, Number.NaN, 0, 100);
    expect(Number.isFinite(e.map(0.5))).toBe(true);
  });

  it('picks steps of 1, 2 or 5 times a power of ten', () => {
    expect(niceStep(0, 1, 5)).toBe(0.2);
    expect(niceStep(0, 12000, 5)).toBe(5000);
    expect(niceStep(0, 0, 5)).toBe(1);
  });

  it('extent ignores non-finite values', () => {
    expect(extent([3, Number.NaN, -1, Number.POSITIVE_INFINITY, 7])).toEqual([-1, 7]);
    expect(extent([]).every(Number.isNaN)).toBe(true);
  });
});
