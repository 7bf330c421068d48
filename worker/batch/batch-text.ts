// Parsing and formatting the rows of a streamed batch (`:batch`, DESIGN.md HTTP API): CSV with a
// header row (an empty field is missing, as in `grove predict`) or NDJSON (one array or
// name -> value object per line). Pure functions over one chunk of complete lines, so a pool thread
// can parse, predict and format a chunk while the event loop keeps serving one-row requests.
import { BadInputError, UnknownFeatureError } from '../../shared/errors/grove-error.js';
import { numericValue } from '../protocol/numeric-value.js';

export type BatchFormat = 'csv' | 'ndjson';

/** Splits one CSV line into fields; double-quoted fields may hold commas and "" escapes. */
export function splitCsvLine(line: string): string[] {
  if (line.indexOf('"') === -1) return line.split(',');
  const out: string[] = [];
  let i = 0;
  let field = '';
  let quoted = false;
  while (i < line.length) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"') {
        if (line[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(field);
      field = '';
    } else field += c;
    i++;
  }
  out.push(field);
  return out;
}

/**
 * Maps a CSV header to feature columns: `columns[j]` is the feature index of CSV column j.
 * Every header name must be a feature (unknown names are a 400 naming them); absent features are
 * missing in every row.
 */
export function csvColumns(headerLine: string, featureIndex: ReadonlyMap<string, number>): Int32Array {
  const names = splitCsvLine(headerLine.replace(/\r$/, '')).map((s) => s.trim());
  const columns = new Int32Array(names.length);
  const unknown: string[] = [];
  const seen = new Set<string>();
  for (let j = 0; j < names.length; j++) {
    const idx = featureIndex.get(names[j]!);
    if (idx === undefined) unknown.push(names[j]!);
    else if (seen.has(names[j]!))
      throw new BadInputError(`CSV header repeats column '${names[j]}'`, 'GROVE_ERR_BAD_CSV');
    else {
      seen.add(names[j]!);
      columns[j] = idx;
    }
  }
  if (unknown.length > 0) throw new UnknownFeatureError(unknown, featureIndex.keys());
  return columns;
}

/** Lines of a chunk, without a trailing empty line and without '\r'. */
export function chunkLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.endsWith('\r')) lines[i] = l.slice(0, -1);
  }
  return lines;
}

/** Parses CSV data lines into dense rows (NaN = missing). `firstLine` numbers errors. */
export function parseCsvRows(
  lines: string[],
  columns: Int32Array,
  numFeatures: number,
  firstLine: number,
): Float64Array {
  const input = new Float64Array(lines.length * numFeatures).fill(Number.NaN);
  for (let r = 0; r < lines.length; r++) {
    const fields = splitCsvLine(lines[r]!);
    if (fields.length !== columns.length) {
      throw new BadInputError(
        `CSV line ${firstLine + r} has ${fields.length} fields; the header has ${columns.length}`,
        'GROVE_ERR_BAD_CSV',
      );
    }
    const base = r * numFeatures;
    for (let j = 0; j < fields.length; j++) {
      const f = fields[j]!;
      input[base + columns[j]!] = f === '' ? Number.NaN : csvNumber(f, firstLine + r);
    }
  }
  return input;
}

function csvNumber(f: string, line: number): number {
  const n = Number(f);
  if (!Number.isNaN(n) && f.trim() !== '') return n;
  const t = f.trim().toLowerCase();
  if (t === '' || t === 'nan' || t === 'null' || t === 'na') return Number.NaN;
  throw new BadInputError(`CSV line ${line}: '${f.slice(0, 40)}' is not a number`, 'GROVE_ERR_NOT_NUMERIC');
}

export interface NdjsonRows {
  /** Dense rows for dense models, else null. */
  input: Float64Array | null;
  /** The parsed objects (sparse models; dense models when rows were objects). */
  named: Record<string, unknown>[] | null;
  rows: number;
}

/**
 * Parses NDJSON lines: arrays are dense rows of numFeatures values, objects are named rows
 * (absent or null = missing). Sparse models take objects, or lists for FeatureHasher(input_type=
 * 'string' | 'pair'), as they are: the model checks them.
 */
export function parseNdjsonRows(
  lines: string[],
  featureIndex: ReadonlyMap<string, number>,
  numFeatures: number,
  sparse: boolean,
  firstLine: number,
): NdjsonRows {
  const rows = lines.length;
  const input = sparse ? null : new Float64Array(rows * numFeatures).fill(Number.NaN);
  let named: Record<string, unknown>[] | null = null;
  for (let r = 0; r < rows; r++) {
    let v: unknown;
    try {
      v = JSON.parse(lines[r]!);
    } catch {
      throw new BadInputError(`NDJSON line ${firstLine + r} is not valid JSON`, 'GROVE_ERR_BAD_JSON');
    }
    if (sparse) {
      // Objects, or lists for FeatureHasher(input_type='string' | 'pair') (the model checks them).
      if (v === null || typeof v !== 'object') {
        throw new BadInputError(
          `NDJSON line ${firstLine + r}: this model takes name -> value objects`,
          'GROVE_ERR_BAD_INPUT',
        );
      }
      (named ??= []).push(v as Record<string, unknown>);
      continue;
    }
    const base = r * numFeatures;
    if (Array.isArray(v)) {
      if (v.length !== numFeatures) {
        throw new BadInputError(
          `NDJSON line ${firstLine + r} has ${v.length} values; the model takes ${numFeatures}`,
          'GROVE_ERR_FEATURE_COUNT',
        );
      }
      for (let j = 0; j < numFeatures; j++) input![base + j] = numericValue(v[j], firstLine + r);
    } else if (v !== null && typeof v === 'object') {
      let unknown: string[] | null = null;
      for (const k of Object.keys(v)) {
        const idx = featureIndex.get(k);
        if (idx === undefined) (unknown ??= []).push(k);
        else input![base + idx] = numericValue((v as Record<string, unknown>)[k], firstLine + r);
      }
      if (unknown !== null) throw new UnknownFeatureError(unknown, featureIndex.keys());
    } else {
      throw new BadInputError(
        `NDJSON line ${firstLine + r} must be an array or an object`,
        'GROVE_ERR_BAD_INPUT',
      );
    }
  }
  return { input, named, rows };
}

/** One CSV line per row; numbers at full precision (shortest round-trip form). */
export function formatCsv(out: Float64Array, rows: number, numOutputs: number): string {
  let s = '';
  for (let r = 0; r < rows; r++) {
    const base = r * numOutputs;
    s += String(out[base]);
    for (let k = 1; k < numOutputs; k++) s += ',' + String(out[base + k]);
    s += '\n';
  }
  return s;
}

/** One JSON object per row, keyed by the output names. NaN/Infinity become null (JSON has neither). */
export function formatNdjson(out: Float64Array, rows: number, outputNames: readonly string[]): string {
  const keys = outputNames.map((n) => JSON.stringify(n) + ':');
  const k = keys.length;
  let s = '';
  for (let r = 0; r < rows; r++) {
    const base = r * k;
    s += '{' + keys[0] + jsonNumber(out[base]!);
    for (let j = 1; j < k; j++) s += ',' + keys[j] + jsonNumber(out[base + j]!);
    s += '}\n';
  }
  return s;
}

export function jsonNumber(x: number): string {
  return Number.isFinite(x) ? String(x) : 'null';
}
