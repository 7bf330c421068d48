// `npm run bench:grpc`: one-row inference through one worker over gRPC (ModelInfer) against REST
// (`POST /v2/models/m/infer`) on the same worker process, in the same run, alternating rounds,
// medians. gRPC load: a closed-loop client written with @grpc/grpc-js from the .proto
// (grpc-load.ts, ghz-style); when h2load (Debian `nghttp2-client`) is installed, also h2load
// posting the same gRPC frame, a C client as cheap as wrk, so that figure is the worker's. REST
// load: wrk when installed (Debian `wrk`), else autocannon. All
// clients run on this machine, so each figure also says how much CPU the worker spent per request
// (utime + stime of the worker process over the round / requests answered): the server's cost,
// whatever the client's.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { builtFile, projectRoot } from '../../shared/runtime-path.js';

const FIXTURE = join(projectRoot, 'test/fixtures/xgboost/xgb-binary-100x4');
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const CHANNELS = Number(process.env.BENCH_GRPC_CHANNELS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

interface Round {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** Worker CPU microseconds per answered request. */
  cpuUs: number;
}

function installed(tool: string): boolean {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // wrk --version exits 1 after printing its version; only a missing binary is ENOENT.
    return (err as { code?: string }).code !== 'ENOENT';
  }
}

/** utime + stime of a process, in microseconds (/proc/PID/stat fields 14 and 15, in clock ticks). */
function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000;
}

function startWorker(repo: string): Promise<{ child: ChildProcess; url: string; grpc: string }> {
  const child = spawn(
    process.execPath,
    [
      builtFile('cli/grove.js'),
      'worker',
      '--models',
      repo,
      '--port',
      '0',
      '--grpc-port',
      '0',
      '--log-level',
      'warn',
      '--no-monitor',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (c: string) => {
      out += c;
      const http = /grove worker listening on (http:\/\/\S+)/.exec(out);
      const grpc = /grove worker grpc listening on (\S+)/.exec(out);
      if (http && grpc) resolve({ child, url: http[1]!, grpc: grpc[1]! });
    });
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
}

function oneRow(): number[] {
  const line = readFileSync(join(FIXTURE, 'test.csv'), 'utf8').split('\n')[1]!;
  return line.split(',').map((f) => (f === '' ? Number.NaN : Number(f)));
}

async function restRound(
  pid: number,
  url: string,
  body: string,
  luaFile: string,
  wrk: boolean,
): Promise<Round> {
  const c0 = cpuMicros(pid);
  let r: Omit<Round, 'cpuUs'> & { requests: number };
  if (wrk) {
    const out = execFileSync(
      'wrk',
      ['-t1', `-c${CONNECTIONS}`, `-d${DURATION}s`, '--latency', '-s', luaFile, url],
      { encoding: 'utf8' },
    );
    const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? Number.NaN);
    const ms = (re: RegExp) => {
      const m = re.exec(out);
      if (!m) return Number.NaN;
      const v = Number(m[1]);
      return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
    };
    const requests = num(/(\d+) requests in/);
    r = {
      requests,
      rps: num(/Requests\/sec:\s+([\d.]+)/),
      p50: ms(/50%\s+([\d.]+)(us|ms|s)/),
      p99: ms(/99%\s+([\d.]+)(us|ms|s)/),
      errors: num(/Non-2xx or 3xx responses: (\d+)/) || 0,
    };
  } else {
    const a = await autocannon({
      url,
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
      connections: CONNECTIONS,
      duration: DURATION,
    });
    r = {
      requests: a.requests.total,
      rps: a.requests.average,
      p50: a.latency.p50,
      p99: a.latency.p99,
      errors: a.errors + a.non2xx,
    };
  }
  return { ...r, cpuUs: (cpuMicros(pid) - c0) / Math.max(1, r.requests) };
}

async function grpcRound(pid: number, address: string, requestFile: string): Promise<Round> {
  const c0 = cpuMicros(pid);
  const out = execFileSync(
    process.execPath,
    [
      builtFile('worker/bench/grpc-load.js'),
      address,
      requestFile,
      String(CONNECTIONS),
      String(DURATION),
      String(CHANNELS),
    ],
    { encoding: 'utf8' },
  );
  const r = JSON.parse(out.trim().split('\n').pop()!) as Omit<Round, 'cpuUs'> & { requests: number };
  // The client's first second is a warm-up it does not count; the worker's CPU for it is counted,
  // so scale the CPU by the counted share of the calls.
  const cpu = (cpuMicros(pid) - c0) * (DURATION / (DURATION + 1));
  return { ...r, cpuUs: cpu / Math.max(1, r.requests) };
}

/** h2load: CONNECTIONS streams in flight over 4 connections, the same one-row ModelInfer frame. */
function h2loadRound(pid: number, address: string, frameFile: string): Round {
  const c0 = cpuMicros(pid);
  const out = execFileSync(
    'h2load',
    [
      '-D',
      String(DURATION),
      '-c',
      '4',
      '-m',
      String(Math.max(1, Math.round(CONNECTIONS / 4))),
      '-d',
      frameFile,
      '-H',
      'content-type: application/grpc',
      '-H',
      'te: trailers',
      `http://${address}/inference.GRPCInferenceService/ModelInfer`,
    ],
    { encoding: 'utf8' },
  );
  const requests = Number(/(\d+) succeeded/.exec(out)?.[1] ?? 0);
  const ms = (re: RegExp) => {
    const m = re.exec(out);
    if (!m) return Number.NaN;
    const v = Number(m[1]);
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
  };
  return {
    rps: Number(/finished in [\d.]+s, ([\d.]+) req\/s/.exec(out)?.[1] ?? 0),
    p50: ms(/time for request:\s+[\d.]+\w+\s+[\d.]+\w+\s+([\d.]+)(us|ms|s)/),
    p99: Number.NaN,
    errors: Number(/(\d+) failed/.exec(out)?.[1] ?? 0),
    cpuUs: (cpuMicros(pid) - c0) / Math.max(1, requests),
  };
}

