// Test support for the tree parsers: read a fixture folder's test.csv (header f0..fN, empty field =
// NaN) and pred.csv / raw.csv (no header), and compare predictions with the fixtures' tolerance:
// 1e-6 absolute, or 1e-6 relative for values above 1 in magnitude.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

export function fixturePath(rel: string): string {
  return FIXTURES + rel;
}

export interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

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
