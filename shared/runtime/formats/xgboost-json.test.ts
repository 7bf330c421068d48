// biome-ignore-all lint/suspicious/noExplicitAny: tests edit decoded model documents freely
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ModelFormatError,
  TruncatedModelError,
  UnknownObjectiveError,
  UnsupportedModelError,
} from '../../errors/grove-error.js';
import { firstMismatch, fixturePath, readCsv } from '../fixtures.test-helper.js';
import { loadModel } from '../load.js';
import { referencePredict } from '../trees/reference-predict.js';
import { parseXgboostLinear } from './xgboost-gblinear.js';
import { decodeXgboostJson, parseBaseScore, parseXgboost } from './xgboost-json.js';

const MODELS = [
  'xgb-binary-100x4',
  'xgb-binary-500x8',
  'xgb-categorical',
  'xgb-multiclass',
  'xgb-regression',
];

function loadDoc(name: string): Record<string, any> {
  return decodeXgboostJson(readFileSync(fixturePath(`xgboost/${name}/model.json`), 'utf8')) as Record<
    string,
    any
  >;
}

function check(name: string, doc: unknown): void {
  const ir = parseXgboost(doc);
  const x = readCsv(fixturePath(`xgboost/${name}/test.csv`), true);
  expect(x.cols).toBe(ir.numFeatures);
  const raw = readCsv(fixturePath(`xgboost/${name}/raw.csv`), false);
  const pred = readCsv(fixturePath(`xgboost/${name}/pred.csv`), false);
  expect(firstMismatch(referencePredict(ir, x.data, x.rows, true), raw.data)).toBeNull();
  expect(firstMismatch(referencePredict(ir, x.data, x.rows, false), pred.data)).toBeNull();
}

describe('parseXgboost on the fixtures (XGBoost 1.7.4)', () => {
  for (const name of MODELS) {
    it(`${name} matches raw.csv and pred.csv`, () => check(name, loadDoc(name)));
  }

  it('reads objective, groups, feature names and categorical splits', () => {
    const multi = parseXgboost(loadDoc('xgb-multiclass'));
    expect(multi.numGroups).toBe(3);
    expect(multi.transform).toBe('softmax');
    expect(multi.task).toBe('multiclass');
    expect(Array.from(multi.treeGroup.slice(0, 6))).toEqual([0, 1, 2, 0, 1, 2]);
    const cat = parseXgboost(loadDoc('xgb-categorical'));
    expect(cat.featureNames).toEqual(['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7']);
    const t0 = cat.trees[0]!;
    expect(t0.catOffset[1]).toBeGreaterThanOrEqual(0);
    // tree 0 node 1 sends categories {1,2,4,5,7,8,10,11} right
    expect(t0.catBits[t0.catOffset[1]!]).toBe([1, 2, 4, 5, 7, 8, 10, 11].reduce((a, c) => a | (1 << c), 0));
    expect(cat.categorical).toMatchObject({ inSetGoesLeft: false, invalid: 'default' });
  });
});

