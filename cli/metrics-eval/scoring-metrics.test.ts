import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../shared/random/seeded-rng.js';
import { bootstrapIntervals } from './bootstrap.js';
import {
  accuracyBinary,
  accuracyMulti,
  argmaxRows,
  aucWeighted,
  logLossBinary,
  logLossMulti,
  mae,
  rmse,
  scoreOrder,
} from './scoring-metrics.js';
import { aucDifferenceTest, delongAuc, studentTwoSided, twoProportionZ, welchT } from './significance.js';

const fixtures = join(import.meta.dirname, '../../test/fixtures');
function numbers(path: string, skipHeader: boolean): number[][] {
  const lines = readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .slice(skipHeader ? 1 : 0);
  return lines.map((l) => l.split(',').map((x) => (x === '' ? Number.NaN : Number(x))));
}
const nz = (x: number) => (Number.isNaN(x) ? 0 : x);

describe('metrics against scikit-learn 1.2.1 on the fixtures', () => {
  // Labels: y = f0 + f1 > 0 (missing read as 0). Figures from sklearn.metrics roc_auc_score,
  // log_loss and accuracy_score on the same pred.csv (computed once with python3-sklearn).
  const cases: [string, number, number, number][] = [
    ['xgboost/xgb-binary-100x4', 0.4396915211397059, 3.3022888019928325, 0.483],
    ['xgboost/xgb-binary-500x8', 0.4535650275735294, 4.404047959031437, 0.484],
    ['sklearn/sk-logistic', 0.5276600330992937, 3.305848897780471, 0.5195],
  ];
  for (const [name, auc, ll, acc] of cases) {
    it(name, () => {
      const X = numbers(join(fixtures, name, 'test.csv'), true);
      const P = numbers(join(fixtures, name, 'pred.csv'), false);
      const p = Float64Array.from(P.map((r) => r[r.length - 1]!));
      const y = Uint8Array.from(X.map((r) => (nz(r[0]!) + nz(r[1]!) > 0 ? 1 : 0)));
      expect(aucWeighted(p, y, scoreOrder(p))).toBeCloseTo(auc, 12);
      expect(logLossBinary(p, y)).toBeCloseTo(ll, 10);
      expect(accuracyBinary(p, y)).toBeCloseTo(acc, 12);
      expect(delongAuc(p, y).auc).toBeCloseTo(auc, 12);
    });
  }
  it('multiclass log loss and accuracy (xgb-multiclass; y = f0 > 0.5 ? 2 : f0 > -0.5 ? 1 : 0)', () => {
    const X = numbers(join(fixtures, 'xgboost/xgb-multiclass/test.csv'), true);
    const P = numbers(join(fixtures, 'xgboost/xgb-multiclass/pred.csv'), false);
    const probs = Float64Array.from(P.flat());
    const y = Int32Array.from(X.map((r) => (nz(r[0]!) > 0.5 ? 2 : nz(r[0]!) > -0.5 ? 1 : 0)));
    expect(logLossMulti(probs, 3, y)).toBeCloseTo(2.9935537119387363, 10);
    expect(accuracyMulti(argmaxRows(probs, 3, y.length), y)).toBeCloseTo(0.354, 12);
  });
  it('rmse and mae (xgb-regression; y = 10 * f0)', () => {
    const X = numbers(join(fixtures, 'xgboost/xgb-regression/test.csv'), true);
    const P = numbers(join(fixtures, 'xgboost/xgb-regression/pred.csv'), false);
    const pred = Float64Array.from(P.map((r) => r[0]!));
    const y = Float64Array.from(X.map((r) => 10 * nz(r[0]!)));
    expect(rmse(pred, y)).toBeCloseTo(187.67664157900492, 8);
    expect(mae(pred, y)).toBeCloseTo(150.7604926372561, 8);
  });
});

describe('weights and bootstrap', () => {
  it('integer weights equal duplicated rows', () => {
    const p = Float64Array.from([0.1, 0.4, 0.35, 0.8, 0.4]);
    const y = Uint8Array.from([0, 0, 1, 1, 1]);
    const w = Float64Array.from([2, 1, 0, 1, 3]);
    const pd = Float64Array.from([0.1, 0.1, 0.4, 0.8, 0.4, 0.4, 0.4]);
    const yd = Uint8Array.from([0, 0, 0, 1, 1, 1, 1]);
    expect(aucWeighted(p, y, scoreOrder(p), w)).toBeCloseTo(aucWeighted(pd, yd, scoreOrder(pd)), 12);
    expect(logLossBinary(p, y, w)).toBeCloseTo(logLossBinary(pd, yd), 12);
  });
  it('gives reproducible intervals that contain the point value', () => {
    const rng = () => mulberry32(7);
    const x = Float64Array.from({ length: 500 }, (_, i) => Math.sin(i) * 3 + 1);
    const zero = new Float64Array(500);
    const a = bootstrapIntervals(500, { m: (w) => mae(x, zero, w) }, rng(), 300);
    const b = bootstrapIntervals(500, { m: (w) => mae(x, zero, w) }, rng(), 300);
    expect(a).toEqual(b);
    expect(a.m!.ci_low).toBeLessThan(a.m!.value);
    expect(a.m!.ci_high).toBeGreaterThan(a.m!.value);
  });
});

describe('significance', () => {
  it("Welch's t matches scipy.stats.ttest_ind(equal_var=False)", () => {
    const r = welchT([0.1, 0.5, 0.9, 1.3, 0.2, 0.7], [0.6, 1.1, 0.8, 1.9, 1.4]);
    expect(r.statistic).toBeCloseTo(1.8504814183266232, 10); // scipy: a - b = -1.85; ours is b - a
    expect(r.p_value).toBeCloseTo(0.10094601528535123, 6);
  });
  it('normal two-sided p-values (scipy: 2 * norm.sf(1.7) = 0.0891309)', () => {
    // k2/n2 - k1/n1 chosen so that z is what a hand computation gives.
    const r = twoProportionZ(40, 100, 55, 100);
    const p = 0.475;
    const z = 0.15 / Math.sqrt(p * (1 - p) * 0.02);
    expect(r.statistic).toBeCloseTo(z, 12);
    expect(studentTwoSided(1.7, 1e7)).toBeCloseTo(0.08913092551708608, 5);
  });
  it('DeLong: identical AUCs give p = 1', () => {
    const s = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
    const y = [0, 1, 0, 1, 0, 1];
    const a = delongAuc(s, y);
    expect(a.auc).toBeCloseTo(6 / 9, 12);
    expect(a.variance).toBeGreaterThan(0);
    expect(aucDifferenceTest(a, a).p_value).toBeCloseTo(1, 6);
  });
});
