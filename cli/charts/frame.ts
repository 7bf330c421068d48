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

/** Pixel height of one line of 12 px tick-label text. */
export const LINE_HEIGHT = 13;

/**
 * Greedy word wrap of a tick label into lines of at most `maxChars` characters (a longer word
 * keeps its own line): long category names would otherwise run into their neighbours.
 */
export function wrapLabel(label: string, maxChars: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of label.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > maxChars) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line || lines.length === 0) lines.push(line);
  return lines;
}

/**
 * The x axis line, tick labels at given positions (`lines` = a label wrapped onto several lines),
 * and the axis label under the tallest tick label.
 */
export function xAxis(
  ticks: Array<{ x: number; label: string; lines?: string[]; fontSize?: number }>,
  area: PlotArea,
  label?: string,
): string {
  let out = `<line x1="${area.left}" x2="${area.right}" y1="${area.bottom}" y2="${area.bottom}" stroke="#888"/>`;
  let maxLines = 1;
  for (const t of ticks) {
    const x = px(t.x);
    const lines = t.lines ?? [t.label];
    maxLines = Math.max(maxLines, lines.length);
    const size = t.fontSize === undefined ? '' : ` font-size="${t.fontSize}"`;
    out += `<line x1="${x}" x2="${x}" y1="${area.bottom}" y2="${area.bottom + 4}" stroke="#888"/>`;
    if (lines.length === 1) {
      out += `<text x="${x}" y="${area.bottom + 16}" text-anchor="middle" fill="#444"${size}>${escapeXml(lines[0]!)}</text>`;
    } else {
      out += `<text x="${x}" y="${area.bottom + 16}" text-anchor="middle" fill="#444"${size}>`;
      lines.forEach((l, i) => {
        out += `<tspan x="${x}" dy="${i === 0 ? 0 : LINE_HEIGHT}">${escapeXml(l)}</tspan>`;
      });
      out += '</text>';
    }
  }
  if (label) {
    const y = area.bottom + 32 + (maxLines - 1) * LINE_HEIGHT;
    out += `<text x="${px((area.left + area.right) / 2)}" y="${y}" text-anchor="middle" fill="#222">${escapeXml(label)}</text>`;
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
