// Histogram: counts over contiguous bins, one or more series overlaid on the same bin edges (e.g.
// the current and the candidate model's prediction distributions in `grove compare`, or a
// latency distribution). `binValues` turns raw values into counts.
import { type ChartBase, legend, noData, plotArea, titleText, xAxis, yAxis } from './frame.js';
import { extent, linearScale } from './scale.js';
import { escapeXml, formatNumber, px, seriesColor, svgOpen } from './svg.js';

export interface HistogramSeries {
  name: string;
  /** counts[i] is the count (or share) in [edges[i], edges[i+1]). Length edges.length - 1. */
  counts: ReadonlyArray<number>;
  color?: string;
}

export interface HistogramOptions extends ChartBase {
  /** Increasing bin edges; n + 1 edges for n bins. */
  edges: ReadonlyArray<number>;
  series: HistogramSeries[];
  formatX?: (x: number) => string;
  formatY?: (y: number) => string;
}

export interface Bins {
  edges: number[];
  counts: number[];
}

/**
 * Counts finite `values` into `binCount` equal-width bins over [min, max] (or the data's extent).
 * The last bin is closed on the right, as numpy.histogram does, so the maximum is counted.
 * Values outside [min, max] and non-finite values are not counted.
 */
export function binValues(values: ArrayLike<number>, binCount: number, range?: [number, number]): Bins {
  const n = Math.max(1, Math.floor(binCount));
  let [lo, hi] = range ?? extent(Array.from(values));
  if (Number.isNaN(lo)) {
    lo = 0;
    hi = 1;
  }
  if (lo === hi) hi = lo + 1;
  const width = (hi - lo) / n;
  const edges = Array.from({ length: n + 1 }, (_, i) => (i === n ? hi : lo + i * width));
  const counts = new Array<number>(n).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v) || v < lo || v > hi) continue;
    const bin = v === hi ? n - 1 : Math.min(n - 1, Math.floor((v - lo) / width));
    counts[bin]!++;
  }
  return { edges, counts };
}

/** Renders a standalone SVG histogram; several series are drawn translucent over each other. */
export function histogram(options: HistogramOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const area = plotArea(width, height, options.series.length > 1);
  let out = svgOpen(width, height, options.title) + titleText(width, options.title);

  const edges = options.edges;
  const bins = edges.length - 1;
  const [c0, c1] = extent(options.series.flatMap((s) => s.counts));
  if (bins < 1 || Number.isNaN(c0)) return out + noData(width, height) + '</svg>';

  const ys = linearScale(Math.min(0, c0), Math.max(0, c1), area.bottom, area.top);
  const xs = linearScale(edges[0]!, edges[bins]!, area.left, area.right, 6);
  // The bars span the edges exactly, not the widened tick domain, so map with the raw edges.
  const x = (v: number) =>
    area.left + ((v - edges[0]!) / (edges[bins]! - edges[0]! || 1)) * (area.right - area.left);
  out += yAxis(ys, area, options.yLabel ?? 'count', options.formatY);

  const opacity = options.series.length > 1 ? 0.55 : 0.9;
  const format = options.formatX ?? formatNumber;
  options.series.forEach((series, si) => {
    const color = seriesColor(si, series.color);
    out += `<g data-series="${escapeXml(series.name)}" fill="${color}" fill-opacity="${opacity}">`;
    for (let i = 0; i < bins; i++) {
      const c = series.counts[i];
      if (c === undefined || !Number.isFinite(c) || c === 0) continue;
      const left = x(edges[i]!);
      const right = x(edges[i + 1]!);
      const top = ys.map(c);
      out +=
        `<rect x="${px(left)}" y="${px(top)}" width="${px(Math.max(0.5, right - left - 1))}" height="${px(ys.map(0) - top)}">` +
        `<title>${escapeXml(`${series.name} [${format(edges[i]!)}, ${format(edges[i + 1]!)}): ${formatNumber(c)}`)}</title></rect>`;
    }
    out += '</g>';
  });
  out += xAxis(
    xs.ticks.filter((t) => t >= edges[0]! && t <= edges[bins]!).map((t) => ({ x: x(t), label: format(t) })),
    area,
    options.xLabel,
  );
  if (options.series.length > 1) out += legend(options.series, area, height - 14);
  return out + '</svg>';
}
