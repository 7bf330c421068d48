import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../errors/grove-error.js';
import { fixturePath } from '../fixtures.test-helper.js';
import { detectFormat } from './detect.js';

const read = (rel: string) => new Uint8Array(readFileSync(fixturePath(rel)));
const bytes = (s: string) => new TextEncoder().encode(s);

describe('detectFormat', () => {
  it('recognises every fixture from its content', () => {
    for (const m of [
      'xgb-binary-100x4',
      'xgb-binary-500x8',
      'xgb-categorical',
      'xgb-multiclass',
      'xgb-regression',
    ]) {
      expect(detectFormat(read(`xgboost/${m}/model.json`))).toBe('xgboost_json');
    }
    expect(detectFormat(read('xgboost/xgb-binary-100x4/model.ubj'))).toBe('xgboost_ubj');
    for (const m of [
      'lgb-binary-100x4',
      'lgb-categorical',
      'lgb-multiclass',
      'lgb-nan-unseen',
      'lgb-regression',
    ]) {
      expect(detectFormat(read(`lightgbm/${m}/model.txt`))).toBe('lightgbm_text');
    }
    for (const m of ['sk-ridge', 'sk-random-forest', 'sk-hist-gbdt', 'sk-logistic']) {
      expect(detectFormat(read(`sklearn/${m}/model.pkl`))).toBe('sklearn_pickle');
      expect(detectFormat(read(`sklearn/${m}/model.joblib`))).toBe('sklearn_joblib');
    }
  });

  it('ignores a misleading file name', () => {
    expect(detectFormat(read('lightgbm/lgb-regression/model.txt'), 'model.json')).toBe('lightgbm_text');
    expect(detectFormat(read('xgboost/xgb-regression/model.json'), 'model.txt')).toBe('xgboost_json');
  });

  it('recognises grove files, compressed joblib, and JSON with leading whitespace or a BOM', () => {
    expect(detectFormat(Uint8Array.from([0x47, 0x52, 0x4f, 0x56, 0x45, 0, 1, 0]))).toBe('grove');
    expect(detectFormat(Uint8Array.from([0x78, 0x9c, 1, 2]))).toBe('sklearn_joblib');
    expect(detectFormat(Uint8Array.from([0x1f, 0x8b, 8, 0]))).toBe('sklearn_joblib');
    expect(detectFormat(Uint8Array.from([0xef, 0xbb, 0xbf, ...bytes('\n {"learner": {}}')]))).toBe(
      'xgboost_json',
    );
    expect(detectFormat(bytes('tree\r\nversion=v4\r\n'))).toBe('lightgbm_text');
  });

  it('refuses other files with a message saying what they look like', () => {
    const cases: [Uint8Array, RegExp][] = [
      [bytes('f0,f1,f2\n1,2,3\n'), /model\.bin is not a model file grove can read \(looks like a CSV file/],
      [bytes('{"hello": 1}'), /JSON without XGBoost's "learner"/],
      [Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0, 0]), /zip archive/],
      [Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 255, 0, 0, 0]), /binary data/],
      [new Uint8Array(0), /empty/],
      [bytes('{"name":"tree","version":"v4","tree_info":[{"tree_structure":{}}]}'), /LightGBM JSON dump/],
      [bytes('booster[0]:\n0:[f3<0.5] yes=1,no=2,missing=1\n'), /XGBoost text dump/],
    ];
    for (const [b, re] of cases) {
      expect(() => detectFormat(b, 'model.bin')).toThrow(ModelFormatError);
      expect(() => detectFormat(b, 'model.bin')).toThrow(re);
    }
  });
});
