// biome-ignore-all lint/suspicious/noExplicitAny: tests edit decoded model documents freely
// XGBoost gblinear models (test/fixtures/derived/xgb-gblinear-*, made by generate_xgb_linear.py with
// XGBoost 1.7.4 and its own predictions): loaded as the 'xgboost-linear' kind they match the
// library in batches, one row at a time, by name and raw, rebuilt from their buffer (also in a
// worker_thread) and from a .grove file; metadata, newer file layouts and malformed files.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BadInputError,
  ModelFormatError,
  TruncatedModelError,
  UnknownFeatureError,
  UnknownObjectiveError,
} from '../../errors/grove-error.js';
import {
  firstMismatch,
  fixturePath,
  predictEveryWay,
  predictInThread,
  readCsv,
} from '../fixtures.test-helper.js';
import { encodeGroveFile } from '../formats/grove-binary.js';
import { decodeUbjson } from '../formats/ubjson.js';
import { isGblinearDocument, parseXgboostLinear } from '../formats/xgboost-gblinear.js';
import { decodeXgboostJson } from '../formats/xgboost-json.js';
import { loadModel, modelFromBuffer } from '../load.js';
import type { Model } from '../model.js';
import { buildGblinearModel } from './gblinear-builder.js';
import { GblinearModel } from './gblinear-model.js';

const ROOT = fixturePath('derived/');
const dirs = readdirSync(ROOT).filter((d) => d.startsWith('xgb-gblinear-'));
const modelFileOf = (dir: string) => readdirSync(ROOT + dir).find((f) => f.startsWith('model.')) as string;
const bytesOf = (dir: string) => new Uint8Array(readFileSync(`${ROOT}${dir}/${modelFileOf(dir)}`));
const load = (dir: string) => loadModel(bytesOf(dir), { fileName: modelFileOf(dir) });
const docOf = (dir: string): any => decodeXgboostJson(readFileSync(`${ROOT}${dir}/model.json`, 'utf8'));
const fromDoc = (doc: unknown) => loadModel(new TextEncoder().encode(JSON.stringify(doc)));

describe('gblinear fixtures match XGBoost 1.7.4', () => {
  it('there are the fixtures', () => {
    expect(dirs).toEqual(
      expect.arrayContaining([
        'xgb-gblinear-reg',
        'xgb-gblinear-binary',
        'xgb-gblinear-binary-ubj',
        'xgb-gblinear-binary-v2',
        'xgb-gblinear-multiclass',
        'xgb-gblinear-multiclass-v3',
        'xgb-gblinear-poisson',
      ]),
    );
  });

  for (const dir of dirs) {
    it(`${dir}: predict, predictOne, predictNamed and raw; from its buffer and a .grove file`, () => {
      const model = load(dir);
      expect(model).toBeInstanceOf(GblinearModel);
      const x = readCsv(`${ROOT}${dir}/test.csv`, true);
      expect(x.cols).toBe(model.meta.numFeatures);
      const models: Array<[string, Model]> = [
        ['loaded', model],
        ['modelFromBuffer', modelFromBuffer(model.buffer)],
        ['.grove file', loadModel(encodeGroveFile(model.buffer))],
      ];
      for (const [raw, csv] of [
        [false, 'pred.csv'],
        [true, 'raw.csv'],
      ] as const) {
        const want = readCsv(`${ROOT}${dir}/${csv}`, false);
        expect(want.cols).toBe(raw ? model.meta.rawOutputNames.length : model.meta.outputNames.length);
        for (const [how, m] of models) {
          const { batch, one, byName } = predictEveryWay(m, x.data, x.rows, raw);
          expect(firstMismatch(batch, want.data), `${how}, ${csv}`).toBeNull();
          expect(Array.from(one), `${how}, ${csv}: one row at a time`).toEqual(Array.from(batch));
          expect(Array.from(byName), `${how}, ${csv}: named rows`).toEqual(Array.from(batch));
        }
      }
    });

    it(`${dir}: margins are XGBoost's float32 sums bit for bit`, () => {
      const model = load(dir);
      const x = readCsv(`${ROOT}${dir}/test.csv`, true);
      const want = readCsv(`${ROOT}${dir}/raw.csv`, false).data;
      expect(Array.from(predictEveryWay(model, x.data, x.rows, true).batch)).toEqual(Array.from(want));
    });
  }

  it('the UBJSON file saved by XGBoost gives the same model as its JSON twin', () => {
    const json = parseXgboostLinear(docOf('xgb-gblinear-binary'));
    const ubj = parseXgboostLinear(decodeUbjson(bytesOf('xgb-gblinear-binary-ubj')));
    expect(ubj).toEqual(json);
    expect(load('xgb-gblinear-binary-ubj').meta.platform).toBe('xgboost_ubj');
  });

  it('the test rows hold missing values, all-missing rows and float32 overflow', () => {
    const x = readCsv(`${ROOT}xgb-gblinear-reg/test.csv`, true);
    expect(x.data.filter(Number.isNaN).length).toBeGreaterThan(50);
    expect(Array.from(x.data.subarray(0, 6)).every(Number.isNaN)).toBe(true);
    const raw = readCsv(`${ROOT}xgb-gblinear-binary/raw.csv`, false).data;
    expect(raw).toContain(Number.POSITIVE_INFINITY);
  });
});

