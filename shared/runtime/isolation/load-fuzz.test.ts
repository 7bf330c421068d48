// A seeded, bounded fuzz test: real fixture files of every format grove reads (XGBoost JSON and
// UBJSON, LightGBM text, pickle, joblib plain and zlib-compressed, grove's own file), mutated the
// ways files break and the ways attackers edit them, then loaded through the bounded loader a
// worker uses. Every load either gives a working model or a decoding GROVE_ERR_ code: never a
// crash of the load host, never a deadline or heap limit hit by a file of a few kilobytes, never
// an untyped error from a decoder. GROVE_FUZZ_SEED and GROVE_FUZZ_ROUNDS replay or widen a run.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeGroveFile } from '../formats/grove-binary.js';
import { loadModel } from '../load.js';
import { ModelLoader } from './model-loader.js';

const SEED = Number(process.env.GROVE_FUZZ_SEED ?? 0x67726f76);
const ROUNDS = Number(process.env.GROVE_FUZZ_ROUNDS ?? 36);
const FIXTURES = join(import.meta.dirname, '../../../test/fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'grove-fuzz-'));
const loader = new ModelLoader({ timeoutMs: 20_000, hosts: 2 });
afterAll(async () => {
  await loader.close();
  rmSync(tmp, { recursive: true, force: true });
});

const read = (rel: string) => new Uint8Array(readFileSync(join(FIXTURES, rel)));
const same = (b: Uint8Array) => b;
/** The container of a model, as the bytes a .grove file carries behind its header. */
const container = (rel: string) => new Uint8Array(loadModel(read(rel)).buffer.slice(0));
const asGrove = (b: Uint8Array) => {
  const sab = new SharedArrayBuffer(b.length);
  new Uint8Array(sab).set(b);
  return encodeGroveFile(sab);
};
/** [format, file name, bytes to mutate, how the mutated bytes become the file]. Compressed and
 *  checksummed formats are mutated inside, then wrapped again, as an attacker would. */
const SEEDS: Array<[string, string, Uint8Array, (b: Uint8Array) => Uint8Array]> = [
  ['xgboost json', 'model.json', read('derived/xgb-base-score/model.json'), same],
  ['xgboost ubj', 'model.ubj', read('derived/xgb-dart/model.ubj'), same],
  ['lightgbm text', 'model.txt', read('derived/lgb-categorical-edge/model.txt'), same],
  ['pickle', 'model.pkl', read('derived-sklearn/sk-hist-gbdt-categorical/model.pkl'), same],
  ['joblib', 'model.joblib', read('sklearn/sk-ridge/model.joblib'), same],
  [
    'joblib zlib',
    'model.joblib',
    read('sklearn/sk-logistic/model.joblib'),
    (b) => new Uint8Array(deflateSync(b)),
  ],
  ['grove trees', 'model.grove', container('sklearn/sk-random-forest/model.pkl'), asGrove],
  ['grove linear', 'model.grove', container('sklearn/sk-sparse-dictvectorizer-logistic/model.pkl'), asGrove],
];

/** mulberry32: a small seeded generator, so a failing case replays from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x30, 0x39, 0x2d, 0x5b, 0x7b, 0x4c, 0x94];
const NUMBERS = ['0', '-1', '4294967295', '2147483648', '1e308', '99999999999999999999', 'NaN', '1.5'];

/** One mutation of `b`, described for the failure message. */
function mutate(b: Uint8Array, rnd: () => number): [Uint8Array, string] {
  const at = () => Math.floor(rnd() * b.length);
  const out = Buffer.from(b);
  switch (Math.floor(rnd() * 7)) {
    case 0: {
      const n = 1 + Math.floor(rnd() * 8);
      for (let i = 0; i < n; i++) out[at()] ^= 1 << Math.floor(rnd() * 8);
      return [out, `${n} bit flips`];
    }
    case 1: {
      const i = at();
      out[i] = INTERESTING[Math.floor(rnd() * INTERESTING.length)]!;
      return [out, `byte ${i} set to ${out[i]}`];
    }
    case 2: {
      const n = Math.floor(rnd() * b.length);
      return [out.subarray(0, n), `truncated to ${n}`];
    }
    case 3: {
      const i = at();
      const n = 1 + Math.floor(rnd() * 64);
      return [Buffer.concat([out.subarray(0, i), out.subarray(i + n)]), `${n} bytes cut at ${i}`];
    }
    case 4: {
      const i = at();
      const j = at();
      const n = 1 + Math.floor(rnd() * 256);
      return [
        Buffer.concat([out.subarray(0, i), out.subarray(j, j + n), out.subarray(i)]),
        `${n} bytes copied to ${i}`,
      ];
    }
    case 5: {
      // A number in the text replaced (counts, sizes, indexes, thresholds).
      const text = out.toString('latin1');
      const hits = [...text.matchAll(/-?\d+(\.\d+)?/g)];
      if (hits.length === 0) return [out, 'unchanged'];
      const h = hits[Math.floor(rnd() * hits.length)]!;
      const v = NUMBERS[Math.floor(rnd() * NUMBERS.length)]!;
      return [
        Buffer.from(text.slice(0, h.index) + v + text.slice(h.index! + h[0].length), 'latin1'),
        `number at ${h.index} -> ${v}`,
      ];
    }
    default: {
      // Binary lengths and counts: a 32-bit word overwritten with a large or negative value.
      const i = Math.min(at(), Math.max(0, b.length - 4));
      out.writeUInt32LE([0xffffffff, 0x7fffffff, 0x80000000, 0x10000000][Math.floor(rnd() * 4)]!, i);
      return [out, `u32 at ${i} overwritten`];
    }
  }
}

/** Codes a broken file may be refused with; the load limits and internal errors are bugs here. */
const DECODING =
  /^GROVE_ERR_(MODEL_FORMAT|MODEL_TRUNCATED|MODEL_VERSION|UNKNOWN_OBJECTIVE|UNSUPPORTED_MODEL|CHECKSUM|UNSAFE_PICKLE)$/;

describe(`fuzzed model files (seed ${SEED}, ${ROUNDS} per format)`, () => {
  for (const [format, name, original, wrap] of SEEDS) {
    it(`${format}: every mutated file loads or is refused with a decoding code`, async () => {
      const rnd = prng(SEED ^ format.length ^ original.length);
      const bad: string[] = [];
      let loaded = 0;
      for (let k = 0; k < ROUNDS; k++) {
        const [bytes, what] = mutate(original, rnd);
        const t0 = performance.now();
        const file = join(tmp, `${format.replace(/\W/g, '-')}-${k}-${name}`);
        writeFileSync(file, wrap(bytes));
        try {
          const { model } = await loader.load(file, { fileName: name });
          const m = model.meta;
          const out = new Float64Array(Math.max(1, m.outputNames.length));
          if (m.sparse) model.predictNamed([{}], out);
          else {
            model.predictOne(new Float64Array(m.numFeatures), out);
            model.predictOne(new Float64Array(m.numFeatures).fill(Number.NaN), out);
          }
          loaded++;
        } catch (err) {
          const e = err as { code?: string; message?: string };
          const ok =
            typeof e.code === 'string' &&
            DECODING.test(e.code) &&
            !/could not be decoded \(/.test(e.message ?? '');
          if (!ok) bad.push(`round ${k} (${what}): ${e.code ?? (err as Error).name}: ${e.message}`);
        }
        rmSync(file);
        if (process.env.GROVE_FUZZ_VERBOSE && performance.now() - t0 > 300)
          console.log(`SLOW ${format} ${k} ${what} ${(performance.now() - t0).toFixed(0)}ms`);
      }
      expect(bad).toEqual([]);
      if (process.env.GROVE_FUZZ_VERBOSE)
        console.log(`${format}: ${loaded} of ${ROUNDS} mutated files loaded`);
    });
  }
});
