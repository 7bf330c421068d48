// Line chart: one polyline per series over a numeric x axis (e.g. requests/s or p99 latency over
// the seconds of a load test). Non-finite points break the line instead of dropping to zero.
import { type ChartBase, legend, noData, plotArea, titleText, xAxis, yAxis } from './frame.js';
import { extent, linearScale } from './scale.js';
import { escapeXml, formatNumber, px, seriesColor, svgOpen } from './svg.js';

export interface LineSeries {
  name: string;
  /** [x, y] pairs; x need not be sorted (they are drawn in x order). */
  points: ReadonlyArray<readonly [number, number]>;
  color?: string;
}

export interface LineChartOptions extends ChartBase {
  series: LineSeries[];
  /** Start the y axis at zero (default true: throughput and latency read wrong otherwise). */
  yFromZero?: boolean;
  /** Formats x tick labels (default: compact number). */
  formatX?: (x: number) => string;
  formatY?: (y: number) => string;
}

/** Renders a standalone SVG line chart. */
export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const area = plotArea(width, height, options.series.length > 0);
  let out = svgOpen(width, height, options.title) + titleText(width, options.title);

  const [x0, x1] = extent(options.series.flatMap((s) => s.points.map((p) => p[0])));
  const [y0, y1] = extent(options.series.flatMap((s) => s.points.map((p) => p[1])));
  if (Number.isNaN(x0) || Number.isNaN(y0)) return out + noData(width, height) + '</svg>';

  const fromZero = options.yFromZero ?? true;
  const ys = linearScale(
    fromZero ? Math.min(0, y0) : y0,
    fromZero ? Math.max(0, y1) : y1,
    area.bottom,
    area.top,
  );
  const xs = linearScale(x0, x1, area.left, area.right, 6);
  const formatX = options.formatX ?? formatNumber;
  out += yAxis(ys, area, options.yLabel, options.formatY);
  out += xAxis(
    xs.ticks.map((t) => ({ x: xs.map(t), label: formatX(t) })),
    area,
    options.xLabel,
  );

  options.series.forEach((series, i) => {
    const color = seriesColor(i, series.color);
    const sorted = [...series.points].sort((a, b) => a[0] - b[0]);
    // Split into runs of finite points: a gap in the data is a gap in the line.
    const runs: string[][] = [[]];
    for (const [x, y] of sorted) {
      if (Number.isFinite(x) && Number.isFinite(y))
        runs[runs.length - 1]!.push(`${px(xs.map(x))},${px(ys.map(y))}`);
      else if (runs[runs.length - 1]!.length > 0) runs.push([]);
    }
    out += `<g data-series="${escapeXml(series.name)}">`;
    for (const run of runs) {
      if (run.length === 1) {
        const [cx, cy] = run[0]!.split(',');
        out += `<circle cx="${cx}" cy="${cy}" r="2.5" fill="${color}"/>`;
      } else if (run.length > 1) {
        out += `<polyline fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round" points="${run.join(' ')}"/>`;
      }
    }
    out += '</g>';
  });
  out += legend(options.series, area, height - 14);
  return out + '</svg>';
}
