// A whole CSV file as a table of strings, for the commands that need every row at once (profile,
// compare, ab-report: bootstrap intervals, label columns): read through the one streaming reader
// (csv-stream.ts), every record as wide as the header, values left as text until a caller asks for
// the model's features (`tableFeatures`) or a column (`column`).
import { BadInputError, GroveError } from '../errors/grove-error.js';
import { forEachCsvRecord } from './csv-records.js';
import type { TextSource } from './csv-stream.js';
import { fileText, openCsv } from './csv-stream.js';
import { denseRecord, type FeatureColumnsOptions, featureColumns } from './feature-columns.js';

export interface CsvTable {
  header: string[];
  rows: string[][];
  /** The line each row starts on (for error messages). */
  lines: number[];
}

/** Reads a CSV stream into a table; a record of another width than the header is GROVE_ERR_BAD_CSV. */
export async function readCsvTable(source: TextSource): Promise<CsvTable> {
  const csv = await openCsv(source);
  const table: CsvTable = { header: csv.header, rows: [], lines: [] };
  const width = csv.header.length;
  for await (const chunk of csv.chunks) {
    forEachCsvRecord(chunk.text, chunk.firstLine, (fields, line) => {
      if (fields.length !== width) {
        throw new BadInputError(
          `CSV line ${line} has ${fields.length} fields; the header has ${width}`,
          'GROVE_ERR_BAD_CSV',
        );
      }
      table.rows.push(fields);
      table.lines.push(line);
    });
  }
  return table;
}

/** `readCsvTable` over a file; an unreadable file is GROVE_ERR_BAD_INPUT naming it. */
export async function readCsvFile(path: string): Promise<CsvTable> {
  try {
    return await readCsvTable(fileText(path));
  } catch (err) {
    if (err instanceof GroveError) throw err;
    throw new BadInputError(`cannot read ${path}: ${(err as Error).message}`);
  }
}

/** A small CSV text (tests, literals) as a table. */
export function parseCsvTable(text: string): Promise<CsvTable> {
  return readCsvTable([text]);
}

/**
 * The model's features from a table as dense row-major values (NaN = missing), columns matched
 * as feature-columns.ts says; evaluation data keeps other columns, so they are left out by default.
 */
export function tableFeatures(
  table: CsvTable,
  featureNames: readonly string[],
  opts: FeatureColumnsOptions = { extraColumns: 'ignore' },
): Float64Array {
  const columns = featureColumns(table.header, featureNames, opts);
  const F = featureNames.length;
  const out = new Float64Array(table.rows.length * F).fill(Number.NaN);
  for (let r = 0; r < table.rows.length; r++)
    denseRecord(table.rows[r]!, table.lines[r]!, table.header, columns, out, r * F);
  return out;
}

/** A column's text values (trimmed), or GROVE_ERR_BAD_INPUT when the header lacks it. */
export function column(table: CsvTable, name: string): string[] {
  const c = table.header.indexOf(name);
  if (c < 0) throw new BadInputError(`the CSV has no column '${name}' (columns: ${table.header.join(', ')})`);
  return table.rows.map((r) => r[c]!.trim());
}
