// Parsing and formatting the rows of a streamed batch (`:batch`, docs/api.md): NDJSON (one array
// or name -> value object per line) here; CSV chunks go through the one CSV reader
// (shared/csv). Pure functions over one chunk of complete lines, so a pool thread can parse,
// predict and format a chunk while the event loop keeps serving one-row requests.
import { BadInputError, UnknownFeatureError } from '../../shared/errors/grove-error.js';
import { jsonValueNumber, notNumericError } from '../../shared/runtime/values/feature-value.js';

export type BatchFormat = 'csv' | 'ndjson';

/** Lines of an NDJSON chunk, without a trailing empty line and without '\r'. */
export function chunkLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.endsWith('\r')) lines[i] = l.slice(0, -1);
  }
  return lines;
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
      for (let j = 0; j < numFeatures; j++) input![base + j] = lineValue(v[j], firstLine + r);
    } else if (v !== null && typeof v === 'object') {
      let unknown: string[] | null = null;
      for (const k of Object.keys(v)) {
        const idx = featureIndex.get(k);
        if (idx === undefined) (unknown ??= []).push(k);
        else input![base + idx] = lineValue((v as Record<string, unknown>)[k], firstLine + r);
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

function lineValue(v: unknown, line: number): number {
  const x = jsonValueNumber(v);
  if (x === undefined) throw notNumericError(v, `NDJSON line ${line}`);
  return x;
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
