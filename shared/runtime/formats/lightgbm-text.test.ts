import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelFormatError, TruncatedModelError, UnknownObjectiveError } from '../../errors/grove-error.js';
import { firstMismatch, fixturePath, readCsv } from '../fixtures.test-helper.js';
import { referencePredict } from '../trees/reference-predict.js';
import { lightgbmObjective, parseLightgbmText } from './lightgbm-text.js';

const MODELS = [
  'lgb-binary-100x4',
  'lgb-binary-500x8',
  'lgb-categorical',
  'lgb-multiclass',
  'lgb-nan-unseen',
  'lgb-regression',
];
const text = (name: string) => readFileSync(fixturePath(`lightgbm/${name}/model.txt`), 'utf8');

function predictions(name: string, src = text(name)) {
  const ir = parseLightgbmText(src);
  const x = readCsv(fixturePath(`lightgbm/${name}/test.csv`), true);
  return {
    ir,
    x,
    raw: referencePredict(ir, x.data, x.rows, true),
    pred: referencePredict(ir, x.data, x.rows, false),
  };
}

describe('parseLightgbmText on the fixtures (LightGBM 4.5.0)', () => {
  for (const name of MODELS) {
    it(`${name} matches raw.csv and pred.csv`, () => {
      const { ir, x, raw, pred } = predictions(name);
      expect(x.cols).toBe(ir.numFeatures);
      expect(firstMismatch(raw, readCsv(fixturePath(`lightgbm/${name}/raw.csv`), false).data)).toBeNull();
      expect(firstMismatch(pred, readCsv(fixturePath(`lightgbm/${name}/pred.csv`), false).data)).toBeNull();
    });
  }

  it('reads header fields, classes and categorical bitsets', () => {
    const multi = parseLightgbmText(text('lgb-multiclass'));
    expect(multi.numGroups).toBe(3);
    expect(multi.trees.length).toBe(150);
    expect(Array.from(multi.treeGroup.slice(0, 4))).toEqual([0, 1, 2, 0]);
    expect(multi.featureNames?.[19]).toBe('f19');
    const cat = parseLightgbmText(text('lgb-categorical'));
    const t0 = cat.trees[0]!;
    // node 1 uses cat_boundaries[0..2): words 1227133513 146
    expect(t0.catWords[1]).toBe(2);
    expect(Array.from(t0.catBits.slice(t0.catOffset[1]!, t0.catOffset[1]! + 2))).toEqual([1227133513, 146]);
  });
});

describe('LightGBM variants derived from the fixtures', () => {
  it('a one-leaf tree is a constant', () => {
    const src = text('lgb-regression').replace(
      /\nTree=0\n[\s\S]*?\n\n\n/,
      '\nTree=0\nnum_leaves=1\nnum_cat=0\nleaf_value=2.5\nis_linear=0\nshrinkage=1\n\n\n',
    );
    const a = predictions('lgb-regression');
    const b = predictions('lgb-regression', src);
    expect(b.ir.trees[0]!.left.length).toBe(1);
    // replacing tree 0 by the constant 2.5 moves every row by 2.5 - (its old tree-0 leaf)
    const ir0 = { ...a.ir, trees: [a.ir.trees[0]!], treeGroup: new Int32Array(1) };
    const t0 = referencePredict(ir0, a.x.data, 3, true);
    for (let r = 0; r < 3; r++) expect(b.raw[r]!).toBeCloseTo(a.raw[r]! - t0[r]! + 2.5, 9);
  });

  it('average_output divides by the number of iterations (random forest mode)', () => {
    const src = text('lgb-regression').replace('\nfeature_names=', '\naverage_output\nfeature_names=');
    const a = predictions('lgb-regression');
    const b = predictions('lgb-regression', src);
    expect(b.ir.average).toBe(true);
    // GBDT::Predict divides after PredictRaw: the raw score stays the sum
    for (let r = 0; r < 5; r++) {
      expect(b.pred[r]!).toBeCloseTo(a.raw[r]! / 200, 12);
      expect(b.raw[r]!).toBe(a.raw[r]!);
    }
  });

  it('objectives map to the library transforms', () => {
    expect(lightgbmObjective('binary sigmoid:0.5')).toMatchObject({ transform: 'sigmoid', sigmoid: 0.5 });
    expect(lightgbmObjective('multiclassova num_class:3 sigmoid:2')).toMatchObject({
      transform: 'ova_sigmoid',
      sigmoid: 2,
    });
    expect(lightgbmObjective('regression sqrt').transform).toBe('signed_square');
    expect(lightgbmObjective('tweedie').transform).toBe('exp');
    expect(lightgbmObjective('cross_entropy_lambda').transform).toBe('log1p_exp');
    expect(lightgbmObjective('lambdarank').task).toBe('ranking');
  });

  it('a binary model with sigmoid:2 doubles the margin inside the sigmoid', () => {
    const src = text('lgb-binary-100x4').replace('objective=binary sigmoid:1', 'objective=binary sigmoid:2');
    const { raw, pred } = predictions('lgb-binary-100x4', src);
    for (let r = 0; r < 5; r++) expect(pred[r]!).toBeCloseTo(1 / (1 + Math.exp(-2 * raw[r]!)), 14);
  });

  it('parameters, feature importances and pandas_categorical trailers are ignored', () => {
    const src = `${text('lgb-binary-100x4')}\npandas_categorical:[["a", "b"]]\n`;
    expect(parseLightgbmText(src).trees.length).toBe(100);
  });

  it('NaN, Zero and None missing types and ±Infinity inputs', () => {
    const ir = parseLightgbmText(text('lgb-nan-unseen'));
    const x = new Float64Array(10);
    const nan = x.slice().fill(Number.NaN);
    // missing type None: NaN is read as 0
    expect(referencePredict(ir, nan, 1, true)[0]).toBe(referencePredict(ir, x, 1, true)[0]);
    const inf = x.slice().fill(Number.POSITIVE_INFINITY);
    const ninf = x.slice().fill(Number.NEGATIVE_INFINITY);
    expect(referencePredict(ir, inf, 1, true)[0]).not.toBe(referencePredict(ir, ninf, 1, true)[0]);
  });
});

