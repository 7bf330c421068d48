// scikit-learn 1.0-1.6 and numpy 2 layouts, derived from the 1.2 fixtures by rewriting their
// pickles (pickle-writer.ts): what changed between versions is written down in sklearn's source
// (tree/_tree.pyx NODE_DTYPE gained missing_go_to_left in 1.3; 1.4 stores class fractions in
// tree values; GradientBoosting moved from `loss_` (1.0) to `_loss` objects of _gb_losses (1.1,
// 1.2) to sklearn._loss (1.3+, symmetric multinomial link); LogisticRegression's multi_class
// became 'deprecated' in 1.5; numpy 2 renamed numpy.core to numpy._core).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { maxRelDiff, readDenseRows, readExpected, SKLEARN_FIXTURES } from '../fixtures.test-helper.js';
import type { Model } from '../model.js';
import { loadSklearn } from './index.js';
import { readSklearnFile } from './pickle/joblib.js';
import { DType, NdArray } from './pickle/numpy-array.js';
import { writePickle } from './pickle/pickle-writer.js';
import { PyGlobal, PyObject } from './pickle/py-values.js';

const load = (name: string) =>
  readSklearnFile(readFileSync(join(SKLEARN_FIXTURES, name, 'model.pkl'))) as PyObject;
const toModel = (est: PyObject, numpyCore?: 'numpy.core' | 'numpy._core') =>
  loadSklearn(writePickle(est, numpyCore ? { numpyCore } : {}), 'sklearn_pickle');

function predictAll(model: Model, data: Float64Array, rows: number, raw: boolean): Float64Array {
  const out = new Float64Array(
    rows * (raw ? model.meta.rawOutputNames.length : model.meta.outputNames.length),
  );
  model.predict(data, rows, out, raw);
  return out;
}

function expectMatchesFixture(model: Model, name: string): void {
  const dir = join(SKLEARN_FIXTURES, name);
  const { rows, data } = readDenseRows(dir);
  expect(
    maxRelDiff(predictAll(model, data, rows, false), readExpected(dir, 'pred.csv')!.values),
  ).toBeLessThan(1e-6);
  const raw = readExpected(dir, 'raw.csv');
  if (raw) expect(maxRelDiff(predictAll(model, data, rows, true), raw.values)).toBeLessThan(1e-6);
}

function treesOf(est: PyObject): PyObject[] {
  const single = est.dict.get('tree_');
  if (single instanceof PyObject) return [single];
  const members = est.dict.get('estimators_');
  const list = members instanceof NdArray ? members.objects! : (members as unknown[]);
  return list.map((m) => (m as PyObject).dict.get('tree_') as PyObject);
}

/** scikit-learn >= 1.3 NODE_DTYPE: the 1.2 record plus missing_go_to_left (uint8 at 56), 64 bytes. */
function addMissingGoToLeft(tree: PyObject, flag: (node: number) => number): void {
  const nodes = tree.dict.get('nodes') as NdArray;
  const dtype = new DType('V', 64, '|');
  dtype.fields = [
    ...nodes.dtype.fields!,
    { name: 'missing_go_to_left', dtype: DType.fromSpec('u1'), offset: 56 },
  ];
  const n = nodes.size;
  const raw = new Uint8Array(n * 64);
  for (let i = 0; i < n; i++) {
    raw.set(nodes.raw!.subarray(i * 56, (i + 1) * 56), i * 64);
    raw[i * 64 + 56] = flag(i);
  }
  tree.dict.set('nodes', new NdArray(dtype, [n], raw, null));
}

describe('scikit-learn >= 1.3 trees (missing_go_to_left)', () => {
  it('reads the 8-field node records and routes NaN by the flag', () => {
    const name = 'sk-decision-tree-reg';
    const { rows, data } = readDenseRows(join(SKLEARN_FIXTURES, name));
    for (const flag of [0, 1]) {
      const est = load(name);
      for (const t of treesOf(est)) addMissingGoToLeft(t, () => flag);
      const model = toModel(est);
      expectMatchesFixture(model, name);
      // NaN in a feature must behave like -Infinity when every node sends missing left, +Infinity when right.
      const withNaN = data.slice(0, 20 * 20);
      const withInf = withNaN.slice();
      for (let r = 0; r < 20; r++) {
        const f = r % 20;
        withNaN[r * 20 + f] = Number.NaN;
        withInf[r * 20 + f] = flag ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
      }
      expect([...predictAll(model, withNaN, 20, false)]).toEqual([...predictAll(model, withInf, 20, false)]);
      expect(rows).toBeGreaterThan(20);
    }
  });

  it('forests with 1.4+ class fractions in tree values predict the same probabilities', () => {
    const est = load('sk-random-forest');
    for (const t of treesOf(est)) {
      const values = t.dict.get('values') as NdArray;
      const v = values.toFloat64();
      const k = values.shape[2]!;
      for (let i = 0; i < v.length; i += k) {
        let s = 0;
        for (let j = 0; j < k; j++) s += v[i + j]!;
        for (let j = 0; j < k; j++) v[i + j] = s ? v[i + j]! / s : 0;
      }
      t.dict.set('values', new NdArray(DType.fromSpec('f8'), values.shape, new Uint8Array(v.buffer), null));
      addMissingGoToLeft(t, () => 0);
    }
    expectMatchesFixture(toModel(est), 'sk-random-forest');
  });
});

