// CSV columns -> a model's features, and CSV records -> dense rows (docs/formats.md, "CSV input"):
// - columns are matched to the model's feature names; a feature no column names is missing in every
//   row; a name may appear once;
// - a column that names no feature is an error where a misspelt name must not pass silently
//   (`grove predict`, `:batch`), and is left out where data carries other columns (the label, ids,
//   a feature only the other model of `grove compare` has);
// - a header that names none of the features but has exactly as many columns (after `exclude`) is
//   read by position: a model trained on a bare array knows its features only as f0..fN-1.
// Values follow the one feature-value rule (shared/runtime/values/feature-value.ts).
import { isAscii } from 'node:buffer';
import { BadInputError, UnknownFeatureError } from '../errors/grove-error.js';
import { notNumericError, textNumber } from '../runtime/values/feature-value.js';
import { countLines, forEachCsvRecord } from './csv-records.js';
import { wasmDenseRows } from './number-reader.js';

export interface FeatureColumnsOptions {
  /** What a column naming no feature is: 'error' (the default) or 'ignore'. */
  extraColumns?: 'error' | 'ignore';
  /** Columns that are never features (e.g. the label), whatever their name. */
  exclude?: readonly string[];
}

/** For each CSV column, the index of the feature it holds, or -1 when it is not read. */
export function featureColumns(
  header: readonly string[],
  featureNames: readonly string[],
  opts: FeatureColumnsOptions = {},
): Int32Array {
  const index = new Map<string, number>();
  featureNames.forEach((n, i) => {
    if (!index.has(n)) index.set(n, i);
  });
  const exclude = opts.exclude ?? [];
  const columns = new Int32Array(header.length).fill(-1);
  const seen = new Set<string>();
  const unknown: string[] = [];
  let read = 0;
  let known = 0;
  for (let j = 0; j < header.length; j++) {
    const name = header[j]!.trim();
    if (exclude.includes(name)) continue;
    read++;
    const f = index.get(name);
    if (f === undefined) {
      unknown.push(name);
      continue;
    }
    if (seen.has(name)) throw new BadInputError(`CSV header repeats column '${name}'`, 'GROVE_ERR_BAD_CSV');
    seen.add(name);
    columns[j] = f;
    known++;
  }
  if (known === 0 && read === featureNames.length && read > 0) {
    let position = 0;
    for (let j = 0; j < header.length; j++) if (!exclude.includes(header[j]!.trim())) columns[j] = position++;
    return columns;
  }
  if (unknown.length > 0 && (opts.extraColumns ?? 'error') === 'error')
    throw new UnknownFeatureError(unknown, featureNames);
  if (known === 0 && featureNames.length > 0) {
    throw new BadInputError(
      `the CSV header names none of the model's ${featureNames.length} features`,
      'GROVE_ERR_BAD_CSV',
    );
  }
  return columns;
}

const utf8 = new TextDecoder('utf-8');

export interface DenseRows {
  /** Row-major, `rows * numFeatures` values; NaN = missing. */
  data: Float64Array;
  rows: number;
}

/**
 * Reads the data records of `text` (complete records starting on line `firstLine`, no header)
 * into dense rows of `numFeatures` values. `header` names the columns for error messages. `text`
 * may be UTF-8 bytes: quote-free ASCII bytes go to the number reader as they are (no decoding, no
 * re-encoding), anything else is decoded first.
 */
export function csvDenseRows(
  input: string | Buffer,
  firstLine: number,
  header: readonly string[],
  columns: Int32Array,
  numFeatures: number,
): DenseRows {
  const text =
    typeof input === 'string' || (isAscii(input) && input.indexOf(34) === -1) ? input : utf8.decode(input);
  // Records never outnumber lines; usually they are equal, so no copy is made below.
  const capacity =
    countLines(text) + (text[text.length - 1] === (typeof text === 'string' ? '\n' : 10) ? 0 : 1);
  let data = new Float64Array(capacity * numFeatures).fill(Number.NaN);
  // Quote-free text (the usual case) goes through the WebAssembly number reader, which reads the
  // same values (number-reader.ts); quoted text through csv-parse.
  let rows =
    typeof text !== 'string' || text.indexOf('"') === -1
      ? wasmDenseRows(text, firstLine, columns, numFeatures, data, (fields, line, base) =>
          denseRecord(fields, line, header, columns, data, base),
        )
      : -1;
  if (rows < 0) {
    rows = 0;
    forEachCsvRecord(typeof text === 'string' ? text : text.toString('latin1'), firstLine, (fields, line) => {
      denseRecord(fields, line, header, columns, data, rows * numFeatures);
      rows++;
    });
  }
  if (rows < capacity) data = data.slice(0, rows * numFeatures);
  return { data, rows };
}

/**
 * Writes one record's values into `data` from `base` by `columns` (other features keep what is
 * there: NaN in a fresh row). A record of another width than the header is GROVE_ERR_BAD_CSV.
 */
export function denseRecord(
  fields: readonly string[],
  line: number,
  header: readonly string[],
  columns: Int32Array,
  data: Float64Array,
  base: number,
): void {
  const width = columns.length;
  if (fields.length !== width) {
    throw new BadInputError(
      `CSV line ${line} has ${fields.length} fields; the header has ${width}`,
      'GROVE_ERR_BAD_CSV',
    );
  }
  for (let j = 0; j < width; j++) {
    const f = columns[j]!;
    if (f < 0) continue;
    const x = textNumber(fields[j]!);
    if (x === undefined) throw notNumericError(fields[j], `CSV line ${line}, column '${header[j]}'`);
    data[base + f] = x;
  }
}
