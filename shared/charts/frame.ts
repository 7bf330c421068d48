// The parts every chart shares: plot area margins, axes with grid lines and labels, the legend
// and the "no data" placeholder.

import type { LinearScale } from './scale.js';
import { escapeXml, formatNumber, px, seriesColor } from './svg.js';

export interface ChartBase {
  title: string;
  /** Pixel size of the whole SVG; defaults 640 x 360. */
  width?: number;
  height?: number;
  xLabel?: string;
  yLabel?: string;
}

export interface PlotArea {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** Room for the title, the y tick labels, the x axis and a one-row legend under it. */
export function plotArea(width: number, height: number, hasLegend: boolean): PlotArea {
  return { left: 64, top: 36, right: width - 16, bottom: height - (hasLegend ? 64 : 44) };
}

export function titleText(width: number, title: string): string {
  return `<text x="${px(width / 2)}" y="22" text-anchor="middle" font-size="15" font-weight="600">${escapeXml(title)}</text>`;
}

/** Horizontal grid lines and labels for a y scale. */
export function yAxis(scale: LinearScale, area: PlotArea, label?: string, format = formatNumber): string {
  let out = '';
  for (const t of scale.ticks) {
    const y = px(scale.map(t));
    out += `<line x1="${area.left}" x2="${area.right}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`;
    out += `<text x="${area.left - 6}" y="${y}" dy="0.32em" text-anchor="end" fill="#444">${escapeXml(format(t))}</text>`;
  }
  out += `<line x1="${area.left}" x2="${area.left}" y1="${area.top}" y2="${area.bottom}" stroke="#888"/>`;
  if (label) {
    const cy = px((area.top + area.bottom) / 2);
    out += `<text transform="translate(14 ${cy}) rotate(-90)" text-anchor="middle" fill="#222">${escapeXml(label)}</text>`;
  }
  return out;
}

/** The x axis line, tick labels at given positions, and the axis label. */
export function xAxis(ticks: Array<{ x: number; label: string }>, area: PlotArea, label?: string): string {
  let out = `<line x1="${area.left}" x2="${area.right}" y1="${area.bottom}" y2="${area.bottom}" stroke="#888"/>`;
  for (const t of ticks) {
    const x = px(t.x);
    out += `<line x1="${x}" x2="${x}" y1="${area.bottom}" y2="${area.bottom + 4}" stroke="#888"/>`;
    out += `<text x="${x}" y="${area.bottom + 16}" text-anchor="middle" fill="#444">${escapeXml(t.label)}</text>`;
  }
  if (label) {
    out += `<text x="${px((area.left + area.right) / 2)}" y="${area.bottom + 32}" text-anchor="middle" fill="#222">${escapeXml(label)}</text>`;
  }
  return out;
}

/** One row of swatches under the plot, laid out left to right. */
export function legend(names: Array<{ name: string; color?: string }>, area: PlotArea, y: number): string {
  let x = area.left;
  let out = '';
  names.forEach((entry, i) => {
    const color = seriesColor(i, entry.color);
    out += `<rect x="${px(x)}" y="${px(y - 9)}" width="12" height="12" fill="${color}"/>`;
    out += `<text x="${px(x + 16)}" y="${px(y + 1)}" fill="#222">${escapeXml(entry.name)}</text>`;
    // Text width is not measurable without a DOM: 7 px per character is close for 12 px sans-serif.
    x += 32 + entry.name.length * 7;
  });
  return out;
}

export function noData(width: number, height: number): string {
  return `<text x="${px(width / 2)}" y="${px(height / 2)}" text-anchor="middle" fill="#888">no data</text>`;
}
