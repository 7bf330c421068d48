// Linear scales with "nice" ticks (1, 2, 5 x 10^k steps, as d3-scale and matplotlib's
// MaxNLocator pick them) so axes read naturally.

export interface LinearScale {
  /** Domain after widening to nice tick boundaries. */
  readonly min: number;
  readonly max: number;
  readonly ticks: number[];
  /** Maps a domain value to a pixel coordinate. */
  map(value: number): number;
}

/** Step between roughly `count` ticks covering [min, max]. */
export function niceStep(min: number, max: number, count: number): number {
  const span = max - min;
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const raw = span / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const normalized = raw / magnitude;
  const factor = normalized <= 1 ? 1 : normalized <= 2 ? 2 : normalized <= 5 ? 5 : 10;
  return factor * magnitude;
}

/**
 * A scale from [min, max] (widened to nice ticks) onto [from, to] pixels. A degenerate domain
 * (min == max, or no finite data) is widened around the value so the chart still draws.
 */
export function linearScale(min: number, max: number, from: number, to: number, tickCount = 5): LinearScale {
  if (!Number.isFinite(min) || !Number.isFinite(max)) {
    min = 0;
    max = 1;
  }
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const step = niceStep(min, max, tickCount);
  const lo = Math.floor(min / step + 1e-9) * step;
  const hi = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  // Build ticks by index, not by repeated addition, so 0.1 + 0.2 never shows up as 0.30000000000000004.
  const n = Math.round((hi - lo) / step);
  for (let i = 0; i <= n; i++) ticks.push(Number((lo + i * step).toPrecision(12)));
  const span = hi - lo;
  return {
    min: lo,
    max: hi,
    ticks,
    map: (value: number) => from + ((value - lo) / span) * (to - from),
  };
}

/** Min and max over finite values; [NaN, NaN] when there are none. */
export function extent(values: Iterable<number>): [number, number] {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min <= max ? [min, max] : [Number.NaN, Number.NaN];
}
