// Bootstrap percentile intervals (Efron & Tibshirani): resample rows with replacement B times,
// recompute the statistic, take the 2.5% and 97.5% quantiles. A resample is a vector of row
// multiplicities, so statistics take weights and nothing is copied. The rng is injected (seeded).
import type { Rng } from '../../shared/random/seeded-rng.js';

export interface Interval {
  value: number;
  ci_low: number;
  ci_high: number;
}

/** Fills `w` with the multiplicities of n draws with replacement from n rows. */
export function resampleWeights(w: Float64Array, rng: Rng): void {
  w.fill(0);
  const n = w.length;
  for (let i = 0; i < n; i++) w[Math.floor(rng() * n)]!++;
}

/**
 * Point values and 95% intervals for several statistics that share the same resamples (so a
 * difference between two of them is paired). `stats[name](w)` computes a statistic under weights
 * (w undefined = the original sample).
 */
export function bootstrapIntervals(
  n: number,
  stats: Record<string, (w?: Float64Array) => number>,
  rng: Rng,
  iterations = 1000,
  level = 0.95,
): Record<string, Interval> {
  const names = Object.keys(stats);
  const samples = names.map(() => new Float64Array(iterations));
  const w = new Float64Array(n);
  for (let b = 0; b < iterations; b++) {
    resampleWeights(w, rng);
    for (let s = 0; s < names.length; s++) samples[s]![b] = stats[names[s]!]!(w);
  }
  const out: Record<string, Interval> = {};
  const alpha = (1 - level) / 2;
  names.forEach((name, s) => {
    const finite = samples[s]!.filter((x) => Number.isFinite(x)).sort();
    out[name] = {
      value: stats[name]!(undefined),
      ci_low: quantileSorted(finite, alpha),
      ci_high: quantileSorted(finite, 1 - alpha),
    };
  });
  return out;
}

/** Linear-interpolation quantile of a sorted array (NaN when empty). */
export function quantileSorted(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
