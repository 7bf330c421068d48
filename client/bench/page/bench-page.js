// The page of `npm run bench:browser` (client/bench/bench-browser.ts serves it): in ONE page, the
// module `grove export` wrote and onnxruntime-web (WebAssembly backend, one thread) run the same
// 100 trees on the same rows; one-row calls and a 10,000-row batch, alternating, each repeated, as
// an application would call them. Times are performance.now() over many calls (its resolution is
// 0.1 ms on pages that are not cross-origin isolated, so every timed window is milliseconds long).
import * as ort from '/ort/ort.wasm.min.mjs';

const cfg = await (await fetch('/config.json')).json();
const F = cfg.features;
const N = cfg.batchRows;
const rows64 = new Float64Array(await (await fetch('/rows.bin')).arrayBuffer());
const rows32 = Float32Array.from(rows64);
// One-row calls cycle through distinct rows, given as an application holds them (null = missing).
const oneRows = [];
for (let r = 0; r < cfg.distinctRows; r++)
  oneRows.push(Array.from(rows64.subarray(r * F, r * F + F), (x) => (Number.isNaN(x) ? null : x)));

const grove = await import('/model.mjs');
const kernel = await grove.ready;

ort.env.wasm.wasmPaths = '/ort/';
ort.env.wasm.numThreads = 1;
const onnx = new Uint8Array(await (await fetch('/model.onnx')).arrayBuffer());
const session = await ort.InferenceSession.create(onnx, { executionProviders: ['wasm'] });
const input = session.inputNames[0];

let sink = 0;

function groveOne(calls) {
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) sink += grove.predict([oneRows[i % oneRows.length]])[0];
  return ((performance.now() - t0) * 1000) / calls;
}

async function ortOne(calls) {
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) {
    const r = i % oneRows.length;
    const out = await session.run({
      [input]: new ort.Tensor('float32', rows32.subarray(r * F, r * F + F), [1, F]),
    });
    sink += out.probabilities.data[1];
  }
  return ((performance.now() - t0) * 1000) / calls;
}

function groveBatch() {
  const t0 = performance.now();
  sink += grove.predict(rows64, N)[N - 1];
  return performance.now() - t0;
}

async function ortBatch() {
  const t0 = performance.now();
  const out = await session.run({ [input]: new ort.Tensor('float32', rows32, [N, F]) });
  sink += out.probabilities.data[2 * N - 1];
  return performance.now() - t0;
}

// The same trees: grove's P(class 1) against onnxruntime's float32 probabilities.
const mine = grove.predict(rows64, N);
const theirs = (await session.run({ [input]: new ort.Tensor('float32', rows32, [N, F]) })).probabilities.data;
let maxDiff = 0;
for (let r = 0; r < N; r++) maxDiff = Math.max(maxDiff, Math.abs(mine[r] - theirs[2 * r + 1]));

// Warm both up (JIT, first-call allocations), then alternate so both see the same machine load.
groveOne(cfg.groveCalls);
await ortOne(cfg.ortCalls / 4);
groveBatch();
await ortBatch();
const runs = { groveOne: [], ortOne: [], groveBatch: [], ortBatch: [] };
for (let k = 0; k < cfg.repeats; k++) {
  runs.groveOne.push(groveOne(cfg.groveCalls));
  runs.ortOne.push(await ortOne(cfg.ortCalls));
  runs.groveBatch.push(groveBatch());
  runs.ortBatch.push(await ortBatch());
}
await window.groveBenchReport({
  kernel,
  maxDiff,
  runs,
  sink,
  isolated: self.crossOriginIsolated,
});