const median = (xs: number[]): number => {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
};

function summary(rs: Round[]): string {
  return `${median(rs.map((r) => r.rps)).toFixed(0)} req/s  p50 ${median(rs.map((r) => r.p50)).toFixed(2)} ms  p99 ${rs.some((r) => Number.isNaN(r.p99)) ? 'n/a' : `${median(rs.map((r) => r.p99)).toFixed(2)} ms`}  worker CPU ${median(rs.map((r) => r.cpuUs)).toFixed(0)} us/request  (errors ${rs.reduce((n, r) => n + r.errors, 0)})`;
}

async function main(): Promise<void> {
  const [l1] = loadavg();
  const wrk = installed('wrk');
  const h2load = installed('h2load');
  console.log(
    `machine: ${availableParallelism()} cores, load average ${l1!.toFixed(1)} at start (figures are noisy when other work runs)`,
  );
  const repo = mkdtempSync(join(tmpdir(), 'grove-bench-grpc-'));
  mkdirSync(join(repo, 'bench', '1'), { recursive: true });
  cpSync(join(FIXTURE, 'model.json'), join(repo, 'bench', '1', 'model.json'));
  const row = oneRow();
  const body = JSON.stringify({
    inputs: [
      {
        name: 'input-0',
        shape: [1, row.length],
        datatype: 'FP32',
        data: row.map((x) => (Number.isNaN(x) ? null : x)),
      },
    ],
  });
  const luaFile = join(repo, 'infer.lua');
  writeFileSync(
    luaFile,
    `wrk.method="POST"\nwrk.headers["Content-Type"]="application/json"\nwrk.body=[[${body}]]\n`,
  );
  const requestFile = join(repo, 'grpc-request.json');
  writeFileSync(
    requestFile,
    JSON.stringify({
      model_name: 'bench',
      inputs: [
        {
          name: 'input-0',
          datatype: 'FP32',
          shape: [1, row.length],
          contents: { fp32_contents: row.map((x) => (Number.isNaN(x) ? 'NaN' : x)) },
        },
      ],
    }),
  );
  // The same request as one gRPC frame (1-byte flag, 4-byte length, message) for h2load.
  const frameFile = join(repo, 'grpc-request.bin');
  {
    const { loadSync } = await import('@grpc/proto-loader');
    const { PROTO_FILE } = await import('../../shared/protocol/grpc/proto-client.js');
    const def = loadSync(PROTO_FILE, { keepCase: true });
    const method = (
      def['inference.GRPCInferenceService'] as Record<string, { requestSerialize(o: object): Buffer }>
    ).ModelInfer!;
    const msg = method.requestSerialize(JSON.parse(readFileSync(requestFile, 'utf8')) as object);
    const frame = Buffer.alloc(5 + msg.length);
    frame.writeUInt32BE(msg.length, 1);
    msg.copy(frame, 5);
    writeFileSync(frameFile, frame);
  }
  const worker = await startWorker(repo);
  const pid = worker.child.pid!;
  const url = `${worker.url}/v2/models/bench/infer`;
  try {
    await restRound(pid, url, body, luaFile, wrk); // warm-up (JIT) for both paths
    await grpcRound(pid, worker.grpc, requestFile);
    const rest: Round[] = [];
    const grpc: Round[] = [];
    const h2: Round[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      rest.push(await restRound(pid, url, body, luaFile, wrk));
      grpc.push(await grpcRound(pid, worker.grpc, requestFile));
      if (h2load) h2.push(h2loadRound(pid, worker.grpc, frameFile));
    }
    const ratios = grpc.map((g, i) => g.rps / rest[i]!.rps);
    const cpuRatios = grpc.map((g, i) => rest[i]!.cpuUs / g.cpuUs);
    console.log(
      `one-row inference on one worker (xgb-binary-100x4, ${CONNECTIONS} in flight, ${DURATION}s x ${ROUNDS} rounds, medians):`,
    );
    console.log(`  REST /infer   [${wrk ? 'wrk -t1' : 'autocannon'}]: ${summary(rest)}`);
    console.log(`  gRPC ModelInfer [@grpc/grpc-js closed loop, ${CHANNELS} channels]: ${summary(grpc)}`);
    if (h2load) console.log(`  gRPC ModelInfer [h2load, 4 connections]: ${summary(h2)}`);
    console.log(
      `  req/s ratio gRPC (grpc-js client)/REST: ${median(ratios).toFixed(3)} (rounds ${ratios.map((r) => r.toFixed(2)).join(', ')}; target >= 0.8)`,
    );
    if (h2load) {
      const h2Ratios = h2.map((g, i) => g.rps / rest[i]!.rps);
      console.log(
        `  req/s ratio gRPC (h2load)/REST: ${median(h2Ratios).toFixed(3)} (rounds ${h2Ratios.map((r) => r.toFixed(2)).join(', ')})`,
      );
    }
    console.log(
      `  worker CPU per request, REST/gRPC: ${median(cpuRatios).toFixed(3)} (1.0 = a gRPC call costs the worker what a REST request does)`,
    );
  } finally {
    worker.child.kill('SIGTERM');
    rmSync(repo, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
