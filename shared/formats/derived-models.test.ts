// Models trained by the real libraries (XGBoost 1.7.4, LightGBM 4.5.0) for objectives, boosters and
// edge cases beyond the main fixtures: test/fixtures/derived/generate.py made them, with each
// library's own predictions. Every one must match at the fixtures' tolerance.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { firstMismatch, fixturePath, readCsv } from '../../test/support/tree-fixtures.js';
import { UnsupportedModelError } from '../errors/grove-error.js';
import { referencePredict } from '../model/trees/reference-predict.js';
import type { TreeEnsembleIR } from '../model/trees/tree-ir.js';
import { detectFormat } from './detect.js';
import { parseLightgbmText } from './lightgbm-text.js';
import { decodeUbjson } from './ubjson.js';
import { decodeXgboostJson, parseXgboost } from './xgboost-json.js';

const ROOT = fixturePath('derived/');
const dirs = readdirSync(ROOT, { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== 'lgb-linear-tree')
  .map((d) => d.name);

function load(dir: string): TreeEnsembleIR {
  const file = readdirSync(ROOT + dir).find((f) => f.startsWith('model.')) as string;
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

  it('LightGBM linear trees are refused by default, with a message naming them', () => {
    const text = readFileSync(`${ROOT}lgb-linear-tree/model.txt`, 'utf8');
    expect(() => parseLightgbmText(text)).toThrow(UnsupportedModelError);
    expect(() => parseLightgbmText(text)).toThrow(/linear trees/);
  });

  it('LightGBM linear trees, when asked for, match the library (NaN falls back to the leaf value)', () => {
    const dir = `${ROOT}lgb-linear-tree`;
    const ir = parseLightgbmText(readFileSync(`${dir}/model.txt`, 'utf8'), { linearTrees: true });
    expect(ir.trees.some((t) => t.linear && t.linear.linearFeature.length > 0)).toBe(true);
    const x = readCsv(`${dir}/test.csv`, true);
    expect(x.data.some(Number.isNaN)).toBe(true);
    expect(
      firstMismatch(referencePredict(ir, x.data, x.rows, true), readCsv(`${dir}/raw.csv`, false).data),
    ).toBeNull();
    expect(
      firstMismatch(referencePredict(ir, x.data, x.rows, false), readCsv(`${dir}/pred.csv`, false).data),
    ).toBeNull();
  });
});
