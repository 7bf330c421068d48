// `npm run bench:gateway`: what the gateway costs a user, measured as a remote client would with wrk
// -t1 (autocannon takes most of a core here). Same run, rotating rounds: one-row infer at
// 8/16/64/256 connections through `grove serve --workers 2 --worker-nice 0`, through nginx least_conn over the same
// two workers, and through a Node byte pipe over them (pipe-floor.ts: the floor of what a Node
// proxy costs here) (requests/s, p99, CPU per request of each proxy process from /proc); a
// metadata GET passed on to one worker; grove serve against FastAPI + gunicorn/uvicorn with the
// same XGBoost model; one worker 10x slower (p2c against random); overload (open loop at 3x the
// saturating rate, --max-inflight); tracing on (OTEL_* to a local OTLP sink the bench runs, every
// request sampled) against off. Medians of the rounds; ratios printed; the load average at start
// and end: on a shared machine compare the rows of one run, and re-run when it is quiet.
// Env: BENCH_SECONDS (5), BENCH_ROUNDS (3), BENCH_CONNECTIONS (8,16,64,256), BENCH_MODELS (models),
// BENCH_SERVE_ARGS (more grove serve flags), BENCH_SKIP=fastapi,slow,overload,passthrough,tracing,
// BENCH_MAX_INFLIGHT (fixed limits for the overload run beside the one docs/api.md's rule gives;
// default 8,16), BENCH_PEERS (folder of fastapi_xgboost.py).
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { projectRoot } from '../../shared/runtime-path.js';
import {
  type Proc,
  type Serve,
  startFastApi,
  startGatewayProcess,
  startNginx,
  startPipeFloor,
  startServe,
  withoutOtel,
} from './bench-processes.js';
import { rounds, summary } from './bench-rounds.js';
import { cpuPinning, niceAll, type Pinning, pin } from './cpu-pin.js';
import { type OpenLoopResult, openLoopOn } from './open-loop.js';
import { startOtlpSink } from './otlp-sink.js';
import { childrenOf, loadAverage, rssMiB, settle } from './proc-stat.js';
import { runWrk, wrkBinary } from './wrk.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '8,16,64,256').split(',').map(Number);
const MODELS = resolve(projectRoot, process.env.BENCH_MODELS ?? 'models');
const SKIP = new Set((process.env.BENCH_SKIP ?? '').split(','));
/** More `grove serve` flags for every cluster the bench starts (say `--worker-nice 0`). */
const SERVE_ARGS = [
  // The peers are measured over the same workers: at normal priority, as an nginx user runs them
  // (workers 10 nice steps down cost nginx and the pipe floor a third of their requests/s here,
  // and the gateway nothing measurable). The overload runs lower them as grove serve does.
  '--worker-nice',
  '0',
  ...(process.env.BENCH_SERVE_ARGS ?? '').split(' ').filter(Boolean),
];
// A row of the demo model's data without empty fields; FP32 as the FastAPI peer takes it.
const ROW = [
  -1.207, 0.452, 0.859, -1.746, -2.252, 2.517, 3.104, 0.81, 0.261, 0.149, 0.492, -2.901, -1.293, -1.613,
  1.357, -4.404, 0.711, 0.44, 1.03, -1.814,
];
const BODY = JSON.stringify({ inputs: [{ name: 'input-0', shape: [1, 20], datatype: 'FP32', data: ROW }] });
const INFER = '/v2/models/churn/versions/1/infer';

const { rotate, alternate } = rounds(ROUNDS);
/** grove serve's default --worker-nice, applied for the overload runs. */
const WORKER_NICE = 10;

const f0 = (x: number) => (Number.isFinite(x) ? Math.round(x).toString() : '-');
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');
const line = (s: string) => process.stdout.write(`${s}\n`);

