// The library: loadModel from every kind of source, with sizes bounded before allocation; one model
// of every format predicts every fixture row within 1e-6 of the training library from rows as
// arrays (null = missing), as named objects and as a Float64Array; bad rows and bad sources throw
// GroveErrors with the server's codes.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { encodeGroveFile } from '../shared/runtime/formats/grove-binary.js';
import { loadModel as loadRuntimeModel } from '../shared/runtime/load.js';
import { clientFixtures, flatten, mismatch } from '../test/support/client-fixtures.js';
import { fixturePath } from '../test/support/tree-fixtures.js';
import { GroveError, loadModel } from './index.js';

const XGB = fixturePath('xgboost/xgb-binary-100x4/model.json');

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(GroveError);
    return (err as GroveError).code;
  }
  return 'no error';
}

function streamOf(bytes: Uint8Array, chunk = 4096): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.length) c.close();
      else c.enqueue(bytes.slice(at, (at += chunk)));
    },
  });
}

describe('loadModel sources', () => {
  const bytes = new Uint8Array(readFileSync(XGB));
  const sha = createHash('sha256').update(bytes).digest('hex');
  const sources: [string, () => unknown][] = [
    ['a path', () => XGB],
    ['a file: URL', () => pathToFileURL(XGB)],
    ['a Uint8Array', () => bytes],
    ['an ArrayBuffer', () => bytes.slice().buffer],
    ['a fetch Response', () => new Response(bytes.slice())],
    ['a Blob', () => new Blob([bytes])],
    ['a ReadableStream', () => streamOf(bytes)],
  ];
  it.each(sources)('from %s, with the file sha256', async (_what, source) => {
    const m = await loadModel(source() as never);
    expect(m.meta).toMatchObject({ library: 'xgboost', task: 'binary', format: 'xgboost_json', sha256: sha });
    expect(m.meta.features).toHaveLength(20);
    expect(m.predict([new Array(20).fill(null)])).toHaveLength(1);
  });

  it("from grove's own .grove file, answering as the file it was converted from", async () => {
    const original = await loadModel(XGB);
    const grove = encodeGroveFile(loadRuntimeModel(bytes).buffer);
    const m = await loadModel(grove, { fileName: 'model.grove' });
    expect(m.meta.format).toBe('xgboost_json');
    expect(m.meta.sha256).toBe(createHash('sha256').update(grove).digest('hex'));
    const rows = [new Array(20).fill(0.25), new Array(20).fill(null)];
    expect(m.predict(rows)).toEqual(original.predict(rows));
  });

  it('refuses sources above maxBytes before reading them', async () => {
    const max = { maxBytes: 1000 };
    expect(await codeOf(loadModel(XGB, max))).toBe('GROVE_ERR_MODEL_TOO_LARGE');
    expect(await codeOf(loadModel(bytes, max))).toBe('GROVE_ERR_MODEL_TOO_LARGE');
    expect(await codeOf(loadModel(new Blob([bytes]), max))).toBe('GROVE_ERR_MODEL_TOO_LARGE');
    // A stream is cut off once it passes the limit, whatever content-length said.
    const lying = new Response(streamOf(bytes), { headers: { 'content-length': '10' } });
    expect(await codeOf(loadModel(lying, max))).toBe('GROVE_ERR_MODEL_TOO_LARGE');
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled++;
        c.enqueue(new Uint8Array(512));
      },
    });
    expect(await codeOf(loadModel(endless, max))).toBe('GROVE_ERR_MODEL_TOO_LARGE');
    expect(pulled).toBeLessThan(10);
  });

  it('says what is wrong with a source it cannot read', async () => {
    expect(await codeOf(loadModel('/nonexistent/model.json'))).toBe('GROVE_ERR_MODEL_SOURCE');
    expect(await codeOf(loadModel(new URL('https://example.invalid/model.json')))).toBe(
      'GROVE_ERR_MODEL_SOURCE',
    );
    expect(await codeOf(loadModel(new Response('gone', { status: 404 })))).toBe('GROVE_ERR_MODEL_SOURCE');
    expect(await codeOf(loadModel(42 as never))).toBe('GROVE_ERR_MODEL_SOURCE');
    expect(await codeOf(loadModel(new TextEncoder().encode('{"learner": 1}')))).toBe(
      'GROVE_ERR_MODEL_FORMAT',
    );
  });
});

