// Test helper: the fixtures in test/fixtures/ (real models with their library's own outputs) and
// the tolerance they are checked with. test.csv has a header f0..fN and an empty field for NaN;
// pred.csv / raw.csv have no header; test.ndjson is one object per line. Read independently of
// grove's own CSV reader, so a bug there cannot hide in the expected values.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
