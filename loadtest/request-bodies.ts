// Request bodies for the load generator, built once before the run from real rows: a CSV the user
// gives, or rows drawn from the model's metadata (`GET /v2/models/{m}`: F features) with a fixed
// seed. Bodies are pre-serialized so the generator spends no time on JSON while it measures.
import { readFileSync } from 'node:fs';
import { parseCsvText } from '../shared/csv/csv-records.js';
import { BadInputError } from '../shared/errors/grove-error.js';
import { mulberry32 } from '../shared/random/seeded-rng.js';
import { notNumericError, textNumber } from '../shared/runtime/values/feature-value.js';
import type { Protocol } from './options.js';

export interface RowSet {
  featureNames: string[];
  /** Row-major values; NaN = missing. */
  rows: number[][];
}

/** The seeded generator (shared/random): synthetic rows and user ids repeat run to run. */
export { mulberry32 as seededRandom } from '../shared/random/seeded-rng.js';

/** Parses a numeric CSV with a header row (the one CSV reader and value rule: docs/formats.md). */
export function parseCsvRows(text: string): RowSet {
  const records = parseCsvText(text);
  if (records.length < 2) throw new BadInputError('the CSV needs a header row and at least one data row');
  const featureNames = records[0]!.map((h) => h.trim());
  const rows: number[][] = [];
  for (let i = 1; i < records.length; i++) {
    const fields = records[i]!;
    if (fields.length !== featureNames.length) {
      throw new BadInputError(
        `CSV row ${i} has ${fields.length} fields, the header has ${featureNames.length}`,
        'GROVE_ERR_BAD_CSV',
      );
    }
    rows.push(
      fields.map((f, j) => {
        const v = textNumber(f);
        if (v === undefined) throw notNumericError(f, `CSV row ${i}, column '${featureNames[j]}'`);
        return v;
      }),
    );
  }
  return { featureNames, rows };
}

export function readCsvRows(path: string): RowSet {
  return parseCsvRows(readFileSync(path, 'utf8'));
}

/** `count` rows of standard-normal values (Box-Muller), the scale the demo models were trained on. */
export function syntheticRows(featureNames: string[], count: number, seed: number): RowSet {
  const random = mulberry32(seed);
  const rows: number[][] = [];
  for (let r = 0; r < count; r++) {
    const row: number[] = [];
    for (let f = 0; f < featureNames.length; f++) {
      const u = 1 - random();
      const v = random();
      // Rounded to 4 decimals: realistic payload sizes, not 17-digit floats.
      row.push(Math.round(Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v) * 1e4) / 1e4);
    }
    rows.push(row);
  }
  return { featureNames, rows };
}

/**
 * One request body for `rowsPerRequest` rows starting at `start` (wrapping around the set).
 * v1 sends named features and leaves a missing value out (a missing named feature is a missing
 * value: docs/api.md); v2 sends an FP64 tensor of shape [N, F] with null for a missing value.
 */
export function buildBody(set: RowSet, protocol: Protocol, start: number, rowsPerRequest: number): string {
  const n = set.rows.length;
  const picked: number[][] = [];
  for (let i = 0; i < rowsPerRequest; i++) picked.push(set.rows[(start + i) % n]!);
  if (protocol === 'v1') {
    const instances = picked.map((row) => {
      const obj: Record<string, number> = {};
      row.forEach((v, j) => {
        if (!Number.isNaN(v)) obj[set.featureNames[j]!] = v;
      });
      return obj;
    });
    return JSON.stringify({ instances });
  }
  const data: Array<number | null> = [];
  for (const row of picked) for (const v of row) data.push(Number.isNaN(v) ? null : v);
  return JSON.stringify({
    inputs: [{ name: 'input-0', shape: [rowsPerRequest, set.featureNames.length], datatype: 'FP64', data }],
  });
}

/** A pool of distinct bodies cycling through the rows, so requests are not all the same row. */
export function buildBodyPool(
  set: RowSet,
  protocol: Protocol,
  rowsPerRequest: number,
  poolSize = 64,
): string[] {
  if (set.rows.length === 0) throw new BadInputError('no rows to send');
  const size = Math.max(1, Math.min(poolSize, Math.ceil(set.rows.length / rowsPerRequest)));
  const pool: string[] = [];
  for (let i = 0; i < size; i++) pool.push(buildBody(set, protocol, i * rowsPerRequest, rowsPerRequest));
  return pool;
}
