// Which models explain and which refuse (and with which code), and scikit-learn's linear
// pipelines: coefficient x (value - training mean), summing to decision_function.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { ExplainUnavailableError } from '../../errors/grove-error.js';
import { fixturePath, readCsv } from '../fixtures.test-helper.js';
import { decodeXgboostJson, parseXgboost } from '../formats/xgboost-json.js';
import { loadModel } from '../load.js';
import type { Model } from '../model.js';
import { readSklearnFile } from '../sklearn/pickle/joblib.js';
import type { NdArray } from '../sklearn/pickle/numpy-array.js';
import { attr, type PyObject } from '../sklearn/pickle/py-values.js';
import { compileTreeEnsemble } from '../trees/compile.js';
import { canExplain, contributionColumns, explainerFor } from './index.js';

const load = (rel: string): Model => {
  const file = fixturePath(rel);
  return loadModel(new Uint8Array(readFileSync(file)), { fileName: file.split('/').at(-1)! });
};

function refusal(model: Model): { code: string; status: number; message: string } {
  try {
    explainerFor(model);
  } catch (err) {
    if (err instanceof ExplainUnavailableError)
      return { code: err.code, status: err.statusCode, message: err.message };
    throw err;
  }
  throw new Error('the model explained');
}

describe('models that cannot be explained say why', () => {
  test('LightGBM linear trees (LightGBM refuses them too)', () => {
    const r = refusal(load('derived/lgb-linear-tree/model.txt'));
    expect(r).toMatchObject({ code: 'GROVE_ERR_EXPLAIN_UNSUPPORTED', status: 422 });
    expect(r.message).toMatch(/linear trees/);
  });

  test('an XGBoost file without sum_hessian has no covers', () => {
    const doc = decodeXgboostJson(
      readFileSync(fixturePath('xgboost/xgb-binary-100x4/model.json'), 'utf8'),
    ) as {
      learner: { gradient_booster: { model: { trees: Record<string, unknown>[] } } };
    };
    for (const t of doc.learner.gradient_booster.model.trees) delete t.sum_hessian;
    const model = compileTreeEnsemble(parseXgboost(doc), 'xgboost_json');
    expect(refusal(model)).toMatchObject({ code: 'GROVE_ERR_EXPLAIN_NO_COVERS', status: 422 });
    // it still predicts
    const out = new Float64Array(1);
    model.predictOne(new Float64Array(20), out);
    expect(Number.isFinite(out[0])).toBe(true);
  });

  test('linear models without a known training mean', () => {
    for (const rel of [
      'sklearn/sk-logistic/model.pkl',
      'derived-sklearn/sk-pipeline-minmax-ridge/model.pkl',
    ]) {
      const r = refusal(load(rel));
      expect(r.code).toBe('GROVE_ERR_EXPLAIN_NO_BACKGROUND');
      expect(r.message).toMatch(/StandardScaler/);
    }
  });

  test('sparse name -> value models', () => {
    expect(refusal(load('sklearn/sk-sparse-dictvectorizer-logistic/model.pkl')).code).toBe(
      'GROVE_ERR_EXPLAIN_UNSUPPORTED',
    );
  });

  test('a refusal is remembered, and asked again it is the same', () => {
    const model = load('derived/lgb-linear-tree/model.txt');
    expect(canExplain(model)).toBe(false);
    expect(refusal(model).code).toBe('GROVE_ERR_EXPLAIN_UNSUPPORTED');
    expect(canExplain(load('xgboost/xgb-binary-100x4/model.json'))).toBe(true);
  });
});

describe('scikit-learn linear pipelines', () => {
  const dir = fixturePath('derived-sklearn/sk-pipeline-impute-scale-logistic/');
  const bytes = new Uint8Array(readFileSync(`${dir}model.pkl`));
  const model = loadModel(bytes, { fileName: 'model.pkl' });
  const x = readCsv(`${dir}test.csv`, true);
  const raw = readCsv(`${dir}raw.csv`, false);
  const e = explainerFor(model);
  const F = model.meta.numFeatures;
  const out = new Float64Array(x.rows * e.width);
  e.contributions(x.data, x.rows, out);

  test('coefficient x (imputed, scaled value - the scaler’s training mean), bias = intercept', () => {
    // SimpleImputer(median) -> StandardScaler -> LogisticRegression, read from the pickle itself.
    const pipe = readSklearnFile(bytes) as PyObject;
    const steps = (attr(pipe, 'steps') as unknown[][]).map((s) => s[1] as PyObject);
    const arr = (o: PyObject, name: string) => (attr(o, name) as NdArray).toFloat64();
    const stats = arr(steps[0]!, 'statistics_');
    const mean = arr(steps[1]!, 'mean_');
    const scale = arr(steps[1]!, 'scale_');
    const coef = arr(steps[2]!, 'coef_');
    const intercept = arr(steps[2]!, 'intercept_');
    expect(e.width).toBe(F + 1);
    for (let r = 0; r < x.rows; r++) {
      for (let j = 0; j < F; j++) {
        const v = x.data[r * F + j]!;
        const xs = ((Number.isNaN(v) ? stats[j]! : v) - mean[j]!) / scale[j]!;
        expect(out[r * e.width + j]).toBeCloseTo(coef[j]! * xs, 12);
      }
      expect(out[r * e.width + F]).toBeCloseTo(intercept[0]!, 12);
    }
  });

  test('each row sums to scikit-learn’s decision_function', () => {
    for (let r = 0; r < x.rows; r++) {
      let s = 0;
      for (let j = 0; j <= F; j++) s += out[r * e.width + j]!;
      expect(Math.abs(s - raw.data[r]!)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(s)));
    }
  });
});

describe('column names', () => {
  test('one margin column: features then bias; several: class<k>: prefixes', () => {
    expect(contributionColumns(['a', 'b'], 1)).toEqual(['a', 'b', 'bias']);
    expect(contributionColumns(['a'], 2)).toEqual(['class0:a', 'class0:bias', 'class1:a', 'class1:bias']);
  });
});
