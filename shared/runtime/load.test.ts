// loadModel/loadModelFile on every XGBoost and LightGBM fixture: the compiled Model reproduces the
// library's own pred.csv and raw.csv (1e-6 absolute for probabilities, 1e-6 relative above 1), in
// batches and one row at a time; the .ubj twin and the .grove conversion answer the same; a Model
// rebuilt from the same SharedArrayBuffer in a real worker_thread predicts identically.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UnknownFeatureError } from '../errors/grove-error.js';
import {
  FIXTURES,
  firstMismatch,
  predictEveryWay,
  predictInThread,
  readCsv,
} from './fixtures.test-helper.js';
import { encodeGroveFile } from './formats/grove-binary.js';
import { loadModel, loadModelBuffer, loadModelFile, modelFromBuffer } from './load.js';
import type { Model } from './model.js';

const dirs = ['xgboost', 'lightgbm'].flatMap((lib) =>
  readdirSync(join(FIXTURES, lib)).map((name) => join(FIXTURES, lib, name)),
);

function modelFile(dir: string): string {
  return join(dir, readdirSync(dir).find((f) => /^model\.(json|txt)$/.test(f))!);
}

describe.each(dirs.map((d) => [d.split('/').slice(-2).join('/'), d]))('%s', (_name, dir) => {
  it('matches pred.csv and raw.csv in batches and one row at a time', async () => {
    const model = await loadModelFile(modelFile(dir));
    const x = readCsv(join(dir, 'test.csv'), true);
    expect(x.cols).toBe(model.meta.numFeatures);
    for (const [raw, file] of [
      [false, 'pred.csv'],
      [true, 'raw.csv'],
    ] as const) {
      const want = readCsv(join(dir, file), false);
      expect(want.cols).toBe(raw ? model.meta.rawOutputNames.length : model.meta.outputNames.length);
      const { batch, one } = predictEveryWay(model, x.data, x.rows, raw);
      expect(firstMismatch(batch, want.data)).toBeNull();
      expect(Array.from(one)).toEqual(Array.from(batch));
    }
  });

  it('converts to a .grove file that predicts identically', async () => {
    const model = await loadModelFile(modelFile(dir));
    const again = loadModel(encodeGroveFile(model.buffer));
    expect(again.meta.platform).toBe('grove');
    expect(again.meta.sourcePlatform).toBe(model.meta.sourcePlatform);
    const x = readCsv(join(dir, 'test.csv'), true);
    for (const raw of [false, true])
      expect(predictEveryWay(again, x.data, 300, raw).batch).toEqual(
        predictEveryWay(model, x.data, 300, raw).batch,
      );
  });
});

describe('other paths', () => {
  it("loadModelBuffer (a load host's work) gives loadModel's container byte for byte, of every kind", () => {
    const files = [
      ...dirs.map(modelFile),
      join(FIXTURES, 'xgboost', 'xgb-binary-100x4', 'model.ubj'),
      join(FIXTURES, 'sklearn', 'sk-random-forest', 'model.pkl'),
      join(FIXTURES, 'sklearn', 'sk-gbdt-multiclass', 'model.joblib'),
      join(FIXTURES, 'sklearn', 'sk-ridge', 'model.pkl'),
      join(FIXTURES, 'sklearn', 'sk-sparse-dictvectorizer-logistic', 'model.pkl'),
      join(FIXTURES, 'derived', 'xgb-gblinear-multiclass', 'model.json'),
      join(FIXTURES, 'derived', 'lgb-linear-tree', 'model.txt'),
    ];
    for (const file of files) {
      const bytes = new Uint8Array(readFileSync(file));
      const opts = { fileName: file.slice(file.lastIndexOf('/') + 1) };
      const want = loadModel(bytes, opts).buffer;
      const got = loadModelBuffer(bytes, opts);
      expect(Buffer.from(got).equals(Buffer.from(want)), file).toBe(true);
      const grove = encodeGroveFile(want);
      expect(Buffer.from(loadModelBuffer(grove)).equals(Buffer.from(want)), `${file} as .grove`).toBe(true);
    }
  });

  it('the .ubj twin gives the same answers as model.json', async () => {
    const dir = join(FIXTURES, 'xgboost', 'xgb-binary-100x4');
    const a = await loadModelFile(join(dir, 'model.json'));
    const b = await loadModelFile(join(dir, 'model.ubj'));
    expect(b.meta.platform).toBe('xgboost_ubj');
    const x = readCsv(join(dir, 'test.csv'), true);
    for (const raw of [false, true])
      expect(predictEveryWay(b, x.data, x.rows, raw).batch).toEqual(
        predictEveryWay(a, x.data, x.rows, raw).batch,
      );
  });

  it('detects the format from content, whatever the name', () => {
    const bytes = readFileSync(join(FIXTURES, 'lightgbm', 'lgb-regression', 'model.txt'));
    expect(loadModel(bytes, { fileName: 'model.json' }).meta.platform).toBe('lightgbm_text');
  });

  it('predictNamed maps names, treats absent and null as missing, and names unknown features', async () => {
    const dir = join(FIXTURES, 'xgboost', 'xgb-binary-100x4');
    const model = await loadModelFile(join(dir, 'model.json'));
    const x = readCsv(join(dir, 'test.csv'), true);
    const F = model.meta.numFeatures;
    const rows = [0, 1, 2].map((r) => {
      const o: Record<string, unknown> = {};
      model.meta.featureNames.forEach((n, f) => {
        const v = x.data[r * F + f]!;
        if (Number.isNaN(v)) o[n] = r === 1 ? null : undefined;
        else o[n] = v;
      });
      return o;
    });
    const got = new Float64Array(3);
    model.predictNamed(rows, got);
    const want = new Float64Array(3);
    model.predict(x.data, 3, want);
    expect(got).toEqual(want);
    const evil = JSON.parse('{"__proto__": 1, "f0": 2}') as Record<string, unknown>;
    expect(() => model.predictNamed([evil], got)).toThrow(UnknownFeatureError);
    let caught: unknown;
    try {
      model.predictNamed([{ f0: 1, nope: 2, constructor: 3 }], got);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UnknownFeatureError);
    expect((caught as UnknownFeatureError).features.sort()).toEqual(['constructor', 'nope']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a Model rebuilt from the same SharedArrayBuffer in a worker_thread predicts identically', async () => {
    const dir = join(FIXTURES, 'lightgbm', 'lgb-categorical');
    const model = await loadModelFile(modelFile(dir));
    const x = readCsv(join(dir, 'test.csv'), true);
    const here = predictEveryWay(model, x.data, x.rows, false).batch;
    const msg = await predictInThread(model, x.data, x.rows);
    expect(msg.out).toEqual(here);
    expect(modelFromBuffer(model.buffer).meta).toEqual(model.meta);
  });
});