describe('metadata', () => {
  it('regression: f0.. names, one prediction column, features with a non-zero weight', () => {
    const m = load('xgb-gblinear-reg');
    expect(m.meta).toMatchObject({
      platform: 'xgboost_json',
      library: 'xgboost',
      objective: 'reg:squarederror',
      task: 'regression',
      numFeatures: 6,
      featureNames: ['f0', 'f1', 'f2', 'f3', 'f4', 'f5'],
      outputNames: ['prediction'],
      rawOutputNames: ['margin'],
      classes: null,
      sparse: false,
    });
    // L1 zeroed the weights of f3 and f4
    expect(m.meta.usedFeatures).toEqual([0, 1, 2, 5]);
  });

  it('binary, multiclass and softmax name their columns as the tree models do', () => {
    expect(load('xgb-gblinear-binary').meta).toMatchObject({
      task: 'binary',
      outputNames: ['prediction'],
      rawOutputNames: ['margin'],
      classes: [0, 1],
    });
    const multi = load('xgb-gblinear-multiclass').meta;
    expect(multi).toMatchObject({
      task: 'multiclass',
      featureNames: ['age', 'income', 'tenure', 'visits', 'plan', 'balance'],
      outputNames: ['0', '1', '2'],
      rawOutputNames: ['0', '1', '2'],
      classes: [0, 1, 2],
      usedFeatures: [0, 1, 2, 3, 4, 5],
    });
    expect(load('xgb-gblinear-softmax').meta).toMatchObject({
      objective: 'multi:softmax',
      outputNames: ['prediction'],
      rawOutputNames: ['0', '1', '2'],
    });
  });

  it('a Model rebuilt from the buffer has the same metadata', () => {
    const m = load('xgb-gblinear-multiclass');
    expect(modelFromBuffer(m.buffer).meta).toEqual(m.meta);
  });
});

describe('newer file layouts and edge cases', () => {
  it('2.x base_score "[3E-1]" and 3.1 per-class intercepts are margins like for trees', () => {
    expect(Array.from(parseXgboostLinear(docOf('xgb-gblinear-binary-v2')).baseMargin)).toEqual(
      Array.from(parseXgboostLinear(docOf('xgb-gblinear-binary')).baseMargin),
    );
    const v3 = parseXgboostLinear(docOf('xgb-gblinear-multiclass-v3'));
    expect(Array.from(v3.baseMargin)).toEqual([-0.395, 0.197, -0.157].map(Math.fround));
  });

  it('base_score goes through the objective link (logit for binary:logistic, log for poisson)', () => {
    const bin = parseXgboostLinear(docOf('xgb-gblinear-binary'));
    expect(bin.baseMargin[0]).toBeCloseTo(Math.log(0.3 / 0.7), 6);
    const poisson = parseXgboostLinear(docOf('xgb-gblinear-poisson'));
    expect(poisson.baseMargin[0]).toBe(Math.fround(Math.log(Math.fround(0.5))));
    expect(poisson.transform).toBe('exp');
  });

  it('a model saved before any round (weights []) predicts the intercept, as XGBoost does', () => {
    const doc = docOf('xgb-gblinear-binary');
    doc.learner.gradient_booster.model.weights = [];
    doc.learner.gradient_booster.model.boosted_rounds = 0;
    const m = fromDoc(doc);
    const out = new Float64Array(1);
    m.predictOne(Float64Array.of(1, 2, 3, 4, 5, 6), out);
    expect(out[0]).toBeCloseTo(0.3, 6);
    expect(m.meta.usedFeatures).toEqual([]);
  });

  it('names: absent and null are missing, unknown names are refused', () => {
    const m = load('xgb-gblinear-multiclass');
    const a = new Float64Array(3);
    const b = new Float64Array(3);
    m.predictNamed([{ age: 1.5, income: null, plan: '2' }], a, true);
    m.predict(Float64Array.of(1.5, Number.NaN, Number.NaN, Number.NaN, 2, Number.NaN), 1, b, true);
    expect(a).toEqual(b);
    expect(() => m.predictNamed([{ age: 1, wage: 2 }], a)).toThrow(UnknownFeatureError);
  });

  it('short inputs and outputs are BadInputError', () => {
    const m = load('xgb-gblinear-multiclass');
    expect(() => m.predict(new Float64Array(11), 2, new Float64Array(6))).toThrow(BadInputError);
    expect(() => m.predict(new Float64Array(12), 2, new Float64Array(5))).toThrow(BadInputError);
    expect(() => m.predictOne(new Float64Array(5), new Float64Array(3))).toThrow(BadInputError);
  });

  it('a Model rebuilt from the same SharedArrayBuffer in a worker_thread predicts identically', async () => {
    const m = load('xgb-gblinear-multiclass');
    const x = readCsv(`${ROOT}xgb-gblinear-multiclass/test.csv`, true);
    const here = predictEveryWay(m, x.data, x.rows, false).batch;
    const { out } = await predictInThread(m, x.data, x.rows);
    expect(out).toEqual(here);
  });
});

