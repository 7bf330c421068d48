// Tiny SVG string helpers shared by the charts: escaping, number formatting and the palette.
// Charts are plain strings so they can be inlined in an HTML report or written as .svg files
// without a DOM or any dependency.

/** Escapes text for SVG/XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;',
  );
}

/** Formats an axis or label value compactly: 12500 -> "12.5k", 0.000123 -> "0.000123". */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1e9) return trim(value / 1e9) + 'G';
  if (abs >= 1e6) return trim(value / 1e6) + 'M';
  if (abs >= 1e4) return trim(value / 1e3) + 'k';
  if (abs === 0) return '0';
  if (abs < 1e-3) return value.toExponential(1);
  return trim(value);
}

function trim(value: number): string {
  // Three significant digits are enough for an axis; drop trailing zeros ("2.50" -> "2.5").
  return String(Number(value.toPrecision(3)));
}

/** A colour-blind-friendly palette (Okabe & Ito, 2008), cycled by series index. */
export const PALETTE = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#D55E00',
  '#CC79A7',
  '#56B4E9',
  '#F0E442',
  '#000000',
];

export function seriesColor(index: number, explicit?: string): string {
  return explicit ?? PALETTE[index % PALETTE.length]!;
}

/** Rounds a coordinate to 0.1 px so the SVG stays short and stable across platforms. */
export function px(value: number): string {
  return String(Math.round(value * 10) / 10);
}

/** Opens the root element; every chart is a self-contained, accessible <svg>. */
export function svgOpen(width: number, height: number, title: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(title)}" ` +
    `font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">` +
    `<title>${escapeXml(title)}</title>` +
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`
  );
}
