// Every fixture model with its rows as an application would pass them to `predict` (arrays in
// feature order with null for a missing value, or the NDJSON objects / lists of sparse models) and
// the library's expected outputs, for the library and exported-module tests (client/) and the
// client integration tests.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, firstMismatch, type Matrix, readCsv } from '../shared/runtime/fixtures.test-helper.js';

export interface ClientFixture {
  /** e.g. 'xgboost/xgb-binary-100x4/model.json' */
  name: string;
  dir: string;
  modelFile: string;
  /** The rows to predict (read on first use). */
  rows(): unknown[];
  pred(): Matrix;
  raw(): Matrix | null;
}

const ROOTS = ['xgboost', 'lightgbm', 'sklearn', 'derived', 'derived-sklearn'];
// One file per fixture is enough here (the runtime's own tests cover .pkl next to .joblib).
const MODEL_FILE = /^model\.(json|ubj|txt|joblib)$/;

function once<T>(f: () => T): () => T {
  let v: { value: T } | null = null;
  return () => (v ??= { value: f() }).value;
}

function denseRows(path: string): unknown[] {
  const m = readCsv(path, true);
  const rows: (number | null)[][] = [];
  for (let r = 0; r < m.rows; r++) {
    const row: (number | null)[] = new Array(m.cols);
    for (let c = 0; c < m.cols; c++) {
      const x = m.data[r * m.cols + c]!;
      row[c] = Number.isNaN(x) ? null : x;
    }
    rows.push(row);
  }
  return rows;
}

function ndjsonRows(path: string): unknown[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as unknown);
}

export function clientFixtures(): ClientFixture[] {
  const out: ClientFixture[] = [];
  for (const root of ROOTS) {
    for (const d of readdirSync(join(FIXTURES, root), { withFileTypes: true })) {
      if (!d.isDirectory()) continue;
      const dir = join(FIXTURES, root, d.name);
      const csv = join(dir, 'test.csv');
      const ndjson = join(dir, 'test.ndjson');
      for (const file of readdirSync(dir)
        .filter((f) => MODEL_FILE.test(f))
        .sort()) {
        out.push({
          name: `${root}/${d.name}/${file}`,
          dir,
          modelFile: join(dir, file),
          rows: once(() => (existsSync(csv) ? denseRows(csv) : ndjsonRows(ndjson))),
          pred: once(() => readCsv(join(dir, 'pred.csv'), false)),
          raw: once(() => (existsSync(join(dir, 'raw.csv')) ? readCsv(join(dir, 'raw.csv'), false) : null)),
        });
      }
    }
  }
  return out;
}

/** Predictions as `predict(rows)` returns them (a number or an array per row) -> row-major values. */
export function flatten(predictions: ArrayLike<unknown>): Float64Array {
  const values: number[] = [];
  for (let i = 0; i < predictions.length; i++) {
    const p = predictions[i];
    if (typeof p === 'number') values.push(p);
    else for (const x of p as Iterable<number>) values.push(x);
  }
  return Float64Array.from(values);
}

/** The first prediction off the fixture's expected output (1e-6, tree-fixtures.ts), or null. */
export function mismatch(predictions: ArrayLike<unknown>, want: Matrix): string | null {
  return firstMismatch(flatten(predictions), want.data);
}

/**
 * How far apart two arrays' values are at most, in units of Number.EPSILON times the larger of 1 and
 * the values (0: equal; Infinity when their lengths or NaNs differ). ECMA-262 leaves Math.exp and
 * Math.log "implementation-approximated" (sec-function-properties-of-the-math-object), and a
 * browser's V8 has differed from Node's in the last bit: a link function (sigmoid, softmax, and
 * 1 - p beside p) of the same margin may land an epsilon or two apart between engines, while the
 * margins themselves (sums of leaf values: plain IEEE arithmetic) must match to the bit. Scaled by 1
 * at least because probabilities are terms of 1 + e and 1 - p, whose rounding is absolute.
 */
export function epsilonsApart(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) !== Number.isNaN(y)) return Number.POSITIVE_INFINITY;
      continue;
    }
    if (x === y) continue;
    worst = Math.max(worst, Math.abs(x - y) / (Number.EPSILON * Math.max(1, Math.abs(x), Math.abs(y))));
  }
  return worst;
}