describe('XGBoost 2.x / 3.x documents derived from the fixtures', () => {
  it('base_score written as "[5E-1]" (2.x) gives the same predictions', () => {
    const doc = loadDoc('xgb-binary-100x4');
    doc.version = [2, 1, 0];
    doc.learner.learner_model_param.base_score = '[5E-1]';
    check('xgb-binary-100x4', doc);
  });

  it('a 3.1 multiclass per-class base_score is added to each class as a margin', () => {
    const doc = loadDoc('xgb-multiclass');
    const ref = parseXgboost(doc);
    doc.version = [3, 1, 0];
    doc.learner.learner_model_param.base_score = '[-3.95E-2,1.97E-1,-1.57E-1]';
    const ir = parseXgboost(doc);
    expect(Array.from(ir.baseMargin)).toEqual([-3.95e-2, 1.97e-1, -1.57e-1].map(Math.fround));
    const x = readCsv(fixturePath('xgboost/xgb-multiclass/test.csv'), true);
    const a = referencePredict(ref, x.data, 5, true);
    const b = referencePredict(ir, x.data, 5, true);
    // the same trees; only the intercept moved (from 0.5 per class), up to float32 rounding
    for (let r = 0; r < 5; r++) {
      for (let k = 0; k < 3; k++)
        expect(b[r * 3 + k]! - a[r * 3 + k]!).toBeCloseTo(ir.baseMargin[k]! - 0.5, 5);
    }
  });

  it('converts base_score to a margin per objective (logit, log, identity)', () => {
    const doc = loadDoc('xgb-regression');
    doc.learner.learner_model_param.base_score = '[2E0]';
    for (const [name, want] of [
      ['count:poisson', Math.fround(Math.log(2))],
      ['reg:gamma', Math.fround(Math.log(2))],
      ['reg:tweedie', Math.fround(Math.log(2))],
      ['reg:absoluteerror', 2],
      ['rank:ndcg', 2],
    ] as const) {
      doc.learner.objective = { name };
      expect(parseXgboost(doc).baseMargin[0]).toBe(want);
    }
    // binary:logitraw keeps base_score as the margin from 1.7 on (LogisticRaw::ProbToMargin)
    doc.learner.objective = { name: 'binary:logitraw' };
    doc.learner.learner_model_param.base_score = '2.5E-1';
    expect(parseXgboost(doc).baseMargin[0]).toBe(0.25);
    expect(parseXgboost(doc).transform).toBe('identity');
    doc.version = [1, 3, 0];
    expect(parseXgboost(doc).baseMargin[0]).toBeCloseTo(Math.log(0.25 / 0.75), 6);
    doc.learner.objective = { name: 'binary:logistic' };
    expect(parseXgboost(doc).baseMargin[0]).toBeCloseTo(Math.log(0.25 / 0.75), 6);
  });

  it('reads a dart booster: leaves scaled by weight_drop', () => {
    const doc = loadDoc('xgb-binary-100x4');
    const gb = doc.learner.gradient_booster;
    const n = gb.model.trees.length;
    doc.learner.gradient_booster = {
      name: 'dart',
      gbtree: { name: 'gbtree', model: gb.model },
      weight_drop: new Array(n).fill(0.5),
    };
    const plain = parseXgboost(loadDoc('xgb-binary-100x4'));
    const dart = parseXgboost(doc);
    const leaf = plain.trees[0]!.left.findIndex((l) => l < 0);
    expect(dart.trees[0]!.leafValue[leaf]).toBe(Math.fround(plain.trees[0]!.leafValue[leaf]! * 0.5));
  });

  it('2.x categorical models send invalid categories left', () => {
    const doc = loadDoc('xgb-categorical');
    doc.version = [2, 0, 3];
    const ir = parseXgboost(doc);
    expect(ir.categorical.invalid).toBe('left');
  });

  it('parses the values split on a categorical node the way the library decides', () => {
    const ir = parseXgboost(loadDoc('xgb-categorical'));
    const x = new Float64Array(8);
    // feature 3 < 0.5926094 goes to node 1, which splits on categorical f6
    x[3] = 0;
    const rowFor = (v: number) => {
      const r = x.slice();
      r[6] = v;
      return referencePredict({ ...ir, trees: [ir.trees[0]!], treeGroup: new Int32Array(1) }, r, 1, true)[0]!;
    };
    // in-set category 1 and out-of-set category 0 reach different leaves; 1.7 sends a negative
    // value to node 1's default side (default_left[1] = 1 -> left, like category 0).
    expect(rowFor(1)).not.toBe(rowFor(0));
    expect(rowFor(-3)).toBe(rowFor(0));
    expect(rowFor(1.9)).toBe(rowFor(1));
  });
});

