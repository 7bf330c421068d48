// The CSV side of jobs, kept in this one file so it follows whatever the project's CSV reader in
// shared/csv does: the header row, and a row's key column taken out (the workers get the other
// columns, which are the model's features). Rows are lines, as the workers' `:batch` reads them
// (docs/api.md, Batch streaming): a field cannot hold a line break.
import { splitCsvLine } from '../../shared/csv/read-rows.js';

export function parseCsvHeader(line: string): string[] {
  return splitCsvLine(line).map((h) => h.trim());
}

/** One field as CSV writes it: quoted when it holds a comma, a quote or a line break. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

export function joinCsv(fields: readonly string[]): string {
  return fields.map(csvField).join(',');
}

/**
 * Splits the key field (column `index`) out of a row: the key, and the row without it; null when
 * the row has no such column. A line without quotes is cut in place (no field array).
 */
export function takeCsvKey(line: string, index: number): { key: string; rest: string } | null {
  if (line.indexOf('"') !== -1) {
    const fields = splitCsvLine(line);
    if (fields.length <= index) return null;
    const key = fields[index]!;
    fields.splice(index, 1);
    return { key, rest: joinCsv(fields) };
  }
  let start = 0;
  for (let i = 0; i < index; i++) {
    const c = line.indexOf(',', start);
    if (c === -1) return null;
    start = c + 1;
  }
  let end = line.indexOf(',', start);
  if (end === -1) end = line.length;
  const key = line.slice(start, end);
  const rest = index === 0 ? line.slice(end + 1) : line.slice(0, start - 1) + line.slice(end);
  return { key, rest };
}
