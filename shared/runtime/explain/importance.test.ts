// File importance against the libraries' own (test/fixtures/derived/importance.json, made by
// XGBoost's get_score and LightGBM's feature_importance), and mean |contribution|.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { fixturePath, readCsv } from '../fixtures.test-helper.js';
import { loadModel } from '../load.js';
import { fileImportance, meanAbsContributions } from './importance.js';
import { explainerFor } from './index.js';

const expected = JSON.parse(readFileSync(fixturePath('derived/importance.json'), 'utf8')) as Record<
  string,
  { splits: number[]; gain: number[] }
>;

const load = (name: string) => {
  const file = ['model.json', 'model.ubj', 'model.txt']
    .map((f) => fixturePath(`${name}/${f}`))
    .find((f) => {
      try {
        readFileSync(f);
        return true;
      } catch {
        return false;
      }
    })!;
  return loadModel(new Uint8Array(readFileSync(file)), { fileName: file.split('/').at(-1)! });
};

describe('importance from the model file', () => {
  test.each(Object.keys(expected))('%s: splits and total gain as the library reports them', (name) => {
    const imp = fileImportance(load(name))!;
    const want = expected[name]!;
    expect(imp.map((i) => i.splits)).toEqual(want.splits);
    imp.forEach((i, f) => {
      const w = want.gain[f]!;
      expect(Math.abs(i.gain! - w)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(w)));
    });
  });

  test('models without trees have none', () => {
    expect(fileImportance(load('derived/xgb-gblinear-binary'))).toBeNull();
  });
});

describe('mean |contribution|', () => {
  test('per column and summed, and the mean bias, over rows in blocks', () => {
    const model = load('lightgbm/lgb-multiclass');
    const e = explainerFor(model);
    const x = readCsv(fixturePath('lightgbm/lgb-multiclass/test.csv'), true);
    const rows = 1500; // more than one block
    const imp = meanAbsContributions(e, x.data, rows);
    const c = readCsv(fixturePath('lightgbm/lgb-multiclass/contribs.csv'), false);
    const F = e.numFeatures;
    for (let k = 0; k < 3; k++)
      for (const f of [0, 7, F - 1]) {
        let s = 0;
        for (let r = 0; r < rows; r++) s += Math.abs(c.data[r * c.cols + k * (F + 1) + f]!);
        expect(imp.perColumn[k * F + f]).toBeCloseTo(s / rows, 6);
      }
    expect(imp.meanAbs[7]).toBeCloseTo(
      imp.perColumn[7]! + imp.perColumn[F + 7]! + imp.perColumn[2 * F + 7]!,
      12,
    );
    expect(imp.rows).toBe(rows);
  });
});