async function main(): Promise<void> {
  const wrk = wrkBinary();
  if (wrk === null) {
    line('wrk is not installed (apt-get install wrk): nothing measured');
    process.exitCode = 2;
    return;
  }
  const startLoad = loadAverage();
  line(
    `load average at start: ${startLoad} (${availableParallelism()} CPUs); ${ROUNDS} rounds x ${SECONDS}s, wrk -t1`,
  );
  // Tracing off here whatever the caller's environment; the tracing section turns it on.
  const serve = await startServe(MODELS, 2, SERVE_ARGS, withoutOtel());
  const nginx = await startNginx(serve.workerUrls);
  const floor = await startPipeFloor(serve.workerUrls);
  const results: Record<string, unknown> = {
    load_average_start: startLoad,
    rounds: ROUNDS,
    seconds: SECONDS,
  };
  try {
    if (nginx === null)
      line('nginx is not installed (apt-get install nginx): gateway figures without a peer');
    const peer = nginx ?? serve;
    const waited = await settle([serve.pid, ...childrenOf(serve.pid)]);
    line(`grove serve idle ${waited} ms after it answered ready`);
    // Warm both paths (JIT, keep-alive connections to the workers).
    await alternate(wrk, serve, peer, {
      connections: 16,
      seconds: 2,
      method: 'POST',
      body: BODY,
      path: INFER,
    });
    line(
      '\none-row infer, grove serve --workers 2 vs nginx least_conn over the same 2 workers (medians);' +
        '\nfloor: a Node byte pipe over the same workers (pipe-floor.ts: no HTTP work, what Node sockets cost)',
    );
    line(
      'conns | gateway req/s | nginx req/s | ratio | p99 gw / nginx ms | CPU us/req gw / nginx | floor req/s, CPU us/req | errors',
    );
    const rows: Record<string, unknown>[] = [];
    for (const c of CONNECTIONS) {
      const [ga, na, fa] = await rotate(wrk, [serve, peer, floor], {
        connections: c,
        seconds: SECONDS,
        method: 'POST',
        body: BODY,
        headers: { 'content-type': 'application/json' },
        path: INFER,
      });
      const g = summary(ga!);
      const n = summary(na!);
      const f = summary(fa!);
      rows.push({ connections: c, gateway: g, nginx: n, floor: f, ratio: g.rps / n.rps });
      line(
        `${String(c).padStart(5)} | ${f0(g.rps).padStart(13)} | ${f0(n.rps).padStart(11)} | ${f2(g.rps / n.rps).padStart(5)} | ${f2(g.p99)} / ${f2(n.p99)} | ${f1(g.cpuUs)} / ${f1(n.cpuUs)} | ${f0(f.rps)} (${f2(f.rps / n.rps)}x nginx), ${f1(f.cpuUs)} | ${g.errors} / ${n.errors}`,
      );
    }
    results.infer = rows;

    if (!SKIP.has('passthrough')) {
      const pair = await alternate(wrk, serve, peer, {
        connections: 16,
        seconds: SECONDS,
        path: '/v2/models/churn/versions/1',
      });
      const g = summary(pair.a);
      const n = summary(pair.b);
      results.passthrough = { gateway: g, nginx: n, ratio: g.rps / n.rps };
      line(
        `\nmetadata GET (passed on to one worker), 16 conns: gateway ${f0(g.rps)} req/s p99 ${f2(g.p99)} ms, CPU ${f1(g.cpuUs)} us/req; nginx ${f0(n.rps)} req/s p99 ${f2(n.p99)} ms, CPU ${f1(n.cpuUs)} us/req; ratio ${f2(g.rps / n.rps)}`,
      );
    }

    if (!SKIP.has('tracing')) await tracingCost(wrk, serve, results);
    if (!SKIP.has('fastapi')) await fastApi(wrk, serve, results);
    if (!SKIP.has('slow')) await slowWorker(wrk, serve, results);
    if (!SKIP.has('overload')) await overload(serve, results);
  } finally {
    await nginx?.stop();
    await floor.stop();
    await serve.stop();
  }
  results.load_average_end = loadAverage();
  line(`\nload average at end: ${results.load_average_end}`);
  line(JSON.stringify(results));
}

/**
 * Tracing on against off: a second `grove serve --workers 2` exporting every request's spans
 * (gateway and workers, OTLP/HTTP protobuf, the SDK's batch processor) to a local sink, against
 * the tracing-off cluster, alternating rounds. Off is the shipped default: its cost is one null
 * check per request, so on/off bounds what tracing costs and off/off would be noise.
 */
async function tracingCost(wrk: string, off: Serve, results: Record<string, unknown>): Promise<void> {
  const sink = await startOtlpSink();
  const on = await startServe(MODELS, 2, SERVE_ARGS, {
    ...withoutOtel(),
    OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
    OTEL_TRACES_SAMPLER: 'always_on',
  });
  try {
    const conns = Number(process.env.BENCH_TRACING_CONNECTIONS ?? 16);
    const run = {
      connections: conns,
      seconds: SECONDS,
      method: 'POST' as const,
      body: BODY,
      headers: { 'content-type': 'application/json' },
      path: INFER,
    };
    await settle([on.pid, ...childrenOf(on.pid)]);
    await alternate(wrk, off, on, { ...run, seconds: 2 }); // warm the new cluster
    const pair = await alternate(wrk, off, on, run);
    const a = summary(pair.a);
    const b = summary(pair.b);
    const ratios = pair.b.map((s, i) => s.wrk.rps / pair.a[i]!.wrk.rps);
    results.tracing = { connections: conns, off: a, on: b, ratio: b.rps / a.rps, exports: sink.exports };
    line(
      `\ntracing on (every request sampled, OTLP/HTTP protobuf to a local sink) vs off, one-row infer, ${conns} conns:`,
    );
    line(
      `  off: ${f0(a.rps)} req/s p99 ${f2(a.p99)} ms, gateway CPU ${f1(a.cpuUs)} us/req; on: ${f0(b.rps)} req/s p99 ${f2(b.p99)} ms, gateway CPU ${f1(b.cpuUs)} us/req`,
    );
    line(
      `  req/s on/off ${f2(b.rps / a.rps)} (rounds ${ratios.map(f2).join(', ')}); gateway CPU/req on/off ${f2(b.cpuUs / a.cpuUs)}; ${sink.exports} exports (${f0(sink.bytes / 1024)} KiB) received; errors ${a.errors} / ${b.errors}`,
    );
  } finally {
    await on.stop();
    await sink.close();
  }
}

