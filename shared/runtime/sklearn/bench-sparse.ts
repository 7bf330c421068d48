// Sparse linear model benchmark: a DictVectorizer -> LogisticRegression pipeline with 1M features
// (bag of words), predicting 40-feature named rows one at a time through Model.predictNamed, next
// to the naive peer measured in the same run: a JS Map of name -> weight built per model.
//   npx tsc -p tsconfig.build.json && node dist/shared/runtime/sklearn/bench-sparse.js [features] [rows]
import { buildLinearModel } from './linear/linear-builder.js';
import { DType, NdArray } from './pickle/numpy-array.js';
import { PyGlobal, PyObject, tuple } from './pickle/py-values.js';

const FEATURES = Number(process.argv[2] ?? 1_000_000);
const ROWS = Number(process.argv[3] ?? 50_000);
const PER_ROW = 40;

function obj(module: string, name: string, attrs: Record<string, unknown>): PyObject {
  const o = new PyObject(new PyGlobal(module, name), []);
  for (const [k, v] of Object.entries(attrs)) o.dict.set(k, v);
  return o;
}

let seed = 12345;
const rand = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 4294967296;
};

const names = Array.from({ length: FEATURES }, (_, i) => `tok${i}`);
const coef = new Float64Array(FEATURES).map(() => rand() - 0.5);
const vocab = new Map<unknown, unknown>(names.map((n, i) => [n, i]));
const f8 = DType.fromSpec('f8');
const dv = obj('sklearn.feature_extraction._dict_vectorizer', 'DictVectorizer', {
  separator: '=',
  vocabulary_: vocab,
});
const lr = obj('sklearn.linear_model._logistic', 'LogisticRegression', {
  coef_: new NdArray(f8, [1, FEATURES], new Uint8Array(coef.buffer), null),
  intercept_: new NdArray(f8, [1], new Uint8Array(Float64Array.of(0.1).buffer), null),
  classes_: new NdArray(DType.fromSpec('i8'), [2], new Uint8Array(new BigInt64Array([0n, 1n]).buffer), null),
  multi_class: 'auto',
  solver: 'lbfgs',
});
const pipe = obj('sklearn.pipeline', 'Pipeline', { steps: [tuple(['dv', dv]), tuple(['lr', lr])] });

let t0 = performance.now();
const model = buildLinearModel(pipe, 'sklearn_joblib');
const buildMs = performance.now() - t0;

const rows: Record<string, number>[] = Array.from({ length: 1024 }, () => {
  const r: Record<string, number> = {};
  for (let j = 0; j < PER_ROW; j++) r[names[Math.floor(rand() * FEATURES)]!] = 1 + Math.floor(rand() * 3);
  return r;
});

// Peer: the obvious JS implementation, a Map of name -> weight, then expit.
t0 = performance.now();
const weights = new Map<string, number>(names.map((n, i) => [n, coef[i]!]));
const peerBuildMs = performance.now() - t0;
function peerPredict(row: Record<string, number>, out: Float64Array): void {
  let s = 0;
  for (const k of Object.keys(row)) {
    const w = weights.get(k);
    if (w !== undefined) s += w * row[k]!;
  }
  const p = 1 / (1 + Math.exp(-(s + 0.1)));
  out[0] = 1 - p;
  out[1] = p;
}

const out = new Float64Array(2);
const peerOut = new Float64Array(2);
const one = [rows[0]!];
// Same answers first.
for (const r of rows.slice(0, 100)) {
  one[0] = r;
  model.predictNamed(one, out);
  peerPredict(r, peerOut);
  if (Math.abs(out[1]! - peerOut[1]!) > 1e-12) throw new Error('model and peer disagree');
}

function time(fn: (i: number) => void): number {
  for (let i = 0; i < 20_000; i++) fn(i); // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < ROWS; i++) fn(i);
  return Number(process.hrtime.bigint() - start) / ROWS;
}
// Alternate rounds and keep each side's best: the machine is shared, so noise only adds time.
let groveNs = Number.POSITIVE_INFINITY;
let peerNs = Number.POSITIVE_INFINITY;
for (let round = 0; round < 5; round++) {
  groveNs = Math.min(
    groveNs,
    time((i) => {
      one[0] = rows[i & 1023]!;
      model.predictNamed(one, out);
    }),
  );
  peerNs = Math.min(
    peerNs,
    time((i) => peerPredict(rows[i & 1023]!, peerOut)),
  );
}

// Machine speed in the same run (a shared, loaded machine runs this loop in ~0.1 s when idle).
const cal0 = process.hrtime.bigint();
let acc = 0;
for (let i = 0; i < 1e8; i++) acc += i & 7;
const calibrationMs = Number(process.hrtime.bigint() - cal0) / 1e6;

const mb = (n: number) => (n / 1048576).toFixed(1);
console.log(
  JSON.stringify(
    {
      features: FEATURES,
      featuresPerRow: PER_ROW,
      rows: ROWS,
      grove: {
        nsPerRow: Math.round(groveNs),
        usPerRow: +(groveNs / 1000).toFixed(2),
        buildMs: Math.round(buildMs),
        bufferMB: mb(model.buffer.byteLength),
      },
      peerJsMap: {
        nsPerRow: Math.round(peerNs),
        usPerRow: +(peerNs / 1000).toFixed(2),
        buildMs: Math.round(peerBuildMs),
      },
      ratio: +(groveNs / peerNs).toFixed(2),
      calibration: { '1e8 integer adds ms': Math.round(calibrationMs), acc: acc > 0 },
      note: 'one row per predictNamed call; best of 5 alternating rounds; 2 shared cores, loaded machine',
    },
    null,
    2,
  ),
);