describe('errors', () => {
  it('a file cut mid-tree is a TruncatedModelError', () => {
    const src = text('lgb-binary-100x4');
    const cut = src.slice(0, src.indexOf('Tree=50') + 200);
    expect(() => parseLightgbmText(cut)).toThrow(TruncatedModelError);
  });

  it('fewer trees than tree_sizes lists is a TruncatedModelError', () => {
    const src = text('lgb-binary-100x4');
    const cut = `${src.slice(0, src.indexOf('Tree=99'))}end of trees\n`;
    expect(() => parseLightgbmText(cut)).toThrow(/99 trees but tree_sizes lists 100/);
  });

  it('an unknown objective names itself', () => {
    const src = text('lgb-regression').replace('objective=regression', 'objective=wizardry');
    expect(() => parseLightgbmText(src)).toThrow(UnknownObjectiveError);
    expect(() => parseLightgbmText(src)).toThrow(/wizardry/);
  });

  it('a tree marked linear without its linear leaves is a TruncatedModelError naming them', () => {
    const src = text('lgb-regression').replace('is_linear=0', 'is_linear=1');
    expect(() => parseLightgbmText(src)).toThrow(TruncatedModelError);
    expect(() => parseLightgbmText(src)).toThrow(/leaf_const/);
  });

  it('a file of another kind is a ModelFormatError', () => {
    expect(() => parseLightgbmText('{"learner": {}}')).toThrow(ModelFormatError);
    expect(() => parseLightgbmText('tree\nhello\n')).toThrow(/version=/);
  });
});

describe('LightGBM linear trees (derived/lgb-linear-tree)', () => {
  const linear = readFileSync(fixturePath('derived/lgb-linear-tree/model.txt'), 'utf8');
  // Tree 1's linear leaves: 8 leaves of 2 terms on features 0 and 1.
  const feats = 'leaf_features=0 1  0 1  0 1  0 1  0 1  0 1  0 1  0 1  ';

  it('reads leaf_const, num_features, leaf_features and leaf_coeff per leaf', () => {
    const t1 = parseLightgbmText(linear).trees[1]!;
    const lin = t1.linear!;
    const inner = 7; // leaves follow the 7 internal nodes
    expect(lin.linearConst[inner]).toBe(0.062003865605304048);
    expect(Array.from(lin.linearCount.subarray(inner))).toEqual([2, 2, 2, 2, 2, 2, 2, 2]);
    expect(Array.from(lin.linearOffset.subarray(inner))).toEqual([0, 2, 4, 6, 8, 10, 12, 14]);
    expect(Array.from(lin.linearFeature.subarray(0, 4))).toEqual([0, 1, 0, 1]);
    expect(lin.linearCoeff[1]).toBe(-0.097556278065529342);
  });

  it('malformed linear leaves are ModelFormatErrors, never crashes', () => {
    expect(linear).toContain(feats);
    const cases: Array<[string, RegExp]> = [
      [linear.replace(feats, 'leaf_features=0 1  0 1  0 1  0 1  0 1  0 1  0 1  0 6  '), /feature 6/],
      [linear.replace(feats, 'leaf_features=0 1  0 1  0 1  0 1  0 1  0 1  0 1  0 -1  '), /feature -1/],
      [linear.replace(feats, 'leaf_features=0 1  0 1  0 1  0 1  0 1  0 1  0 1  0  '), /leaf_features has 15/],
      [linear.replace('num_features=2 2 2 2 2 2 2 2', 'num_features=2 2 2 2 2 2 2 -2'), /num_features/],
      [linear.replace('num_features=2 2 2 2 2 2 2 2', 'num_features=2 2 2 2 2 2 2 1.5'), /num_features/],
      [linear.replace('num_features=2 2 2 2 2 2 2 2', 'num_features=2 2 2 2 2 2 2'), /num_features/],
      [linear.replace(/leaf_coeff=0\.17730368762101278 /, 'leaf_coeff='), /leaf_coeff has 15/],
      [linear.replace('is_linear=1', 'is_linear=yes'), /is_linear/],
    ];
    for (const [src, msg] of cases) {
      expect(src).not.toBe(linear);
      expect(() => parseLightgbmText(src)).toThrow(ModelFormatError);
      expect(() => parseLightgbmText(src)).toThrow(msg);
    }
  });
});
