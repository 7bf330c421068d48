// The CSV side of jobs, kept in this one file so it follows whatever the project's CSV reader in
// shared/csv does: the header row, and a row's key column taken out (the workers get the other
// columns, which are the model's features). Rows are lines, as the workers' `:batch` reads them
// (docs/api.md, Batch streaming): a field cannot hold a line break.
import { csvField, csvLineFields } from '../../shared/csv/index.js';

export { csvField };

/** The header's names, trimmed; bad quoting is GROVE_ERR_BAD_CSV. */
export function parseCsvHeader(line: string): string[] {
  return csvLineFields(line).map((h) => h.trim());
}

export function joinCsv(fields: readonly string[]): string {
  return fields.map(csvField).join(',');
}

/**
 * Splits the key field (column `index`) out of a row: the key, and the row without it; null when
 * the row has no such column. A line without quotes is cut in place (no field array); bad quoting
 * is GROVE_ERR_BAD_CSV.
 */
export function takeCsvKey(line: string, index: number): { key: string; rest: string } | null {
  if (line.indexOf('"') !== -1) {
    const fields = csvLineFields(line);
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
