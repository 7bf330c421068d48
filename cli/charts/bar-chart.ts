// Grouped bar chart: categories along x (e.g. load-test scenarios), one bar per series in each
// group (e.g. p50 / p90 / p99 latency, or grove vs nginx requests/s).
import {
  type ChartBase,
  LINE_HEIGHT,
  legend,
  noData,
  plotArea,
  titleText,
  wrapLabel,
  xAxis,
  yAxis,
} from './frame.js';
import { extent, linearScale } from './scale.js';
import { escapeXml, formatNumber, px, seriesColor, svgOpen } from './svg.js';

export interface BarSeries {
  name: string;
  /** One value per category (same order); NaN or a missing entry draws no bar. */
  values: ReadonlyArray<number>;
  color?: string;
}

export interface GroupedBarChartOptions extends ChartBase {
  categories: string[];
  series: BarSeries[];
  /** Print each bar's value above it (default true while there are at most 24 bars). */
  valueLabels?: boolean;
  formatY?: (y: number) => string;
}

/** Renders a standalone SVG grouped bar chart. Bars grow from zero (negative values grow down). */
export function groupedBarChart(options: GroupedBarChartOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const area = plotArea(width, height, options.series.length > 0);
  let out = svgOpen(width, height, options.title) + titleText(width, options.title);

  const [v0, v1] = extent(options.series.flatMap((s) => s.values));
  if (options.categories.length === 0 || Number.isNaN(v0)) return out + noData(width, height) + '</svg>';

  const groupWidth = (area.right - area.left) / options.categories.length;
  // Category names wrap onto several lines when they are wider than their group (7 px a character).
  const maxChars = Math.max(4, Math.floor(groupWidth / 7));
  const labelLines = options.categories.map((c) => wrapLabel(c, maxChars));
  // A single word still too wide for its group is set smaller (down to 8 px) rather than overlap.
  const labelSize = labelLines.map((lines) => {
    const longest = Math.max(...lines.map((l) => l.length));
    return longest > maxChars ? Math.max(8, Math.floor((12 * maxChars) / longest)) : undefined;
  });
  area.bottom -= (Math.max(...labelLines.map((l) => l.length)) - 1) * LINE_HEIGHT;
  const ys = linearScale(Math.min(0, v0), Math.max(0, v1), area.bottom, area.top);
  const format = options.formatY ?? formatNumber;
  out += yAxis(ys, area, options.yLabel, options.formatY);

  const inner = groupWidth * 0.8;
  const barWidth = inner / Math.max(1, options.series.length);
  const showValues = options.valueLabels ?? options.categories.length * options.series.length <= 24;
  const zero = ys.map(0);

  options.series.forEach((series, si) => {
    const color = seriesColor(si, series.color);
    out += `<g data-series="${escapeXml(series.name)}">`;
    options.categories.forEach((category, ci) => {
      const value = series.values[ci];
      if (value === undefined || !Number.isFinite(value)) return;
      const x = area.left + ci * groupWidth + (groupWidth - inner) / 2 + si * barWidth;
      const y = ys.map(value);
      const top = Math.min(y, zero);
      const h = Math.abs(zero - y);
      out +=
        `<rect class="bar" x="${px(x)}" y="${px(top)}" width="${px(Math.max(1, barWidth - 2))}" height="${px(h)}" fill="${color}">` +
        `<title>${escapeXml(`${category} / ${series.name}: ${format(value)}`)}</title></rect>`;
      if (showValues) {
        const ly = value >= 0 ? top - 3 : top + h + 11;
        out += `<text x="${px(x + barWidth / 2 - 1)}" y="${px(ly)}" text-anchor="middle" font-size="10" fill="#333">${escapeXml(format(value))}</text>`;
      }
    });
    out += '</g>';
  });
  out += xAxis(
    options.categories.map((c, i) => ({
      x: area.left + (i + 0.5) * groupWidth,
      label: c,
      lines: labelLines[i]!,
      ...(labelSize[i] === undefined ? {} : { fontSize: labelSize[i] }),
    })),
    area,
    options.xLabel,
  );
  out += legend(options.series, area, height - 14);
  return out + '</svg>';
}
