// The WebAssembly kernel against the JavaScript kernels (themselves bit-exact against the reference,
// compile.test.ts) and the libraries' own outputs: every fixture, every interleave, chunk
// boundaries, float32 sums over leaves that are not float32 values; plus the encoder's integers.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Container } from '../../container.js';
import { FIXTURES, firstMismatch, readCsv } from '../../fixtures.test-helper.js';
import { loadModelFile } from '../../load.js';
import { Code, encodeModule, I32 } from '../../wasm/encoder.js';
import { TreeModel, treeArrays } from '../tree-model.js';
import { planImage } from './memory-image.js';
import { makeWasmKernels } from './wasm-kernel.js';

const dirs = ['xgboost', 'lightgbm'].flatMap((lib) =>
  readdirSync(join(FIXTURES, lib)).map((name) => join(FIXTURES, lib, name)),
);
const modelFile = (dir: string) => join(dir, readdirSync(dir).find((f) => /^model\.(json|txt)$/.test(f))!);

/** `rows` rows cycling through the fixture's test rows. */
function inputRows(dir: string, F: number, rows: number): Float64Array {
  const x = readCsv(join(dir, 'test.csv'), true);
  expect(x.cols).toBe(F);
  const out = new Float64Array(rows * F);
  for (let r = 0; r < rows; r++) out.set(x.data.subarray((r % x.rows) * F, ((r % x.rows) + 1) * F), r * F);
  return out;
}

function both(buffer: SharedArrayBuffer): [TreeModel, TreeModel] {
  return [
    new TreeModel(new Container(buffer), undefined, 'js'),
    new TreeModel(new Container(buffer), undefined, 'wasm'),
  ];
}

interface WasmForTest {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: object) => { exports: { f(a: number, b: number): number } };
}

describe('encoder', () => {
  it('writes LEB128 integers as the spec examples do', () => {
    expect(new Code().u32(624485).bytes).toEqual([0xe5, 0x8e, 0x26]);
    expect(new Code().s32(-123456).bytes).toEqual([0xc0, 0xbb, 0x78]);
    expect(new Code().s32(64).bytes).toEqual([0xc0, 0x00]);
    expect(new Code().s32(-64).bytes).toEqual([0x40]);
    expect(new Code().u32(0xffffffff).bytes).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
  });
  it('emits a module that validates and runs', () => {
    const body = new Code().get(0).get(1).i32Add().i32(-7).i32Add();
    const bytes = encodeModule([{ params: [I32, I32], results: [I32], locals: [], body, export: 'f' }], 1);
    const W = (globalThis as unknown as { WebAssembly: WasmForTest }).WebAssembly;
    expect(W.validate(bytes)).toBe(true);
    const inst = new W.Instance(new W.Module(bytes), {});
    expect(inst.exports.f(40, 9)).toBe(42);
  });
});

describe.each(dirs.map((d) => [d.split('/').slice(-2).join('/'), d]))('%s', (_name, dir) => {
  it('WASM equals the JS kernels bit for bit and the library within tolerance', async () => {
    const loaded = (await loadModelFile(modelFile(dir))) as TreeModel;
    const [js, wasm] = both(loaded.buffer);
    expect(wasm.kernel).toBe('wasm');
    const F = loaded.meta.numFeatures;
    const x = readCsv(join(dir, 'test.csv'), true);
    for (const [raw, file] of [
      [false, 'pred.csv'],
      [true, 'raw.csv'],
    ] as const) {
      const W = raw ? loaded.meta.rawOutputNames.length : loaded.meta.outputNames.length;
      const a = new Float64Array(x.rows * W);
      const b = new Float64Array(x.rows * W);
      js.predict(x.data, x.rows, a, raw);
      wasm.predict(x.data, x.rows, b, raw);
      expect(Array.from(b)).toEqual(Array.from(a));
      expect(firstMismatch(b, readCsv(join(dir, file), false).data)).toBeNull();
      const one = new Float64Array(W);
      for (let r = 0; r < Math.min(x.rows, 50); r++) {
        wasm.predictOne(x.data.subarray(r * F, r * F + F), one, raw);
        expect(Array.from(one)).toEqual(Array.from(a.subarray(r * W, r * W + W)));
      }
    }
  });
});

