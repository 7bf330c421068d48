// A small CSV reader for the evaluation commands (profile, compare, ab-report): a header row of
// names, then rows; an empty field (or NaN/nan/NA) is a missing value, as `grove predict` reads it
// (DESIGN.md, CLI). Quoted fields ("a,b", "" for a quote) are understood; values stay strings until
// a caller asks for a numeric column.
import { readFile } from 'node:fs/promises';
import { BadInputError } from '../errors/grove-error.js';

export interface CsvTable {
  header: string[];
  rows: string[][];
}

export function parseCsv(text: string): CsvTable {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let inQuotes = false;
  let fieldStarted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else field += c;
      continue;
    }
    if (c === '"' && !fieldStarted) {
      inQuotes = true;
      fieldStarted = true;
    } else if (c === ',') {
      record.push(field);
      field = '';
      fieldStarted = false;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      if (record.length > 1 || record[0] !== '') records.push(record);
      record = [];
      field = '';
      fieldStarted = false;
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  if (records.length === 0) throw new BadInputError('CSV has no header row');
  const header = records[0]!.map((h) => h.trim());
  return { header, rows: records.slice(1) };
}

export async function readCsv(path: string): Promise<CsvTable> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new BadInputError(`cannot read ${path}: ${(err as Error).message}`);
  }
  return parseCsv(text);
}

/** A field as a number: empty / NaN / NA / null is NaN (missing); inf and -inf are infinities. */
export function parseNumber(s: string | undefined): number {
  if (s === undefined) return Number.NaN;
  const t = s.trim();
  if (t === '' || t === 'NaN' || t === 'nan' || t === 'NA' || t === 'null' || t === 'None') return Number.NaN;
  if (t === 'inf' || t === 'Infinity' || t === '+inf') return Number.POSITIVE_INFINITY;
  if (t === '-inf' || t === '-Infinity') return Number.NEGATIVE_INFINITY;
  const v = Number(t);
  if (Number.isNaN(v)) throw new BadInputError(`'${s}' is not a number`);
  return v;
}

/**
 * Dense row-major matrix of the model's features from a table: columns are matched by name; when
 * the table names none of the model's features (e.g. the model's names are f0..fN-1 and the file
 * uses others) and has exactly the right number of columns (after removing `exclude`), positions are used.
 */
export function featureMatrix(
  table: CsvTable,
  featureNames: readonly string[],
  exclude: readonly string[] = [],
): Float64Array {
  const cols = featureNames.map((n) => table.header.indexOf(n));
  if (cols.every((c) => c < 0)) {
    const positional = table.header.map((h, i) => (exclude.includes(h) ? -1 : i)).filter((i) => i >= 0);
    if (positional.length !== featureNames.length) {
      throw new BadInputError(`the CSV header names none of the model's ${featureNames.length} features`);
    }
    for (let f = 0; f < cols.length; f++) cols[f] = positional[f]!;
  }
  const F = featureNames.length;
  const out = new Float64Array(table.rows.length * F);
  for (let r = 0; r < table.rows.length; r++) {
    const row = table.rows[r]!;
    for (let f = 0; f < F; f++) {
      const c = cols[f]!;
      out[r * F + f] = c < 0 ? Number.NaN : parseNumber(row[c]);
    }
  }
  return out;
}

/** A column's raw strings, or throws when the header lacks it. */
export function column(table: CsvTable, name: string): string[] {
  const c = table.header.indexOf(name);
  if (c < 0) throw new BadInputError(`the CSV has no column '${name}' (columns: ${table.header.join(', ')})`);
  return table.rows.map((r) => (r[c] ?? '').trim());
}