// One model of every format grove reads, and the ways rows can be given.
const PER_FORMAT = [
  'xgboost/xgb-multiclass/model.json',
  'xgboost/xgb-binary-100x4/model.ubj',
  'lightgbm/lgb-categorical/model.txt',
  'sklearn/sk-random-forest/model.joblib',
  'sklearn/sk-logistic/model.joblib',
  'derived-sklearn/sk-pipeline-impute-scale-forest/model.joblib',
  'derived-sklearn/sk-pipeline-impute-scale-logistic/model.joblib',
  'derived/xgb-gblinear-multiclass/model.json',
  'sklearn/sk-sparse-dictvectorizer-logistic/model.joblib',
];

describe('predictions equal the training library', () => {
  const fixtures = clientFixtures().filter((f) => PER_FORMAT.includes(f.name));
  it('covers every listed model', () => expect(fixtures).toHaveLength(PER_FORMAT.length));

  for (const f of fixtures) {
    it(`${f.name}: rows as arrays, as named objects, as a Float64Array`, async () => {
      const m = await loadModel(f.modelFile);
      const rows = f.rows();
      expect(mismatch(m.predict(rows as never), f.pred())).toBeNull();
      const raw = f.raw();
      if (raw) expect(mismatch(m.predictRaw(rows as never), raw)).toBeNull();
      if (m.meta.sparse) return;
      const named = (rows as (number | null)[][]).map((r) =>
        Object.fromEntries(r.flatMap((x, j) => (x === null ? [] : [[m.meta.features[j]!, x]]))),
      );
      expect(flatten(m.predict(named))).toEqual(flatten(m.predict(rows as never)));
      const dense = Float64Array.from((rows as (number | null)[][]).flat(), (x) => x ?? Number.NaN);
      const typed = m.predict(dense, rows.length);
      expect(typed).toBeInstanceOf(Float64Array);
      expect(typed).toEqual(flatten(m.predict(rows as never)));
      expect(m.predictRaw(dense, rows.length)).toEqual(flatten(m.predictRaw(rows as never)));
      // One row at a time answers as the batch does.
      expect(flatten(rows.slice(0, 20).map((r) => m.predict([r as never])[0]))).toEqual(
        flatten(m.predict(rows.slice(0, 20) as never)),
      );
    });
  }
});

describe('bad rows throw the server’s error codes', () => {
  it('for dense models', async () => {
    const m = await loadModel(XGB);
    const row = new Array(20).fill(0.5);
    expect(await codeOf(() => m.predict([[1, 2]]))).toBe('GROVE_ERR_FEATURE_COUNT');
    expect(await codeOf(() => m.predict([[...row.slice(1), 'abc']]))).toBe('GROVE_ERR_NOT_NUMERIC');
    expect(await codeOf(() => m.predict([{ f0: 'abc' }]))).toBe('GROVE_ERR_NOT_NUMERIC');
    expect(await codeOf(() => m.predict([{ f0: 1, nope: 2 }]))).toBe('GROVE_ERR_UNKNOWN_FEATURE');
    expect(await codeOf(() => m.predict(row as never))).toBe('GROVE_ERR_BAD_INPUT');
    expect(await codeOf(() => m.predict([row, { f0: 1 }] as never))).toBe('GROVE_ERR_BAD_INPUT');
    expect(await codeOf(() => m.predict(new Float64Array(30), 2))).toBe('GROVE_ERR_BAD_SHAPE');
    expect(await codeOf(() => m.predict(new Float64Array(40), 2.5))).toBe('GROVE_ERR_BAD_INPUT');
    expect(await codeOf(() => m.predict(new Float64Array(40) as never))).toBe('GROVE_ERR_BAD_INPUT');
    expect(await codeOf(() => m.predict(null as never))).toBe('GROVE_ERR_BAD_INPUT');
    // Missing values and the spellings JSON clients use for them are accepted.
    const [a] = m.predict([new Array(20).fill(null)]);
    expect(m.predict([new Array(20).fill('NaN')])[0]).toBe(a);
    expect(m.predict([{}])[0]).toBe(a);
    expect(m.predict([])).toEqual([]);
  });

  it('for sparse models', async () => {
    const m = await loadModel(fixturePath('sklearn/sk-sparse-dictvectorizer-logistic/model.joblib'));
    expect(m.meta.sparse).toBe(true);
    expect(m.meta.features).toEqual([]);
    expect(await codeOf(() => m.predict(new Float64Array(4), 1))).toBe('GROVE_ERR_BAD_INPUT');
    expect(await codeOf(() => m.predict([42] as never))).toBe('GROVE_ERR_BAD_INPUT');
  });
});
