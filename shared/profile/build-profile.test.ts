import { describe, expect, it } from 'vitest';
import { buildProfile } from './build-profile.js';
import { psiFromCounts, psiFromShares } from './psi.js';
import { binOf, indexOfValue, quantileEdges } from './quantile-bins.js';

describe('quantile bins', () => {
  it('computes numpy-style (type 7) quantile edges', () => {
    // 0..9: quantiles at 0.25/0.5/0.75 are 2.25, 4.5, 6.75 (numpy.quantile, linear).
    const sorted = Float64Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(quantileEdges(sorted, 4)).toEqual([2.25, 4.5, 6.75]);
  });
  it('drops duplicate edges and edges at the minimum', () => {
    expect(quantileEdges(Float64Array.from([1, 1, 1, 1, 1, 1, 2, 3]), 4)).toEqual([1.25]); // q(0.75): pos 5.25 -> 1 + 0.25*(2-1)
  });
  it('bins with open-ended outer bins', () => {
    const e = [2.25, 4.5, 6.75];
    expect([-100, 0, 2.25, 3, 4.5, 6.74, 6.75, 1e9].map((x) => binOf(e, x))).toEqual([
      0, 0, 1, 1, 2, 2, 3, 3,
    ]);
    expect(indexOfValue([0, 2, 5], 5)).toBe(2);
    expect(indexOfValue([0, 2, 5], 3)).toBe(-1);
  });
});

describe('psi', () => {
  it('matches a hand computation', () => {
    // expected [0.5, 0.5], actual [0.8, 0.2]:
    // (0.8-0.5)ln(0.8/0.5) + (0.2-0.5)ln(0.2/0.5) = 0.3*0.4700036 + 0.3*0.9162907 = 0.4158883
    expect(psiFromShares([0.5, 0.5], [0.8, 0.2])).toBeCloseTo(0.4158883, 6);
    expect(psiFromCounts([0.5, 0.5], [80, 20])).toBeCloseTo(0.4158883, 6);
  });
  it('is 0 for identical distributions and floors empty bins at 1e-4', () => {
    expect(psiFromShares([0.25, 0.25, 0.5], [0.25, 0.25, 0.5])).toBe(0);
    // expected [1, 0], actual [0.5, 0.5]: (0.5-1)ln(0.5) + (0.5-1e-4)ln(0.5/1e-4)
    const hand = -0.5 * Math.log(0.5) + (0.5 - 1e-4) * Math.log(0.5 / 1e-4);
    expect(psiFromShares([1, 0], [0.5, 0.5])).toBeCloseTo(hand, 10);
  });
});

describe('buildProfile', () => {
  it('profiles numeric, categorical and output columns', () => {
    // f0: 0..9 with one missing (row 10); f1: categories 1/2; 11 rows.
    const rows = 11;
    const data = new Float64Array(rows * 2);
    for (let r = 0; r < 10; r++) {
      data[r * 2] = r;
      data[r * 2 + 1] = r < 3 ? 1 : 2;
    }
    data[20] = Number.NaN;
    data[21] = 2;
    const preds = new Float64Array(rows * 2);
    for (let r = 0; r < rows; r++) {
      preds[r * 2] = 1 - r / 10;
      preds[r * 2 + 1] = r / 10;
    }
    const p = buildProfile({
      featureNames: ['a', 'b'],
      task: 'binary',
      outputNames: ['0', '1'],
      data,
      rows,
      predictions: preds,
      bins: 4,
      maxCategories: 5,
    });
    const a = p.features[0]!;
    expect(a.type).toBe('numeric');
    expect(a.missing_ratio).toBeCloseTo(1 / 11, 12);
    expect(a.min).toBe(0);
    expect(a.max).toBe(9);
    if (a.type !== 'numeric') throw new Error('numeric');
    expect(a.edges).toEqual([2.25, 4.5, 6.75]);
    // bins: {0,1,2} {3,4} {5,6} {7,8,9}
    expect(a.shares).toEqual([0.3, 0.2, 0.2, 0.3]);
    const b = p.features[1]!;
    expect(b.type).toBe('categorical');
    if (b.type !== 'categorical') throw new Error('categorical');
    expect(b.values).toEqual([1, 2]);
    expect(b.shares[0]).toBeCloseTo(3 / 11, 12);
    // The positive class's column is watched: 0, 0.1, ..., 1.0.
    expect(p.prediction?.output_index).toBe(1);
    expect(p.prediction?.max).toBe(1);
  });
  it('treats a feature the model marks categorical as categorical', () => {
    const data = Float64Array.from([0.5, 1.5, 0.5, 1.5]);
    const p = buildProfile({
      featureNames: ['x'],
      task: 'regression',
      outputNames: ['prediction'],
      data,
      rows: 4,
      predictions: null,
      categorical: new Set([0]),
    });
    expect(p.features[0]!.type).toBe('categorical');
    expect(p.prediction).toBeNull();
  });
});
