// Writing CSV: numbers in shortest round-trip form (String(x): nothing is lost, NaN and ±Infinity
// spelt so the reader reads them back), and a text field quoted when it must be (RFC 4180).

/** One line per row of `width` values. */
export function formatCsvRows(values: Float64Array, rows: number, width: number): string {
  let s = '';
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    s += String(values[base]);
    for (let k = 1; k < width; k++) s += ',' + String(values[base + k]);
    s += '\n';
  }
  return s;
}

/** A text field, double-quoted when it holds a comma, a quote or a line break. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}