describe('malformed gblinear files are ModelFormatError', () => {
  const bad = (edit: (doc: any) => void) => {
    const doc = docOf('xgb-gblinear-multiclass');
    edit(doc);
    return () => fromDoc(doc);
  };

  it('weights of the wrong length, or not an array', () => {
    const short = bad((d) => d.learner.gradient_booster.model.weights.pop());
    expect(short).toThrow(ModelFormatError);
    expect(short).toThrow(/weights has 20 values; .*\(6 \+ 1\) \* 3 = 21 expected/);
    expect(bad((d) => d.learner.gradient_booster.model.weights.push(1))).toThrow(ModelFormatError);
    expect(bad((d) => (d.learner.learner_model_param.num_class = '4'))).toThrow(/weights has 21 values/);
    expect(bad((d) => (d.learner.gradient_booster.model.weights = 'abc'))).toThrow(/not an array/);
    expect(bad((d) => (d.learner.gradient_booster.model.weights = { a: 1 }))).toThrow(ModelFormatError);
    expect(bad((d) => d.learner.gradient_booster.model.weights.splice(3, 1, 'x'))).toThrow(ModelFormatError);
    expect(bad((d) => delete d.learner.gradient_booster.model)).toThrow(/has no 'model'/);
    expect(bad((d) => delete d.learner.gradient_booster.model.weights)).toThrow(/has no 'weights'/);
  });

  it('non-finite or absurd counts', () => {
    for (const v of ['NaN', 'Infinity', '-1', '2.5', 'many', null]) {
      expect(bad((d) => (d.learner.learner_model_param.num_feature = v))).toThrow(ModelFormatError);
    }
    expect(bad((d) => (d.learner.learner_model_param.num_class = 'Infinity'))).toThrow(ModelFormatError);
    // An empty weights list for a huge num_feature is refused, not allocated.
    const huge = bad((d) => {
      d.learner.learner_model_param.num_feature = '1e12';
      d.learner.gradient_booster.model.weights = [];
    });
    expect(huge).toThrow(ModelFormatError);
  });

  it('bad base_score, unknown objective, missing learner fields', () => {
    expect(bad((d) => (d.learner.learner_model_param.base_score = '[1E0,2E0]'))).toThrow(
      /base_score has 2 values for 3 outputs/,
    );
    expect(bad((d) => (d.learner.learner_model_param.base_score = 'x'))).toThrow(ModelFormatError);
    expect(bad((d) => (d.learner.objective.name = 'reg:wizardry'))).toThrow(UnknownObjectiveError);
    expect(bad((d) => delete d.learner.learner_model_param)).toThrow(ModelFormatError);
  });

  it('truncated JSON and UBJSON files', () => {
    const json = bytesOf('xgb-gblinear-multiclass');
    const ubj = bytesOf('xgb-gblinear-binary-ubj');
    for (const bytes of [json, ubj]) {
      for (let k = 1; k < 24; k++) {
        const cut = Math.floor((bytes.length * k) / 24);
        expect(() => loadModel(bytes.subarray(0, cut)), `cut at ${cut}`).toThrow(ModelFormatError);
      }
    }
    expect(() => loadModel(json.subarray(0, json.length / 2))).toThrow(TruncatedModelError);
  });

  it('the builder checks the IR it is given', () => {
    const ir = parseXgboostLinear(docOf('xgb-gblinear-reg'));
    expect(() => buildGblinearModel({ ...ir, weights: ir.weights.subarray(1) }, 'xgboost_json')).toThrow(
      ModelFormatError,
    );
    expect(() => buildGblinearModel({ ...ir, baseMargin: new Float64Array(2) }, 'xgboost_json')).toThrow(
      ModelFormatError,
    );
  });

  it('only gblinear documents are routed to this parser', () => {
    expect(isGblinearDocument(docOf('xgb-gblinear-reg'))).toBe(true);
    expect(isGblinearDocument(docOf('xgb-poisson'))).toBe(false);
    expect(isGblinearDocument({ learner: 1 })).toBe(false);
    expect(() => parseXgboostLinear(docOf('xgb-poisson'))).toThrow(/booster is ‘gbtree’, not gblinear/);
  });
});