async function fastApi(wrk: string, serve: Proc, results: Record<string, unknown>): Promise<void> {
  const peer = await startFastApi(resolve(MODELS, 'churn', '1', 'model.json'), 2);
  if (peer === null) {
    line(
      '\nFastAPI peer unavailable (needs ../shared/peers/fastapi_xgboost.py, gunicorn, python3-fastapi, python3-uvicorn, python3-xgboost)',
    );
    return;
  }
  try {
    line(
      '\ngrove serve --workers 2 vs FastAPI + gunicorn -w 2 (uvicorn workers), same XGBoost model, one-row infer',
    );
    const rows: Record<string, unknown>[] = [];
    for (const c of [16, 64]) {
      const pair = await alternate(wrk, serve, peer, {
        connections: c,
        seconds: SECONDS,
        method: 'POST',
        body: BODY,
        headers: { 'content-type': 'application/json' },
        path: INFER,
        pathB: '/v2/models/churn/infer',
      });
      const g = summary(pair.a);
      const f = summary(pair.b);
      rows.push({ connections: c, grove: g, fastapi: f, ratio: g.rps / f.rps });
      line(
        `  ${c} conns: grove ${f0(g.rps)} req/s (p99 ${f2(g.p99)} ms), FastAPI ${f0(f.rps)} req/s (p99 ${f2(f.p99)} ms): ${f2(g.rps / f.rps)}x, errors ${g.errors} / ${f.errors}`,
      );
    }
    results.fastapi = rows;
  } finally {
    await peer.stop();
  }
}

/** Runs `pid` 10 ms in every 100 (SIGSTOP/SIGCONT, as cpulimit does), i.e. 10x slower. */
function throttle(pid: number): () => void {
  let on = true;
  let stopped = false;
  const tick = () => {
    if (!on) return;
    try {
      process.kill(pid, stopped ? 'SIGCONT' : 'SIGSTOP');
    } catch {
      return;
    }
    stopped = !stopped;
    setTimeout(tick, stopped ? 90 : 10);
  };
  tick();
  return () => {
    on = false;
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone
    }
  };
}

async function slowWorker(wrk: string, serve: Serve, results: Record<string, unknown>): Promise<void> {
  const p2c = await startGatewayProcess(serve.workerUrls, ['--policy', 'p2c']);
  const random = await startGatewayProcess(serve.workerUrls, ['--policy', 'random']);
  const release = throttle(serve.workerPids[0]!);
  try {
    line('\none of 2 workers 10x slower (runs 10 ms in every 100), 64 conns: p99 p2c vs random');
    const pair = await alternate(wrk, p2c, random, {
      connections: 64,
      seconds: Math.max(4, SECONDS),
      method: 'POST',
      body: BODY,
      headers: { 'content-type': 'application/json' },
      path: INFER,
    });
    const a = summary(pair.a);
    const b = summary(pair.b);
    results.slow_worker = { p2c: a, random: b, p99_ratio: a.p99 / b.p99 };
    line(
      `  p2c: ${f0(a.rps)} req/s p99 ${f2(a.p99)} ms; random: ${f0(b.rps)} req/s p99 ${f2(b.p99)} ms; p99 ratio ${f2(a.p99 / b.p99)}`,
    );
  } finally {
    release();
    await Promise.all([p2c.stop(), random.stop()]);
  }
}

/** An infer body of `rows` rows: too many to coalesce, so every request is one upstream call. */
function rowsBody(rows: number): string {
  const data: number[] = [];
  for (let r = 0; r < rows; r++) for (const x of ROW) data.push(x + r / 1000);
  return JSON.stringify({ inputs: [{ name: 'input-0', shape: [rows, 20], datatype: 'FP32', data }] });
}