describe('renamed attributes', () => {
  it('n_features_ (before n_features_in_) is read', () => {
    for (const name of ['sk-random-forest', 'sk-decision-tree-reg', 'sk-gbdt-binary']) {
      const est = load(name);
      const n = est.dict.get('n_features_in_');
      est.dict.delete('n_features_in_');
      est.dict.set('n_features_', n);
      expectMatchesFixture(toModel(est), name);
    }
  });

  it('GradientBoosting loss_ (1.0) instead of _loss', () => {
    const est = load('sk-gbdt-multiclass');
    est.dict.set('loss_', est.dict.get('_loss'));
    est.dict.delete('_loss');
    expectMatchesFixture(toModel(est), 'sk-gbdt-multiclass');
  });

  it('GradientBoosting 1.3+ sklearn._loss objects: same probabilities, symmetric multinomial raw', () => {
    const name = 'sk-gbdt-multiclass';
    const est = load(name);
    est.dict.set('_loss', new PyObject(new PyGlobal('sklearn._loss.loss', 'HalfMultinomialLoss'), []));
    const model = toModel(est);
    const dir = join(SKLEARN_FIXTURES, name);
    const { rows, data } = readDenseRows(dir);
    expect(
      maxRelDiff(predictAll(model, data, rows, false), readExpected(dir, 'pred.csv')!.values),
    ).toBeLessThan(1e-6);
    // 1.3+ init raw = log p_k - mean_j log p_j, so decision_function shifts by -mean_j log p_j.
    const prior = ((est.dict.get('init_') as PyObject).dict.get('class_prior_') as NdArray).toFloat64();
    const eps = 2 ** -23;
    const shift =
      -[...prior].reduce((s, p) => s + Math.log(Math.min(Math.max(p, eps), 1 - eps)), 0) / prior.length;
    const expected = readExpected(dir, 'raw.csv')!.values.map((v) => v + shift);
    expect(maxRelDiff(predictAll(model, data, rows, true), expected)).toBeLessThan(1e-6);
  });

  it('HistGradientBoosting 1.0 loss_ objects and 1.4 _preprocessor = None', () => {
    const est = load('sk-hist-gbdt');
    est.dict.delete('_loss');
    est.dict.set(
      'loss_',
      new PyObject(new PyGlobal('sklearn.ensemble._hist_gradient_boosting.loss', 'BinaryCrossEntropy'), []),
    );
    est.dict.set('_preprocessor', null);
    expectMatchesFixture(toModel(est), 'sk-hist-gbdt');
  });

  it("LogisticRegression multi_class 'deprecated' (1.5) and absent behave like 'auto'", () => {
    const multi = readSklearnFile(
      readFileSync(join(SKLEARN_FIXTURES, '../derived-sklearn/sk-logistic-multinomial/model.pkl')),
    ) as PyObject;
    const base = loadSklearn(writePickle(multi), 'sklearn_pickle');
    const row = new Float64Array(8).fill(0.5);
    const want = new Float64Array(3);
    base.predictOne(row, want);
    for (const mc of ['deprecated', undefined]) {
      if (mc) multi.dict.set('multi_class', mc);
      else multi.dict.delete('multi_class');
      const got = new Float64Array(3);
      toModel(multi).predictOne(row, got);
      expect([...got]).toEqual([...want]);
    }
    const binary = load('sk-logistic');
    binary.dict.set('multi_class', 'deprecated');
    expectMatchesFixture(toModel(binary), 'sk-logistic');
  });
});

describe('numpy layouts', () => {
  it('numpy 2 (numpy._core) module names', () => {
    for (const name of ['sk-gbdt-binary', 'sk-hist-gbdt', 'sk-ridge'])
      expectMatchesFixture(toModel(load(name), 'numpy._core'), name);
  });

  it('big-endian arrays are byte-swapped', () => {
    const est = load('sk-ridge');
    const coef = est.dict.get('coef_') as NdArray;
    const v = coef.toFloat64();
    const be = Buffer.alloc(v.length * 8);
    v.forEach((x, i) => {
      be.writeDoubleBE(x, i * 8);
    });
    est.dict.set('coef_', new NdArray(DType.fromSpec('>f8'), coef.shape, new Uint8Array(be), null));
    expectMatchesFixture(toModel(est), 'sk-ridge');
  });
});

describe('joblib layouts', () => {
  it('joblib < 1.2 (no alignment padding) and >= 1.2, plain and gzip, with object arrays as nested pickles', () => {
    for (const name of ['sk-gbdt-multiclass', 'sk-random-forest', 'sk-ridge']) {
      for (const alignment of [false, true]) {
        const bytes = writePickle(load(name), { joblib: { alignment } });
        expectMatchesFixture(loadSklearn(bytes, 'sklearn_joblib'), name);
        if (name === 'sk-ridge') expectMatchesFixture(loadSklearn(gzipSync(bytes), 'sklearn_joblib'), name);
      }
    }
  });
});
