// `npm run bench:browser`: the exported module of the 100-tree depth-4 XGBoost model against
// onnxruntime-web running the same trees as ONNX, in the same headless Chromium page
// (page/bench-page.js), on the fixture's test rows: one-row predict (time per call) and a
// 10,000-row batch, medians of repeated alternating runs; and the module's size, gzipped.
// Reads the full fixtures folder beside the checkout when present (else the copies in test/fixtures).
//   node dist/client/bench/bench-browser.js [--chromium PATH] [--repeats 7]
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { projectRoot } from '../../shared/runtime-path.js';
import { exportModule } from '../export/export-module.js';
import { modelFromBytes } from '../model-bytes.js';
import { launchChromium } from './chromium.js';
import { startStaticServer } from './static-server.js';

interface Report {
  kernel: string;
  maxDiff: number;
  runs: { groveOne: number[]; ortOne: number[]; groveBatch: number[]; ortBatch: number[] };
  isolated: boolean;
}

const BATCH_ROWS = 10_000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function fixtureDir(): string {
  const shared = resolve(projectRoot, '..', 'shared', 'fixtures', 'xgboost', 'xgb-binary-100x4');
  return existsSync(join(shared, 'model.onnx'))
    ? shared
    : join(projectRoot, 'test/fixtures/xgboost/xgb-binary-100x4');
}

/** test.csv's rows, repeated to `rows` rows, row-major (empty field = NaN). */
function batchRows(csv: string, rows: number): { F: number; data: Float64Array; distinct: number } {
  const lines = csv.trim().split('\n').slice(1);
  const F = lines[0]!.split(',').length;
  const data = new Float64Array(rows * F);
  for (let r = 0; r < rows; r++) {
    const cells = lines[r % lines.length]!.split(',');
    for (let j = 0; j < F; j++) data[r * F + j] = cells[j] === '' ? Number.NaN : Number(cells[j]);
  }
  return { F, data, distinct: Math.min(lines.length, rows) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { chromium: { type: 'string' }, repeats: { type: 'string', default: '7' } },
  });
  const chromium = values.chromium ?? process.env.GROVE_TEST_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(chromium))
    throw new Error(`no Chromium at ${chromium} (apt-get install chromium, or --chromium PATH)`);
  const dir = fixtureDir();
  const modelBytes = new Uint8Array(readFileSync(join(dir, 'model.json')));
  const { model, sha256 } = modelFromBytes(modelBytes, 'model.json');
  const out = exportModule(model, sha256, 'esm');
  const rows = batchRows(readFileSync(join(dir, 'test.csv'), 'utf8'), BATCH_ROWS);
  const ortDist = join(projectRoot, 'node_modules/onnxruntime-web/dist');
  const ortVersion = (
    JSON.parse(readFileSync(join(ortDist, '..', 'package.json'), 'utf8')) as { version: string }
  ).version;
  const config = {
    features: rows.F,
    batchRows: BATCH_ROWS,
    distinctRows: Math.min(rows.distinct, 1000),
    groveCalls: 20_000,
    ortCalls: 2_000,
    repeats: Number(values.repeats),
  };
  const server = await startStaticServer(
    {
      '/bench.html': {
        body: '<!doctype html><title>grove bench</title><script type="module" src="/bench-page.js"></script>',
      },
      '/bench-page.js': { file: join(projectRoot, 'client/bench/page/bench-page.js') },
      '/config.json': { body: JSON.stringify(config) },
      '/model.mjs': { body: out.text },
      '/model.onnx': { file: join(dir, 'model.onnx') },
      '/rows.bin': { body: new Uint8Array(rows.data.buffer) },
    },
    { '/ort/': ortDist },
  );
  const browser = await launchChromium(chromium);
  try {
    const page = await browser.context.newPage();
    const report = new Promise<Report>((res) => {
      void page.exposeFunction('groveBenchReport', (r: Report) => res(r));
    });
    const failed = new Promise<never>((_, rej) => page.on('pageerror', rej));
    const cdp = await browser.context.newCDPSession(page);
    const { product } = (await cdp.send('Browser.getVersion')) as { product: string };
    await page.goto(`${server.url}/bench.html`);
    const r = await Promise.race([report, failed]);
    const one = { grove: median(r.runs.groveOne), ort: median(r.runs.ortOne) };
    const batch = { grove: median(r.runs.groveBatch), ort: median(r.runs.ortBatch) };
    console.log(
      `browser bench: ${product} (headless), one page${r.isolated ? ' (cross-origin isolated)' : ''}; ` +
        `grove export (kernel: ${r.kernel}) vs onnxruntime-web ${ortVersion} (wasm backend, 1 thread); ` +
        `xgb-binary-100x4 (100 trees, depth 4, 20 features); in-page performance.now() loops, ` +
        `median of ${config.repeats} alternating runs`,
    );
    console.log(
      `  same trees: max |grove - onnxruntime| over ${BATCH_ROWS} rows = ${r.maxDiff.toExponential(2)} (onnxruntime computes in float32)`,
    );
    console.log(
      `  one-row predict: grove ${one.grove.toFixed(2)} us/call (predict([row]), ${config.groveCalls} calls/run), ` +
        `onnxruntime-web ${one.ort.toFixed(2)} us/call (session.run, ${config.ortCalls} calls/run) -> ` +
        `${(one.grove / one.ort).toFixed(3)}x (target <= 0.1x)`,
    );
    console.log(
      `  ${BATCH_ROWS}-row batch: grove ${batch.grove.toFixed(2)} ms (predict(Float64Array, n)), ` +
        `onnxruntime-web ${batch.ort.toFixed(2)} ms (session.run) -> ${(batch.grove / batch.ort).toFixed(3)}x (target <= 0.5x)`,
    );
    console.log(
      `  module: ${out.text.length} bytes, ${gzipSync(out.text, { level: 9 }).length} gzipped (level 9; target <= ${64 * 1024}); ` +
        `model container ${out.modelBytes} bytes, WebAssembly kernel ${out.wasmBytes} bytes`,
    );
    console.log(
      `  runs (grove one-row us, onnx one-row us, grove batch ms, onnx batch ms): ` +
        [r.runs.groveOne, r.runs.ortOne, r.runs.groveBatch, r.runs.ortBatch]
          .map((xs) => xs.map((x) => x.toFixed(2)).join(' '))
          .join(' | '),
    );
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