describe('errors', () => {
  it('a truncated JSON file is a TruncatedModelError', () => {
    const text = readFileSync(fixturePath('xgboost/xgb-binary-100x4/model.json'), 'utf8');
    expect(() => decodeXgboostJson(text.slice(0, text.length / 2))).toThrow(TruncatedModelError);
  });

  it('fewer trees than num_trees is a TruncatedModelError', () => {
    const doc = loadDoc('xgb-binary-100x4');
    doc.learner.gradient_booster.model.trees.pop();
    expect(() => parseXgboost(doc)).toThrow(/99 trees but .*num_trees says 100/);
  });

  it('an unknown objective names itself', () => {
    const doc = loadDoc('xgb-regression');
    doc.learner.objective = { name: 'reg:wizardry' };
    expect(() => parseXgboost(doc)).toThrow(UnknownObjectiveError);
    expect(() => parseXgboost(doc)).toThrow(/reg:wizardry/);
  });

  it('a JSON document that is not an XGBoost model', () => {
    expect(() => parseXgboost({ hello: 1 })).toThrow(ModelFormatError);
    expect(() => parseXgboost({ hello: 1 })).toThrow(/learner/);
    expect(() => decodeXgboostJson('tree\nversion=v4')).toThrow(ModelFormatError);
  });

  it('a base_score the objective cannot take is refused', () => {
    const doc = loadDoc('xgb-binary-100x4');
    doc.learner.learner_model_param.base_score = '[-5E-1]';
    expect(() => parseXgboost(doc)).toThrow(/base_score -0.5 is outside what binary:logistic accepts/);
  });

  it('gblinear is not a tree ensemble: parseXgboostLinear reads it and loadModel serves it', () => {
    const doc = loadDoc('xgb-regression');
    const F = Number(doc.learner.learner_model_param.num_feature);
    doc.learner.gradient_booster = {
      name: 'gblinear',
      model: { weights: Array.from({ length: F + 1 }, (_, i) => (i === F ? 0.25 : i === 0 ? 2 : 0)) },
    };
    expect(() => parseXgboost(doc)).toThrow(UnsupportedModelError);
    expect(() => parseXgboost(doc)).toThrow(/parseXgboostLinear/);
    expect(parseXgboostLinear(doc).weights[F]).toBe(0.25);
    const model = loadModel(new TextEncoder().encode(JSON.stringify(doc)));
    const out = new Float64Array(1);
    model.predictOne(new Float64Array(F).fill(Number.NaN).fill(3, 0, 1), out);
    const base = Number(doc.learner.learner_model_param.base_score);
    expect(out[0]).toBe(Math.fround(Math.fround(0.25 + Math.fround(base)) + 6));
    expect(model.meta.usedFeatures).toEqual([0]);
    doc.learner.gradient_booster.model.weights = [1];
    expect(() => parseXgboostLinear(doc)).toThrow(ModelFormatError);
  });

  it('a child pointing back up the tree is refused', () => {
    const doc = loadDoc('xgb-binary-100x4');
    doc.learner.gradient_booster.model.trees[0].left_children[1] = 0;
    expect(() => parseXgboost(doc)).toThrow(/not a tree/);
  });

  it('bare NaN / Infinity / -Infinity decode; strings holding those words are kept', () => {
    const doc = decodeXgboostJson(
      '{"a":[NaN,Infinity,-Infinity,1.5E0],"names":["NaN","x\\"Infinity"]}',
    ) as any;
    expect(doc.a[0]).toBeNull();
    expect(doc.a.slice(1)).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1.5]);
    expect(doc.names).toEqual(['NaN', 'x"Infinity']);
  });

  it('base_score strings', () => {
    expect(parseBaseScore('5E-1')).toEqual([0.5]);
    expect(parseBaseScore('[5E-1]')).toEqual([0.5]);
    expect(parseBaseScore('[1E0,2E0]')).toEqual([1, 2]);
    expect(() => parseBaseScore('[a]')).toThrow(ModelFormatError);
  });
});
