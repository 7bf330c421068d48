import { describe, expect, it } from 'vitest';
import { type ColumnSpec, KIND_CATEGORICAL, KIND_NONE, KIND_NUMERIC, WindowCounts } from './window-counts.js';

const SPECS: ColumnSpec[] = [
  { kind: KIND_NUMERIC, edges: Float64Array.from([0, 1, 2]), min: -1, max: 3 },
  { kind: KIND_CATEGORICAL, edges: Float64Array.from([1, 5, 7]), min: 1, max: 7 },
  { kind: KIND_NONE, edges: new Float64Array(0), min: Number.NaN, max: Number.NaN },
  // The output column: many edges (the binary search).
  {
    kind: KIND_NUMERIC,
    edges: Float64Array.from({ length: 20 }, (_, i) => i / 20),
    min: 0,
    max: 1,
  },
];
const F = 3;
const K = 2;

function data(rows: number): { input: Float64Array; out: Float64Array } {
  const pool = [-5, -1, 0, 0.5, 1, 2.5, 3, 9, 5, 7, 6, Number.NaN, Infinity, -Infinity];
  const input = Float64Array.from({ length: rows * F }, (_, i) => pool[(i * 7 + (i >> 3)) % pool.length]!);
  const out = Float64Array.from({ length: rows * K }, (_, i) =>
    i % 5 === 4 ? Number.NaN : ((i * 37) % 23) / 20,
  );
  return { input, out };
}

function state(w: WindowCounts) {
  return {
    filled: w.filled,
    total: w.total,
    counts: Array.from(w.counts),
    missing: Array.from(w.missing),
    nonfinite: Array.from(w.nonfinite),
    skipped: Array.from(w.skipped),
  };
}

describe('WindowCounts.addRows', () => {
  it('counts rows added in calls of any size as rows added one at a time', () => {
    const { input, out } = data(200);
    const one = new WindowCounts(SPECS, 64);
    for (let r = 0; r < 200; r++) one.addRows(input, F, out, K, 1, r, r + 1);
    // Calls smaller than, equal to and larger than the window, from an empty and a full window.
    for (const sizes of [[200], [10, 64, 126], [63, 1, 70, 66]]) {
      const w = new WindowCounts(SPECS, 64);
      let at = 0;
      for (const n of sizes) {
        w.addRows(input, F, out, K, 1, at, at + n);
        at += n;
      }
      expect(state(w)).toEqual(state(one));
    }
    expect(one.filled).toBe(64);
    expect(one.total).toBe(200);
  });

  it('bins values by edges, range and category, and counts missing, non-finite and skipped', () => {
    const w = new WindowCounts(SPECS, 10);
    const input = Float64Array.from([-5, 7, 1, 0.5, 6, Number.NaN, 2, Infinity, 3, 9, 1, 0]);
    w.addRows(input, F, null, K, 0, 0, 4);
    // Column 0: -5 below min (code 4), 0.5 -> 1, 2 -> 3 (edges <= 2), 9 above max (code 5).
    expect(Array.from(w.columnCounts(0))).toEqual([0, 1, 0, 1, 1, 1]);
    // Column 1: 7 -> 2, 6 unseen (code 3), Infinity non-finite, 1 -> 0.
    expect(Array.from(w.columnCounts(1))).toEqual([1, 0, 1, 1]);
    expect(w.nonfinite[1]).toBe(1);
    // Column 2 (no profile): the missing value counted; column 3: no output, skipped.
    expect(w.missing[2]).toBe(1);
    expect(Array.from(w.columnCounts(2))).toEqual([3]);
    expect(w.skipped[3]).toBe(4);
  });
});