/**
 * Overload: open loop (each request due at a fixed time, its latency counted from then) at half
 * and at three times the rate the cluster saturates at, against a gateway with --max-inflight.
 * 200-row requests keep that rate within what a Node load generator can send on this machine.
 * One limit is the upper bound docs/api.md (Overload) gives an operator: throughput x the queueing
 * accepted on top of the unloaded latency, here the calm p99 measured first without a limit (so the
 * admitted p99 should stay near twice the calm one); BENCH_MAX_INFLIGHT adds fixed smaller
 * limits to compare (default 8 and 16). The client runs on a CPU of its own and the cluster on the
 * others where taskset allows (cpu-pin.ts: a starved client's lateness would count as latency).
 */
async function overload(serve: Serve, results: Record<string, unknown>): Promise<void> {
  const pinning = cpuPinning();
  if (pinning !== null) pin(pinning, serve.workerPids, pinning.cluster);
  // grove serve's default --worker-nice (the main runs set it to 0 for the peers).
  niceAll(serve.workerPids, WORKER_NICE);
  try {
    await overloadRuns(serve.workerUrls, pinning, results);
  } finally {
    niceAll(serve.workerPids, 0);
    if (pinning !== null) pin(pinning, serve.workerPids, pinning.all);
  }
}

async function overloadRuns(
  workers: string[],
  pinning: Pinning | null,
  results: Record<string, unknown>,
): Promise<void> {
  const body = rowsBody(200);
  const wrk = wrkBinary()!;
  const gateway = async (extra: string[] = []) => {
    const g = await startGatewayProcess(workers, extra);
    if (pinning !== null) pin(pinning, [g.pid], pinning.cluster);
    return g;
  };
  const free = await gateway();
  const clientCpus = pinning === null ? undefined : { taskset: pinning.taskset, cpus: pinning.client };
  let saturating: number;
  let calm: OpenLoopResult;
  try {
    const sat = await runWrk(wrk, {
      pinned: clientCpus,
      url: free.url + INFER,
      connections: 64,
      seconds: SECONDS,
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    });
    saturating = Math.round((sat.rps * (sat.requests - sat.errors)) / Math.max(1, sat.requests));
    calm = await openLoopOn(pinning, free.url, INFER, body, Math.max(1, Math.round(saturating / 2)), SECONDS);
  } finally {
    await free.stop();
  }
  const sent = (r: { sent: number; elapsedS: number }) => f0(r.sent / r.elapsedS);
  line(
    `\noverload: 200-row infer, open loop (open-loop.ts, 256 connections); saturating rate ${saturating} req/s (wrk, 64 conns); ${pinning === null ? 'client and cluster share the CPUs' : `client on CPU ${pinning.client}, gateway and workers on CPUs ${pinning.cluster}`}; workers at nice ${WORKER_NICE}`,
  );
  line(
    `  at 0.5x (${Math.round(saturating / 2)}/s, sent ${sent(calm)}/s), no limit: p50 ${f2(calm.p50)} ms p99 ${f2(calm.p99)} ms, ${calm.ok} ok`,
  );
  const byRule = Math.max(1, Math.floor((saturating * calm.p99) / 1000));
  const fixed = (process.env.BENCH_MAX_INFLIGHT ?? '8,16')
    .split(',')
    .map(Number)
    .filter((n) => n > 0);
  const runs: Record<string, unknown>[] = [];
  for (const maxInflight of [byRule, ...fixed.filter((n) => n !== byRule)]) {
    const gw = await gateway(['--max-inflight', String(maxInflight)]);
    try {
      const rss0 = rssMiB(gw.pid);
      const hot = await openLoopOn(pinning, gw.url, INFER, body, saturating * 3, SECONDS);
      const rss1 = rssMiB(gw.pid);
      const hot2 = await openLoopOn(pinning, gw.url, INFER, body, saturating * 3, SECONDS);
      const rss2 = rssMiB(gw.pid);
      runs.push({ maxInflight, byRule: maxInflight === byRule, hot, hot2, rss_mib: [rss0, rss1, rss2] });
      const why = maxInflight === byRule ? ' (throughput x the calm p99)' : '';
      line(`  --max-inflight ${maxInflight}${why}:`);
      for (const [name, h] of [
        ['3x', hot],
        ['3x again', hot2],
      ] as const)
        line(
          `    at ${name} (${saturating * 3}/s, sent ${sent(h)}/s): admitted p50 ${f2(h.p50)} ms p99 ${f2(h.p99)} ms (${f2(h.p99 / calm.p99)}x the calm p99), ${h.ok} ok, ${h.shed} shed (429/503), ${h.other} other`,
        );
      line(
        `    gateway RSS: ${f1(rss0)} MiB before, ${f1(rss1)} after one overload run, ${f1(rss2)} after two`,
      );
    } finally {
      await gw.stop();
    }
  }
  results.overload = { saturating, calm, runs };
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    process.stderr.write(`bench-gateway failed: ${(err as Error).stack}\n`);
    process.exit(1);
  },
);
