// Damaged model files must fail with a typed ModelFormatError (or, if the damage happens to leave a
// valid model, parse): never a TypeError/RangeError that would surface as a 500 or crash a worker.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelFormatError, TruncatedModelError } from '../../errors/grove-error.js';
import { fixturePath } from '../fixtures.test-helper.js';
import { detectFormat } from './detect.js';
import { parseLightgbmText } from './lightgbm-text.js';
import { decodeUbjson } from './ubjson.js';
import { decodeXgboostJson, parseXgboost } from './xgboost-json.js';

function parse(bytes: Uint8Array): unknown {
  const text = () => Buffer.from(bytes).toString('utf8');
  switch (detectFormat(bytes)) {
    case 'xgboost_json':
      return parseXgboost(decodeXgboostJson(text()));
    case 'xgboost_ubj':
      return parseXgboost(decodeUbjson(bytes));
    case 'lightgbm_text':
      return parseLightgbmText(text());
    default:
      throw new ModelFormatError('other format');
  }
}

/** Deterministic pseudo-random numbers (xorshift) so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

const FILES = [
  'xgboost/xgb-binary-100x4/model.json',
  'xgboost/xgb-binary-100x4/model.ubj',
  'xgboost/xgb-categorical/model.json',
  'derived/xgb-multiclass-v3/model.ubj',
  'lightgbm/lgb-categorical/model.txt',
  'lightgbm/lgb-multiclass/model.txt',
  'derived/lgb-linear-tree-multiclass/model.txt',
];

describe('damaged model files fail with typed errors', () => {
  for (const file of FILES) {
    const full = new Uint8Array(readFileSync(fixturePath(file)));
    const endOfTrees = Buffer.from(full).indexOf('end of trees');

    it(`${file}: every truncation throws TruncatedModelError or ModelFormatError`, () => {
      const next = rng(full.length);
      for (let k = 0; k < 40; k++) {
        const cut = Math.floor(next() * full.length);
        if (endOfTrees >= 0 && cut > endOfTrees + 12) continue; // only the trailer is gone: still a model
        let err: unknown = null;
        try {
          parse(full.subarray(0, cut));
        } catch (e) {
          err = e;
        }
        expect(err, `cut at ${cut}`).toBeInstanceOf(ModelFormatError);
        if (cut > 64 && !file.endsWith('.json'))
          expect(err, `cut at ${cut}`).toBeInstanceOf(TruncatedModelError);
      }
    });

    it(`${file}: flipped bytes never escape as untyped errors`, () => {
      const next = rng(full.length * 7 + 1);
      for (let k = 0; k < 40; k++) {
        const bad = full.slice();
        for (let j = 0; j < 4; j++) bad[Math.floor(next() * bad.length)] = Math.floor(next() * 256);
        try {
          parse(bad);
        } catch (e) {
          expect(e, `round ${k}`).toBeInstanceOf(ModelFormatError);
        }
      }
    });
  }
});
