// biome-ignore-all lint/suspicious/noExplicitAny: tests edit decoded model documents freely
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelFormatError, TruncatedModelError } from '../../errors/grove-error.js';
import { firstMismatch, fixturePath, readCsv } from '../fixtures.test-helper.js';
import { referencePredict } from '../trees/reference-predict.js';
import { decodeUbjson } from './ubjson.js';
import { decodeXgboostJson, parseXgboost } from './xgboost-json.js';

const dir = 'xgboost/xgb-binary-100x4';

describe('decodeUbjson', () => {
  it('the .ubj fixture gives the same IR and predictions as model.json', () => {
    const ubj = parseXgboost(decodeUbjson(new Uint8Array(readFileSync(fixturePath(`${dir}/model.ubj`)))));
    const json = parseXgboost(decodeXgboostJson(readFileSync(fixturePath(`${dir}/model.json`), 'utf8')));
    expect(ubj).toEqual(json);
    const x = readCsv(fixturePath(`${dir}/test.csv`), true);
    const pred = readCsv(fixturePath(`${dir}/pred.csv`), false);
    const raw = readCsv(fixturePath(`${dir}/raw.csv`), false);
    expect(firstMismatch(referencePredict(ubj, x.data, x.rows, false), pred.data)).toBeNull();
    expect(firstMismatch(referencePredict(ubj, x.data, x.rows, true), raw.data)).toBeNull();
  });

  it('decodes strongly typed arrays into typed arrays', () => {
    const doc = decodeUbjson(new Uint8Array(readFileSync(fixturePath(`${dir}/model.ubj`)))) as any;
    const tree = doc.learner.gradient_booster.model.trees[0];
    expect(tree.split_conditions).toBeInstanceOf(Float32Array);
    expect(tree.left_children).toBeInstanceOf(Int32Array);
  });

  it('decodes the scalar types, big-endian, and containers with and without counts', () => {
    const enc = new TextEncoder();
    const bytes = [
      0x7b, // {
      0x69,
      1,
      ...enc.encode('a'),
      0x49,
      0x01,
      0x02, // "a": int16 258
      0x69,
      1,
      ...enc.encode('b'),
      0x44,
      ...new Uint8Array(new Float64Array([1.5]).buffer).reverse(), // "b": 1.5
      0x69,
      1,
      ...enc.encode('c'),
      0x5b,
      0x54,
      0x46,
      0x5a,
      0x53,
      0x69,
      2,
      ...enc.encode('hi'),
      0x5d, // "c": [true,false,null,"hi"]
      0x69,
      1,
      ...enc.encode('d'),
      0x5b,
      0x23,
      0x69,
      2,
      0x55,
      7,
      0x69,
      0xff, // "d": [7,-1] (counted)
      0x69,
      9,
      ...enc.encode('__proto__'),
      0x55,
      1,
      0x7d,
    ];
    const doc = decodeUbjson(Uint8Array.from(bytes)) as any;
    expect(doc.a).toBe(258);
    expect(doc.b).toBe(1.5);
    expect(doc.c).toEqual([true, false, null, 'hi']);
    expect(doc.d).toEqual([7, -1]);
    expect(Object.hasOwn(doc, '__proto__')).toBe(true);
    expect(({} as any).polluted).toBeUndefined();
  });

  it('a truncated file throws TruncatedModelError, wherever it is cut', () => {
    const full = new Uint8Array(readFileSync(fixturePath(`${dir}/model.ubj`)));
    for (const cut of [1, 10, 1000, full.length >> 1, full.length - 1]) {
      expect(() => decodeUbjson(full.subarray(0, cut))).toThrow(TruncatedModelError);
    }
  });

  it('a count larger than the file is refused before allocating', () => {
    const bytes = Uint8Array.from([0x5b, 0x24, 0x64, 0x23, 0x6c, 0x7f, 0xff, 0xff, 0xff]);
    expect(() => decodeUbjson(bytes)).toThrow(TruncatedModelError);
  });

  it('bytes that are not UBJSON are a ModelFormatError', () => {
    expect(() => decodeUbjson(Uint8Array.from([0x7b, 0x69, 1, 0x61, 0x01]))).toThrow(ModelFormatError);
  });
});
