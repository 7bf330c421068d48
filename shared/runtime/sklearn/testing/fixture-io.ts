// Test helpers: read a fixture's test rows and expected outputs (pred.csv / raw.csv have no header;
// test.csv has a header and empty fields for missing values; test.ndjson is one object per line).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const SKLEARN_FIXTURES = join(import.meta.dirname, '../../../../test/fixtures/sklearn');

export function readDenseRows(dir: string): { names: string[]; rows: number; data: Float64Array } {
  const lines = readFileSync(join(dir, 'test.csv'), 'utf8').trim().split('\n');
  const names = lines[0]!.split(',');
  const data = new Float64Array((lines.length - 1) * names.length);
  for (let r = 1; r < lines.length; r++) {
    const cells = lines[r]!.split(',');
    for (let c = 0; c < names.length; c++)
      data[(r - 1) * names.length + c] = cells[c] === '' ? Number.NaN : Number(cells[c]);
  }
  return { names, rows: lines.length - 1, data };
}

export function readNamedRows(dir: string): Record<string, unknown>[] {
  return readFileSync(join(dir, 'test.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export function readExpected(
  dir: string,
  file: 'pred.csv' | 'raw.csv',
): { cols: number; values: Float64Array } | null {
  const p = join(dir, file);
  if (!existsSync(p)) return null;
  const lines = readFileSync(p, 'utf8').trim().split('\n');
  const cols = lines[0]!.split(',').length;
  return { cols, values: Float64Array.from(lines.flatMap((l) => l.split(',').map(Number))) };
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
