// Quantile bin edges from training values, and the bin lookup the monitor runs per row per feature
// (a binary search over a small Float64Array: no allocation, monomorphic).

/**
 * Interior edges of `bins` quantile bins over `sorted` (ascending, finite). Quantiles use linear
 * interpolation between order statistics (numpy's default, "type 7"); duplicate edges (heavy ties)
 * are dropped, so a feature with few distinct values gets fewer bins. Edges equal to the minimum
 * are dropped too: bin 0 must hold at least the smallest training value.
 */
export function quantileEdges(sorted: ArrayLike<number>, bins: number): number[] {
  const n = sorted.length;
  const edges: number[] = [];
  if (n === 0 || bins < 2) return edges;
  const min = sorted[0]!;
  for (let i = 1; i < bins; i++) {
    const pos = (i / bins) * (n - 1);
    const lo = Math.floor(pos);
    const frac = pos - lo;
    const hi = Math.min(lo + 1, n - 1);
    const q = sorted[lo]! + (sorted[hi]! - sorted[lo]!) * frac;
    if (q <= min) continue;
    if (edges.length > 0 && q <= edges[edges.length - 1]!) continue;
    edges.push(q);
  }
  return edges;
}

/** Bin of x given interior edges: the number of edges <= x (bin i is [edges[i-1], edges[i])). */
export function binOf(edges: Float64Array | readonly number[], x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of x in sorted `values`, or -1 (exact match: category codes). */
export function indexOfValue(values: Float64Array | readonly number[], x: number): number {
  let lo = 0;
  let hi = values.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = values[mid]!;
    if (v === x) return mid;
    if (v < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
