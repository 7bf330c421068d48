// `npm run bench:monitor`: what drift monitoring costs a request. Two workers started the same way
// on the same repository (a version with a profile), one with the monitor (the default) and one
// with --no-monitor, driven by autocannon with one-row requests in alternating rounds so machine
// noise hits both alike, and in simultaneous rounds (both loaded at once, so both see the same
// moment of a shared machine: the primary figure); target monitored/unmonitored >= 0.95. Also the in-process cost
// of VersionMonitor.observe per one-row event (the only per-request work).
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { DEFAULT_MONITOR_CONFIG } from '../../shared/monitor/monitor-config.js';
import { buildProfile } from '../../shared/profile/build-profile.js';
import { builtFile } from '../../shared/runtime-path.js';
import { VersionMonitor } from '../monitor/version-monitor.js';
import type { PredictionEvent } from '../observer.js';
import { BENCH_FIXTURE, benchRepository, startBenchWorker } from './bench-support.js';

const FIXTURE = BENCH_FIXTURE;
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if ((await fetch(`${url}/v2/models/bench/versions/1/ready`)).status === 200) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('model did not become ready');
}

async function rps(
  url: string,
  body: string,
  duration = DURATION,
): Promise<{ rps: number; p99: number; errors: number; non2xx: number }> {
  const r = await autocannon({
    url,
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
    connections: CONNECTIONS,
    duration,
  });
  return { rps: r.requests.average, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx };
}

function csvRows(): number[][] {
  const lines = readFileSync(join(FIXTURE, 'test.csv'), 'utf8').trim().split('\n').slice(1);
  return lines.map((l) => l.split(',').map((f) => (f === '' ? Number.NaN : Number(f))));
}

/** ns per one-row observe() on a profiled 20-feature version (the request-path cost). */
function observeCost(): number {
  const rows = csvRows();
  const F = rows[0]!.length;
  const data = Float64Array.from(rows.flat());
  const preds = Float64Array.from(rows, (_, i) => (i % 100) / 100);
  const profile = buildProfile({
    featureNames: rows[0]!.map((_, i) => `f${i}`),
    task: 'binary',
    outputNames: ['p'],
    data,
    rows: rows.length,
    predictions: preds,
  });
  const m = new VersionMonitor({
    model: 'b',
    version: '1',
    sha256: 's',
    featureNames: profile.model.feature_names,
    profile,
    config: DEFAULT_MONITOR_CONFIG,
    outputIndex: 0,
  });
  const events: PredictionEvent[] = rows.map((_, i) => ({
    requestId: 'r',
    requestIds: null,
    model: 'b',
    version: '1',
    sha256: 's',
    input: data.subarray(i * F, i * F + F),
    namedRows: null,
    rows: 1,
    numFeatures: F,
    output: preds.subarray(i, i + 1),
    numOutputs: 1,
    raw: false,
    at: 0,
  }));
  const N = 2_000_000;
  for (let i = 0; i < 200_000; i++) m.observe(events[i % events.length]!);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) m.observe(events[i % events.length]!);
  return Number(process.hrtime.bigint() - t0) / N;
}

async function main(): Promise<void> {
  console.log(
    `VersionMonitor.observe, one 20-feature row + output: ${observeCost().toFixed(0)} ns per request`,
  );
  const repo = benchRepository('bench-monitor');
  execFileSync(
    process.execPath,
    [
      builtFile('cli/grove.js'),
      'profile',
      '--model',
      join(repo, 'bench/1/model.json'),
      '--data',
      join(FIXTURE, 'test.csv'),
      '--output',
      join(repo, 'bench/1/profile.json'),
    ],
    { stdio: 'ignore' },
  );
  const on = await startBenchWorker(repo);
  const off = await startBenchWorker(repo, ['--no-monitor']);
  try {
    await Promise.all([waitReady(on.url), waitReady(off.url)]);
    const line = readFileSync(join(FIXTURE, 'test.csv'), 'utf8').split('\n')[1]!;
    const data = line.split(',').map((f) => (f === '' ? null : Number(f)));
    const body = JSON.stringify({
      inputs: [{ name: 'input-0', shape: [1, data.length], datatype: 'FP32', data }],
    });
    const onUrl = `${on.url}/v2/models/bench/versions/1/infer`;
    const offUrl = `${off.url}/v2/models/bench/versions/1/infer`;
    await rps(onUrl, body, 1);
    await rps(offUrl, body, 1);
    const ons: number[] = [];
    const offs: number[] = [];
    const bothOn: number[] = [];
    const bothOff: number[] = [];
    let failures = 0;
    for (let i = 0; i < ROUNDS; i++) {
      // Alternate which goes first so drift in machine load does not favour one side.
      const pair =
        i % 2 === 0
          ? [await rps(offUrl, body), await rps(onUrl, body)]
          : [await rps(onUrl, body), await rps(offUrl, body)].reverse();
      offs.push(pair[0]!.rps);
      ons.push(pair[1]!.rps);
      failures += pair[0]!.errors + pair[0]!.non2xx + pair[1]!.errors + pair[1]!.non2xx;
      // Both at once: on a shared, noisy machine both see the same moment's load, and the one that
      // costs more per request gets fewer of the CPU-bound requests/s.
      const [a, b] = await Promise.all([rps(offUrl, body), rps(onUrl, body)]);
      bothOff.push(a!.rps);
      bothOn.push(b!.rps);
      failures += a!.errors + a!.non2xx + b!.errors + b!.non2xx;
    }
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
    const mean = (a: number[]) => (sum(a) / a.length).toFixed(0);
    const list = (a: number[]) => a.map((x) => x.toFixed(0)).join(', ');
    const monitor = (await (await fetch(`${on.url}/v2/models/bench/versions/1/monitor`)).json()) as {
      rows: number;
    };
    console.log(
      `one-row requests/s (xgb-binary-100x4 with profile, ${CONNECTIONS} connections, ${DURATION}s rounds, ${ROUNDS} of each kind):`,
    );
    console.log(
      `  alternating rounds: off ${list(offs)} (mean ${mean(offs)}); on ${list(ons)} (mean ${mean(ons)})`,
    );
    console.log(
      `    ratio on/off ${(sum(ons) / sum(offs)).toFixed(3)} (sequential rounds are at the mercy of machine noise)`,
    );
    console.log(
      `  simultaneous rounds: off ${list(bothOff)} (mean ${mean(bothOff)}); on ${list(bothOn)} (mean ${mean(bothOn)})`,
    );
    console.log(`    ratio on/off ${(sum(bothOn) / sum(bothOff)).toFixed(3)}`);
    console.log(
      `  => monitoring on/off: ${(sum(bothOn) / sum(bothOff)).toFixed(3)} (simultaneous rounds; target >= 0.95); window holds ${monitor.rows} rows; failed requests ${failures}`,
    );
  } finally {
    on.child.kill('SIGTERM');
    off.child.kill('SIGTERM');
    rmSync(repo, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