describe('kernel shapes', () => {
  const pick = (name: string) => dirs.find((d) => d.endsWith(name))!;
  for (const name of [
    'xgb-regression',
    'xgb-multiclass',
    'lgb-nan-unseen',
    'lgb-multiclass',
    'lgb-categorical',
    'xgb-categorical',
  ]) {
    it(`${name}: every interleave, with and without tree blocks, across chunk boundaries`, async () => {
      const dir = pick(name);
      const m = (await loadModelFile(modelFile(dir))) as TreeModel;
      const rows = 1100; // two full 512-row chunks and a remainder that is no multiple of 8
      const x = inputRows(dir, m.meta.numFeatures, rows);
      const G = m.layout.numGroups;
      const want = new Float64Array(rows * G);
      new TreeModel(new Container(m.buffer), undefined, 'js').predict(x, rows, want, true);
      const c = new Container(m.buffer);
      const variants = [1, 2, 4, 8].flatMap((R) => [
        { R, blocked: 'never' as const },
        // tiny tree blocks: many blocks, each walked over every row group
        { R, blocked: 'always' as const, blockBytes: 4096 },
      ]);
      for (const opts of variants) {
        const k = makeWasmKernels(m.layout, treeArrays(c, m.layout), opts);
        if (opts.blocked === 'always') expect(k.plan.blocks.length).toBeGreaterThan(1);
        const got = new Float64Array(rows * G + 2 * G).fill(-1);
        k.plain(x, 0, rows, got, G); // written at an output offset, from the first row
        expect(got[0]).toBe(-1);
        expect(Array.from(got.subarray(G, G + rows * G))).toEqual(Array.from(want));
        const tail = new Float64Array(G);
        k.plain(x, rows - 1, 1, tail, 0);
        expect(Array.from(tail)).toEqual(Array.from(want.subarray((rows - 1) * G)));
      }
    });
  }

  it('float32 sums over leaves that are not float32 values round after every add', async () => {
    const dir = pick('xgb-binary-100x4');
    const m = (await loadModelFile(modelFile(dir))) as TreeModel;
    const copy = new SharedArrayBuffer(m.buffer.byteLength);
    new Uint8Array(copy).set(new Uint8Array(m.buffer));
    const c = new Container(copy);
    const leaves = c.f64('leaf_value');
    for (let i = 0; i < leaves.length; i += 3) leaves[i] = leaves[i]! + 1e-9 * (i % 7);
    expect(planImage(m.layout, treeArrays(c, m.layout), 8, 512).leafF32).toBe(false);
    const [js, wasm] = both(copy);
    expect(wasm.kernel).toBe('wasm');
    const rows = 333;
    const x = inputRows(dir, m.meta.numFeatures, rows);
    const a = new Float64Array(rows);
    const b = new Float64Array(rows);
    js.predict(x, rows, a, true);
    wasm.predict(x, rows, b, true);
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('GROVE_KERNEL=js forces the JavaScript kernels', async () => {
    const m = await loadModelFile(modelFile(pick('xgb-binary-100x4')));
    const before = process.env.GROVE_KERNEL;
    try {
      process.env.GROVE_KERNEL = 'js';
      expect(new TreeModel(new Container(m.buffer)).kernel).toBe('js');
      process.env.GROVE_KERNEL = 'wasm';
      expect(new TreeModel(new Container(m.buffer)).kernel).toBe('wasm');
    } finally {
      if (before === undefined) delete process.env.GROVE_KERNEL;
      else process.env.GROVE_KERNEL = before;
    }
  });
});
