// Every fixture model, exported: the ES module imported in Node answers with the WebAssembly kernel
// (where it covers the model) exactly as the library does and within 1e-6 of the training library;
// the CommonJS module, run in a bare V8 context that forbids code generation from strings and
// WebAssembly compilation (as edge runtimes and strict Content-Security-Policies do) and has no
// Node API, answers the same with its JavaScript kernels. The exported text embeds the model as
// base64 data only, and the 100-tree depth-4 model stays under 64 KB gzipped.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { clientFixtures, flatten, mismatch } from '../../test/support/client-fixtures.js';
import { GroveModel } from '../grove-model.js';
import { modelFromBytes } from '../model-bytes.js';
import { type ExportTarget, exportModule } from './export-module.js';

const tmp = mkdtempSync(join(tmpdir(), 'grove-export-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Exported {
  meta: unknown;
  ready: Promise<string>;
  predict(rows: unknown, n?: number): unknown;
  predictRaw(rows: unknown, n?: number): unknown;
}

function exported(file: string, target: ExportTarget) {
  const bytes = new Uint8Array(readFileSync(file));
  const { model, sha256 } = modelFromBytes(bytes, file.split('/').pop());
  return { lib: new GroveModel(model, sha256), out: exportModule(model, sha256, target) };
}

/** Runs a CommonJS export where only ECMAScript, TextDecoder, TextEncoder and structuredClone exist. */
function runSandboxed(text: string): Exported {
  const sandbox = { module: { exports: {} as Exported }, TextDecoder, TextEncoder, structuredClone };
  const ctx = vm.createContext(sandbox, { codeGeneration: { strings: false, wasm: false } });
  vm.runInContext(text, ctx, { filename: 'model.cjs' });
  return sandbox.module.exports;
}

const fixtures = clientFixtures();

describe('exported modules predict as the library, on every fixture', () => {
  it('there are fixtures of every format', () => {
    for (const root of [
      'xgboost/',
      'lightgbm/',
      'sklearn/',
      'derived/xgb-gblinear',
      'derived-sklearn/sk-pipeline',
    ])
      expect(fixtures.some((f) => f.name.startsWith(root))).toBe(true);
  });

  for (const f of fixtures) {
    it(`${f.name}: ES module in Node, then CommonJS with no code generation`, async () => {
      const { lib, out } = exported(f.modelFile, 'esm');
      const path = join(tmp, `${f.name.replace(/\//g, '_')}.mjs`);
      writeFileSync(path, out.text);
      const esm = (await import(pathToFileURL(path).href)) as Exported;
      const trees = out.jsKernels > 0;
      expect(await esm.ready).toBe(out.wasmBytes > 0 ? 'wasm' : trees ? 'js' : 'linear');
      expect(esm.meta).toEqual(lib.meta);
      const rows = f.rows();
      const want = lib.predict(rows as never);
      const got = esm.predict(rows) as unknown[];
      expect(mismatch(got, f.pred())).toBeNull();
      expect(flatten(got)).toEqual(flatten(want));
      const raw = f.raw();
      const gotRaw = esm.predictRaw(rows) as unknown[];
      if (raw) expect(mismatch(gotRaw, raw)).toBeNull();
      expect(flatten(gotRaw)).toEqual(flatten(lib.predictRaw(rows as never)));

      const cjs = runSandboxed(exported(f.modelFile, 'cjs').out.text);
      expect(await cjs.ready).toBe(trees ? 'js' : 'linear');
      const sandboxed = cjs.predict(rows) as unknown[];
      expect(mismatch(sandboxed, f.pred())).toBeNull();
      expect(flatten(sandboxed)).toEqual(flatten(want));
    });
  }
});

describe('an exported module', () => {
  const file = fixtures.find((f) => f.name === 'xgboost/xgb-binary-100x4/model.json')!;

  it('of the 100-tree depth-4 model is one file with no imports, under 64 KB gzipped', () => {
    const { out } = exported(file.modelFile, 'esm');
    expect(out.wasmBytes).toBeGreaterThan(0);
    expect(gzipSync(out.text, { level: 9 }).length).toBeLessThan(64 * 1024);
    expect(out.text).not.toMatch(/^\s*import\b|\bimport\s*\(|\brequire\s*\(/m);
  });

  it("carries the model's values as base64 data, never as code", () => {
    const { lib, out } = exported(file.modelFile, 'esm');
    // Feature names and the objective exist only inside the base64 container.
    expect(out.text).not.toContain(lib.meta.objective);
    // No threshold or leaf of the model appears as a number literal: the kernels are structure.
    const json = JSON.parse(readFileSync(file.modelFile, 'utf8')) as {
      learner: { gradient_booster: { model: { trees: { split_conditions: number[] }[] } } };
    };
    const values = json.learner.gradient_booster.model.trees[0]!.split_conditions.filter(
      (v) => !Number.isInteger(v),
    );
    expect(values.length).toBeGreaterThan(0);
    for (const v of values) expect(out.text).not.toContain(String(v));
  });

  it('takes a Float64Array with a row count, and throws the library’s errors', async () => {
    const { out } = exported(file.modelFile, 'esm');
    const path = join(tmp, 'typed.mjs');
    writeFileSync(path, out.text);
    const m = (await import(pathToFileURL(path).href)) as Exported;
    await m.ready;
    const rows = file.rows().slice(0, 3) as (number | null)[][];
    const dense = Float64Array.from(rows.flat().map((x) => (x === null ? Number.NaN : x)));
    const typed = m.predict(dense, 3) as Float64Array;
    expect(typed).toBeInstanceOf(Float64Array);
    expect(Array.from(typed)).toEqual(m.predict(rows));
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return (err as { code?: string }).code;
      }
      return 'no error';
    };
    expect(code(() => m.predict([[1, 2, 3]]))).toBe('GROVE_ERR_FEATURE_COUNT');
    expect(code(() => m.predict([{ nope: 1 }]))).toBe('GROVE_ERR_UNKNOWN_FEATURE');
    expect(code(() => m.predict([[...rows[0]!.slice(1), 'x']]))).toBe('GROVE_ERR_NOT_NUMERIC');
    expect(code(() => m.predict(dense, 2))).toBe('GROVE_ERR_BAD_SHAPE');
    expect(code(() => m.predict('rows'))).toBe('GROVE_ERR_BAD_INPUT');
  });
});
