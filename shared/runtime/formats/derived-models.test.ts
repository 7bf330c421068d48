// Models trained by the real libraries (XGBoost 1.7.4, LightGBM 4.5.0) for objectives, boosters and
// edge cases beyond the main fixtures: test/fixtures/derived/generate.py made them, with each
// library's own predictions. Every one must match at the fixtures' tolerance, first through the
// reference interpreter, then as served: the compiled Model's batch, one-row, named-row and raw
// predictions, on the JavaScript kernel and on the one GROVE_KERNEL selects, rebuilt from its
// SharedArrayBuffer and after a round trip through grove's own file.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Container } from '../container.js';
import { firstMismatch, fixturePath, predictEveryWay, readCsv } from '../fixtures.test-helper.js';
import { loadModel, modelFromBuffer } from '../load.js';
import type { Model } from '../model.js';
import { referencePredict } from '../trees/reference-predict.js';
import type { TreeEnsembleIR } from '../trees/tree-ir.js';
import { TreeModel } from '../trees/tree-model.js';
import { detectFormat } from './detect.js';
import { encodeGroveFile } from './grove-binary.js';
import { parseLightgbmText } from './lightgbm-text.js';
import { decodeUbjson } from './ubjson.js';
import { decodeXgboostJson, parseXgboost } from './xgboost-json.js';

const ROOT = fixturePath('derived/');
// Tree ensembles; XGBoost gblinear models (xgb-gblinear-*) are no trees and have their own tests.
const dirs = readdirSync(ROOT, { withFileTypes: true })
  .filter((d) => d.isDirectory() && !d.name.startsWith('xgb-gblinear'))
  .map((d) => d.name);
const LINEAR = ['lgb-linear-tree', 'lgb-linear-tree-binary', 'lgb-linear-tree-multiclass'];

const modelFileOf = (dir: string) => readdirSync(ROOT + dir).find((f) => f.startsWith('model.')) as string;

function load(dir: string): TreeEnsembleIR {
  const file = modelFileOf(dir);
  const bytes = new Uint8Array(readFileSync(`${ROOT}${dir}/${file}`));
  switch (detectFormat(bytes, file)) {
    case 'xgboost_json':
      return parseXgboost(decodeXgboostJson(Buffer.from(bytes).toString('utf8')));
    case 'xgboost_ubj':
      return parseXgboost(decodeUbjson(bytes));
    case 'lightgbm_text':
      return parseLightgbmText(Buffer.from(bytes).toString('utf8'));
    default:
      throw new Error(`unexpected format for ${dir}`);
  }
}

describe('derived models trained by the real libraries', () => {
  it('there are models to check', () => expect(dirs.length).toBeGreaterThan(25));
  for (const dir of dirs) {
    it(`${dir} matches the library's raw and transformed predictions`, () => {
      const ir = load(dir);
      const x = readCsv(`${ROOT}${dir}/test.csv`, true);
      expect(x.cols).toBe(ir.numFeatures);
      expect(
        firstMismatch(
          referencePredict(ir, x.data, x.rows, true),
          readCsv(`${ROOT}${dir}/raw.csv`, false).data,
        ),
      ).toBeNull();
      expect(
        firstMismatch(
          referencePredict(ir, x.data, x.rows, false),
          readCsv(`${ROOT}${dir}/pred.csv`, false).data,
        ),
      ).toBeNull();
    });
  }

  it('LightGBM linear trees are read, with terms, and their test rows hold NaN in leaf features', () => {
    for (const dir of LINEAR) {
      const ir = load(dir);
      expect(ir.trees.every((t) => t.linear)).toBe(true);
      expect(ir.trees.some((t) => t.linear && t.linear.linearFeature.length > 0)).toBe(true);
      const used = new Set(ir.trees.flatMap((t) => Array.from(t.linear?.linearFeature ?? [])));
      const x = readCsv(`${ROOT}${dir}/test.csv`, true);
      const nanInLeafFeature = Array.from(x.data).some((v, i) => Number.isNaN(v) && used.has(i % x.cols));
      expect(nanInLeafFeature).toBe(true);
    }
    expect(load('lgb-linear-tree-multiclass').numGroups).toBe(3);
    expect(load('lgb-linear-tree-binary').transform).toBe('sigmoid');
  });

  it('LightGBM linear-tree raw margins equal the library bit for bit (same terms, same order)', () => {
    // raw.csv holds 17 significant digits, which round-trip a double exactly.
    for (const dir of LINEAR) {
      const x = readCsv(`${ROOT}${dir}/test.csv`, true);
      const model = loadModel(new Uint8Array(readFileSync(`${ROOT}${dir}/model.txt`)));
      const got = new Float64Array(x.rows * model.meta.rawOutputNames.length);
      model.predict(x.data, x.rows, got, true);
      expect(Array.from(got), dir).toEqual(Array.from(readCsv(`${ROOT}${dir}/raw.csv`, false).data));
    }
  });
});

describe('derived models as served (compiled Model, both kernels, buffer and .grove round trips)', () => {
  for (const dir of dirs) {
    it(`${dir} matches the library through predict, predictOne, predictNamed and raw`, () => {
      const file = modelFileOf(dir);
      const loaded = loadModel(new Uint8Array(readFileSync(`${ROOT}${dir}/${file}`)), { fileName: file });
      const models: Array<[string, Model]> = [
        ['GROVE_KERNEL choice', loaded],
        ['js kernel', new TreeModel(new Container(loaded.buffer), undefined, 'js')],
        ['modelFromBuffer', modelFromBuffer(loaded.buffer)],
        ['.grove file', loadModel(encodeGroveFile(loaded.buffer))],
      ];
      if (LINEAR.includes(dir)) {
        const layout = (loaded as TreeModel).layout;
        expect(layout.hasLinear).toBe(true);
        // Linear leaves run on the JavaScript kernel whatever is asked for.
        expect(new TreeModel(new Container(loaded.buffer), undefined, 'wasm').kernel).toBe('js');
      }
      const x = readCsv(`${ROOT}${dir}/test.csv`, true);
      for (const [raw, csv] of [
        [false, 'pred.csv'],
        [true, 'raw.csv'],
      ] as const) {
        const want = readCsv(`${ROOT}${dir}/${csv}`, false).data;
        for (const [how, model] of models) {
          const { batch, one, byName } = predictEveryWay(model, x.data, x.rows, raw);
          expect(firstMismatch(batch, want), `${how}, ${csv}`).toBeNull();
          expect(Array.from(one), `${how}, ${csv}: one row at a time`).toEqual(Array.from(batch));
          expect(Array.from(byName), `${how}, ${csv}: named rows`).toEqual(Array.from(batch));
        }
      }
    });
  }
});
