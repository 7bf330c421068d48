// `npm run bench:worker`: one-row requests per second through a worker against a bare node:http
// server that parses the same JSON and answers a constant (the peer: docs/architecture.md,
// Targets), with the same load generator (autocannon) in the same run, alternating A/B rounds; then the p99 of
// one-row requests while 100k-row batches stream through the same worker.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { loadModelFile } from '../../shared/runtime/load.js';
import { builtFile } from '../../shared/runtime-path.js';
import { PredictPool } from '../pool/predict-pool.js';
import { BENCH_FIXTURE, benchRepository, median, startBenchWorker, startListening } from './bench-support.js';

const FIXTURE = BENCH_FIXTURE;
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

interface Result {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function load(
  url: string,
  body: string,
  connections = CONNECTIONS,
  duration = DURATION,
): Promise<Result> {
  const r = await autocannon({
    url,
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
    connections,
    duration,
  });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors,
    non2xx: r.non2xx,
  };
}

function oneRowBody(): string {
  const line = readFileSync(join(FIXTURE, 'test.csv'), 'utf8').split('\n')[1]!;
  const data = line.split(',').map((f) => (f === '' ? null : Number(f)));
  return JSON.stringify({ inputs: [{ name: 'input-0', shape: [1, data.length], datatype: 'FP32', data }] });
}

function batchCsv(rows: number): string {
  const lines = readFileSync(join(FIXTURE, 'test.csv'), 'utf8').trim().split('\n');
  const header = lines[0]!;
  const data = lines.slice(1);
  const out: string[] = [header];
  for (let i = 0; i < rows; i++) out.push(data[i % data.length]!);
  return out.join('\n') + '\n';
}

/**
 * The inline/pool crossover: a pool round trip (post a task, a thread predicts one row, the answer
 * comes back) against inline predict time per row on the same model. Below the crossover a
 * request is cheaper inline; above it, the pool also keeps the event loop free.
 */
async function crossover(): Promise<void> {
  const model = await loadModelFile(join(FIXTURE, 'model.json'));
  const F = model.meta.numFeatures;
  const rows = 4096;
  const input = new Float64Array(new SharedArrayBuffer(rows * F * 8));
  for (let i = 0; i < input.length; i++) input[i] = Math.sin(i) * 2;
  const out = new Float64Array(new SharedArrayBuffer(rows * 8));
  for (let i = 0; i < 50; i++) model.predict(input, rows, out);
  let t = performance.now();
  const reps = 100;
  for (let i = 0; i < reps; i++) model.predict(input, rows, out);
  const nsPerRow = ((performance.now() - t) * 1e6) / (reps * rows);
  const pool = new PredictPool({ threads: 1 });
  pool.register('bench', model.buffer, model.meta.featureNames);
  for (let i = 0; i < 200; i++) await pool.predict('bench', input, 1, out, false);
  const hops = 2000;
  t = performance.now();
  for (let i = 0; i < hops; i++) await pool.predict('bench', input, 1, out, false);
  const hopUs = ((performance.now() - t) * 1000) / hops;
  await pool.close();
  console.log(
    `inline predict ${nsPerRow.toFixed(0)} ns/row; pool round trip for one row ${hopUs.toFixed(1)} us -> crossover ~${Math.round((hopUs * 1000) / nsPerRow)} rows (worker default --inline-rows 256)`,
  );
}

async function main(): Promise<void> {
  const [l1] = loadavg();
  console.log(
    `machine: ${availableParallelism()} cores, load average ${l1!.toFixed(1)} at start (figures are noisy when other work runs)`,
  );
  await crossover();
  const repo = benchRepository('bench-worker');
  const worker = await startBenchWorker(repo);
  const bare = await startListening([builtFile('worker/bench/bare-json-server.js')]);
  const body = oneRowBody();
  const inferUrl = `${worker.url}/v2/models/bench/infer`;
  try {
    // Warm up both (JIT), then alternate rounds so machine noise hits both alike.
    await load(bare.url, body, CONNECTIONS, 1);
    await load(inferUrl, body, CONNECTIONS, 1);
    const bares: Result[] = [];
    const workers: Result[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      bares.push(await load(bare.url, body));
      workers.push(await load(inferUrl, body));
    }
    // Medians over rounds; the ratio is the median of each round's pair (adjacent in time, so
    // machine noise hits both sides of a pair alike).
    const summary = (rs: Result[]) =>
      `${median(rs.map((r) => r.rps)).toFixed(0)} req/s  p50 ${median(rs.map((r) => r.p50))} ms  p99 ${median(rs.map((r) => r.p99))} ms`;
    const ratios = workers.map((w, i) => w.rps / bares[i]!.rps);
    console.log(
      `one-row requests (xgb-binary-100x4, ${CONNECTIONS} connections, ${DURATION}s x ${ROUNDS} rounds, medians):`,
    );
    console.log(`  bare node:http JSON : ${summary(bares)}`);
    console.log(
      `  grove worker /infer : ${summary(workers)}  (errors ${workers.reduce((n, r) => n + r.errors, 0)}, non-2xx ${workers.reduce((n, r) => n + r.non2xx, 0)})`,
    );
    console.log(
      `  ratio worker/bare   : ${median(ratios).toFixed(3)} (median of rounds ${ratios.map((r) => r.toFixed(2)).join(', ')}; target >= 0.9)`,
    );
    console.log(
      `  all rounds req/s    : bare ${bares.map((r) => r.rps.toFixed(0)).join(', ')}; worker ${workers.map((r) => r.rps.toFixed(0)).join(', ')}`,
    );

    // One-row p99 alone, then while 100k-row batches stream through the same worker.
    const quiet = await load(inferUrl, body, 8, DURATION);
    const csvFile = join(repo, 'batch.csv');
    writeFileSync(csvFile, batchCsv(100_000));
    const driver = spawn(
      process.execPath,
      [builtFile('worker/bench/batch-driver.js'), `${worker.url}/v1/models/bench:batch`, csvFile],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let driverOut = '';
    driver.stdout!.setEncoding('utf8');
    driver.stdout!.on('data', (c: string) => (driverOut += c));
    while (!driverOut.includes('ready')) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200)); // let the first batch get going
    const busy = await load(inferUrl, body, 8, DURATION);
    driver.kill('SIGTERM');
    await new Promise((r) => driver.once('exit', r));
    const { batches, rows: batchRows } = JSON.parse(driverOut.trim().split('\n').pop() ?? '{}') as {
      batches: number;
      rows: number;
    };
    console.log(
      `one-row p99 with 8 connections: alone ${quiet.p99} ms (p50 ${quiet.p50}); while 100k-row CSV batches stream: ${busy.p99} ms (p50 ${busy.p50}, ${busy.rps.toFixed(0)} req/s, ${batches} batches, ${batchRows} rows)`,
    );
  } finally {
    worker.child.kill('SIGTERM');
    bare.child.kill('SIGTERM');
    rmSync(repo, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
