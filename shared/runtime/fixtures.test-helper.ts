// Test helper: the fixtures in test/fixtures/ (real models with their library's own outputs) and
// the tolerance they are checked with, and the ways a model is served that the checks go through. test.csv has a header f0..fN and an empty field for NaN;
// pred.csv / raw.csv have no header; test.ndjson is one object per line. Read independently of
// grove's own CSV reader, so a bug there cannot hide in the expected values.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { builtFile } from '../runtime-path.js';
import type { Model } from './model.js';

export const FIXTURES = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));
export const SKLEARN_FIXTURES = join(FIXTURES, 'sklearn');

export function fixturePath(rel: string): string {
  return FIXTURES + rel;
}

export interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

/** A numeric CSV; empty = NaN, inf / -inf = infinities. */
export function readCsv(path: string, header: boolean): Matrix {
  const lines = readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.length > 0);
  const body = header ? lines.slice(1) : lines;
  const cols = (body[0] ?? '').split(',').length;
  const data = new Float64Array(body.length * cols);
  body.forEach((line, r) => {
    const parts = line.split(',');
    for (let c = 0; c < cols; c++) {
      const s = parts[c] ?? '';
      data[r * cols + c] =
        s === '' ? Number.NaN : s === 'inf' ? Infinity : s === '-inf' ? -Infinity : Number(s);
    }
  });
  return { rows: body.length, cols, data };
}

/** A fixture folder's test.csv with its column names. */
export function readDenseRows(dir: string): { names: string[]; rows: number; data: Float64Array } {
  const names = readFileSync(join(dir, 'test.csv'), 'utf8').split(/\r?\n/, 1)[0]!.split(',');
  const m = readCsv(join(dir, 'test.csv'), true);
  return { names, rows: m.rows, data: m.data };
}

export function readNamedRows(dir: string): Record<string, unknown>[] {
  return readFileSync(join(dir, 'test.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** pred.csv or raw.csv of a fixture folder, or null when the folder has none. */
export function readExpected(
  dir: string,
  file: 'pred.csv' | 'raw.csv',
): { cols: number; values: Float64Array } | null {
  const p = join(dir, file);
  if (!existsSync(p)) return null;
  const m = readCsv(p, false);
  return { cols: m.cols, values: m.data };
}

/** Index of the first value outside tolerance, with a message, or null when all match. */
export function firstMismatch(got: Float64Array, want: Float64Array, tol = 1e-6): string | null {
  if (got.length !== want.length) return `length ${got.length} != ${want.length}`;
  for (let i = 0; i < got.length; i++) {
    const g = got[i] as number;
    const w = want[i] as number;
    const allowed = Math.abs(w) > 1 ? tol * Math.abs(w) : tol;
    // Equal values match, infinities included (|inf - inf| is NaN).
    if (g !== w && !(Math.abs(g - w) <= allowed) && !(Number.isNaN(g) && Number.isNaN(w)))
      return `value ${i}: got ${g}, want ${w}`;
  }
  return null;
}

/** Largest |a - b| (NaN if the lengths differ). */
export function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) return Number.NaN;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Largest |a - b| / max(1, |b|): absolute for probabilities, relative for large values. */
export function maxRelDiff(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) return Number.NaN;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return m;
}

/** A model's outputs for every row through each way it is served: batch, one row at a time, and
 *  named rows (a NaN feature left out: an absent name is a missing value). */
export function predictEveryWay(
  model: Model,
  x: Float64Array,
  rows: number,
  raw: boolean,
): { batch: Float64Array; one: Float64Array; byName: Float64Array } {
  const F = model.meta.numFeatures;
  const W = raw ? model.meta.rawOutputNames.length : model.meta.outputNames.length;
  const batch = new Float64Array(rows * W);
  model.predict(x, rows, batch, raw);
  const one = new Float64Array(rows * W);
  const o = new Float64Array(W);
  for (let r = 0; r < rows; r++) {
    model.predictOne(x.subarray(r * F, r * F + F), o, raw);
    one.set(o, r * W);
  }
  const named = Array.from({ length: rows }, (_, r) => {
    const row: Record<string, number> = {};
    model.meta.featureNames.forEach((n, f) => {
      const v = x[r * F + f]!;
      if (!Number.isNaN(v)) row[n] = v;
    });
    return row;
  });
  const byName = new Float64Array(rows * W);
  model.predictNamed(named, byName, raw);
  return { batch, one, byName };
}

/** Rebuilds `model` from its SharedArrayBuffer in a worker_thread (the built dist/) and predicts
 *  there; also returns the buffer's first four bytes as that thread sees them. */
export async function predictInThread(
  model: Model,
  x: Float64Array,
  rows: number,
): Promise<{ out: Float64Array; magic: number[] }> {
  const loadUrl = pathToFileURL(builtFile('shared/runtime/load.js')).href;
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     import(${JSON.stringify(loadUrl)}).then(({ modelFromBuffer }) => {
       const m = modelFromBuffer(workerData.sab);
       const out = new Float64Array(workerData.rows * m.meta.outputNames.length);
       m.predict(workerData.x, workerData.rows, out, false);
       parentPort.postMessage({ out, magic: Array.from(new Uint8Array(workerData.sab, 0, 4)) });
     });`,
    { eval: true, workerData: { sab: model.buffer, x, rows } },
  );
  try {
    return await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  } finally {
    await worker.terminate();
  }
}
