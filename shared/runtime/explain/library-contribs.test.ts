// Contributions against the training libraries' own (XGBoost pred_contribs, LightGBM
// pred_contrib) on every fixture that has them, and each row's sums against the raw margins.
// The first ROWS rows of each fixture: the 500-tree ones take seconds per thousand rows here.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { readCsv } from '../fixtures.test-helper.js';
import { loadModel } from '../load.js';
import { contribFixtures, contribMismatch } from './contrib-fixtures.test-helper.js';
import { explainerFor } from './index.js';

const ROWS = 400;

describe('contributions equal the library’s own', () => {
  const fixtures = contribFixtures();
  test('every main XGBoost and LightGBM fixture takes part', () => {
    const names = fixtures.map((f) => f.name);
    for (const n of [
      'xgb-binary-100x4',
      'xgb-binary-500x8',
      'xgb-categorical',
      'xgb-multiclass',
      'xgb-regression',
    ])
      expect(names).toContain(`xgboost/${n}`);
    for (const n of [
      'lgb-binary-100x4',
      'lgb-categorical',
      'lgb-multiclass',
      'lgb-nan-unseen',
      'lgb-regression',
    ])
      expect(names).toContain(`lightgbm/${n}`);
    expect(names.filter((n) => n.startsWith('derived/')).length).toBeGreaterThan(30);
  });

  test.each(fixtures.map((f) => [f.name, f] as const))('%s', (_name, f) => {
    const model = loadModel(new Uint8Array(readFileSync(f.dir + f.modelFile)), { fileName: f.modelFile });
    const all = readCsv(`${f.dir}test.csv`, true);
    const wantAll = readCsv(f.contribs, false);
    expect(wantAll.rows).toBe(all.rows);
    const rows = Math.min(ROWS, all.rows);
    const x = { rows, data: all.data.subarray(0, rows * all.cols) };
    const want = { rows, cols: wantAll.cols, data: wantAll.data.subarray(0, rows * wantAll.cols) };
    const e = explainerFor(model);
    const F = model.meta.numFeatures;
    const K = model.meta.rawOutputNames.length;
    expect(e.width).toBe(K * (F + 1));
    expect(want.cols).toBe(e.width);
    const out = new Float64Array(x.rows * e.width);
    e.contributions(x.data, x.rows, out);
    expect(contribMismatch(out, want.data, e.width)).toBeNull();
    // Efficiency: per column, the F contributions and the bias sum to the raw margin.
    const raw = new Float64Array(x.rows * K);
    model.predict(x.data, x.rows, raw, true);
    for (let r = 0; r < x.rows; r++)
      for (let k = 0; k < K; k++) {
        let sum = 0;
        for (let j = 0; j <= F; j++) sum += out[r * e.width + k * (F + 1) + j]!;
        const m = raw[r * K + k]!;
        // Rows whose margin overflows float32 (gblinear fixtures) have infinite terms: no sum to check.
        if (!Number.isFinite(m) || !Number.isFinite(sum)) continue;
        if (!(Math.abs(sum - m) <= 1e-5 * (1 + Math.abs(m))))
          expect.fail(`row ${r} column ${k}: contributions sum to ${sum}, raw margin ${m}`);
      }
  });
});
