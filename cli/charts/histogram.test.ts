import { describe, expect, it } from 'vitest';
import { binValues, histogram } from './histogram.js';
import { assertWellFormed } from './well-formed.test-helper.js';

describe('binValues', () => {
  it('counts values into equal bins, closing the last bin on the right like numpy', () => {
    const { edges, counts } = binValues([0, 0.1, 0.5, 0.99, 1, Number.NaN], 2);
    expect(edges).toEqual([0, 0.5, 1]);
    expect(counts).toEqual([2, 3]);
  });
  it('drops values outside an explicit range', () => {
    expect(binValues([-1, 0.2, 0.7, 2], 2, [0, 1]).counts).toEqual([1, 1]);
  });
  it('handles constant and empty inputs', () => {
    expect(binValues([3, 3, 3], 4).counts.reduce((a, b) => a + b, 0)).toBe(3);
    expect(binValues([], 3).counts).toEqual([0, 0, 0]);
  });
});

describe('histogram', () => {
  it('draws one rectangle per non-empty bin and series, adjacent bins touching', () => {
    const svg = histogram({
      title: 'predictions',
      edges: [0, 0.25, 0.5, 0.75, 1],
      series: [
        { name: 'current', counts: [4, 0, 2, 8] },
        { name: 'candidate', counts: [1, 1, 1, 1] },
      ],
    });
    assertWellFormed(svg);
    const rects = [...svg.matchAll(/<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)">/g)];
    expect(rects).toHaveLength(7);
    const h = rects.slice(0, 3).map((m) => Number(m[4]));
    expect(h[2]! / h[0]!).toBeCloseTo(2, 1);
    expect(svg).toContain('>candidate<');
  });

  it('renders a placeholder for no bins', () => {
    const svg = histogram({ title: 't', edges: [0], series: [{ name: 'a', counts: [] }] });
    assertWellFormed(svg);
    expect(svg).toContain('no data');
  });
});
