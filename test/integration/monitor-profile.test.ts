// `grove profile` and `grove convert --profile` as users run them: categorical features found from
// the model's own categorical splits, numeric bin edges equal to numpy-style quantiles of the
// training column (computed here independently), shares that add up, and the profile written
// beside a converted model.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli', 'grove.js');
const FX = join(ROOT, 'test', 'fixtures', 'xgboost', 'xgb-categorical');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'grove-profile-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function grove(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
}

/** numpy.quantile(x, q) with the default linear method. */
function quantile(sorted: number[], q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

describe('grove profile', () => {
  it('profiles numeric and categorical features and the output', () => {
    const out = join(dir, 'profile.json');
    const r = grove(
      'profile',
      '--model',
      join(FX, 'model.json'),
      '--data',
      join(FX, 'test.csv'),
      '--output',
      out,
    );
    expect(r.status).toBe(0);
    const p = JSON.parse(readFileSync(out, 'utf8'));
    const lines = readFileSync(join(FX, 'test.csv'), 'utf8').trim().split('\n');
    const header = lines[0]!.split(',');
    const cols = header.map((_, f) => lines.slice(1).map((l) => l.split(',')[f]!));
    expect(p.rows).toBe(lines.length - 1);
    expect(p.features.map((f: { name: string }) => f.name)).toEqual(header);
    // The fixture's categorical columns (XGBoost split_type 1): f6, f7 with codes 0..11.
    const kinds = Object.fromEntries(p.features.map((f: { name: string; type: string }) => [f.name, f.type]));
    expect(kinds.f6).toBe('categorical');
    expect(kinds.f7).toBe('categorical');
    expect(kinds.f0).toBe('numeric');
    for (let f = 0; f < header.length; f++) {
      const feat = p.features[f];
      const present = cols[f]!.filter((v) => v !== '').map(Number);
      expect(feat.missing_ratio).toBeCloseTo((cols[f]!.length - present.length) / cols[f]!.length, 12);
      expect(feat.shares.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 12);
      if (feat.type === 'numeric') {
        const sorted = [...present].sort((a, b) => a - b);
        expect(feat.min).toBe(sorted[0]);
        expect(feat.max).toBe(sorted[sorted.length - 1]);
        expect(feat.edges.length).toBe(9);
        for (const [i, e] of (feat.edges as number[]).entries()) {
          expect(e).toBeCloseTo(quantile(sorted, (i + 1) / 10), 12);
        }
      } else {
        expect(feat.values).toEqual([...new Set(present)].sort((a, b) => a - b));
        const share0 = present.filter((v) => v === feat.values[0]).length / present.length;
        expect(feat.shares[0]).toBeCloseTo(share0, 12);
      }
    }
    expect(p.prediction.name).toBe('__prediction__');
    expect(p.prediction.shares.length).toBe(p.prediction.edges.length + 1);
  });

  it('writes the profile beside a converted model, and exits 2 on bad input', () => {
    const r = grove(
      'convert',
      '--model',
      join(FX, 'model.json'),
      '--output',
      join(dir, 'model.grove'),
      '--profile',
      join(FX, 'test.csv'),
    );
    expect(r.status).toBe(0);
    expect(existsSync(join(dir, 'model.grove'))).toBe(true);
    const p = JSON.parse(readFileSync(join(dir, 'profile.json'), 'utf8'));
    expect(p.format).toBe('grove-profile');
    expect(p.features.length).toBe(8);
    expect(grove('profile', '--model', join(FX, 'model.json'), '--data', join(dir, 'nope.csv')).status).toBe(
      2,
    );
    expect(grove('profile', '--model', join(FX, 'model.json')).status).toBe(2);
  });
});
