// `npm run bench:grpc`: one-row inference through one worker over gRPC (ModelInfer) against REST
// (`POST /v2/models/m/infer`) on the same worker process, in the same run, alternating rounds,
// medians. gRPC load: a closed-loop client written with @grpc/grpc-js from the .proto
// (grpc-load.ts, ghz-style); when h2load (Debian `nghttp2-client`) is installed, also h2load
// posting the same gRPC frame, a C client as cheap as wrk, so that figure is the worker's. REST
// load: wrk when installed (Debian `wrk`), else autocannon; and a Node closed loop (undici,
// rest-load.ts), so each protocol is also measured under the same kind of client. All
// clients run on this machine, so each figure also says how much CPU the worker spent per request
// (utime + stime of the worker process over the round / requests answered): the server's cost,
// whatever the client's; and how much the client spent (the bench's reaped children's CPU), since
// on a small machine a costly client takes the CPU the server would use (a Node client's figure
// includes its process start). The same clients also
// drive a grpc-js server that answers a fixed message (grpc-echo-server.ts): the floor of any
// handler on @grpc/grpc-js, so the ratio it reaches against REST is the best gRPC can reach here.
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
// BENCH_SKIP=floor leaves out the grpc-js floor (the fixed-answer server).
const SKIP_FLOOR = (process.env.BENCH_SKIP ?? '').split(',').includes('floor');

interface Round {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** Worker CPU microseconds per answered request. */
  cpuUs: number;
  /** Load generator CPU microseconds per answered request (NaN when it ran in this process). */
  clientUs: number;
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

/** cutime + cstime of this process: CPU of the children it has waited for, in microseconds. */
function childrenCpuMicros(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) * 10_000;
}

/** A process that prints `... listening on ADDRESS` (the worker's gRPC line, or the echo server's). */
function startEcho(): Promise<{ child: ChildProcess; address: string; pid: number }> {
  const child = spawn(process.execPath, [builtFile('worker/bench/grpc-echo-server.js')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (c: string) => {
      out += c;
      const m = /grpc echo listening on (\S+)/.exec(out);
      if (m) resolve({ child, address: m[1]!, pid: child.pid! });
    });
    child.once('exit', (code) => reject(new Error(`echo server exited with ${code}`)));
  });
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
  const k0 = childrenCpuMicros();
  let r: Omit<Round, 'cpuUs' | 'clientUs'> & { requests: number };
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
  const n = Math.max(1, r.requests);
  const clientUs = wrk ? (childrenCpuMicros() - k0) / n : Number.NaN;
  return { ...r, cpuUs: (cpuMicros(pid) - c0) / n, clientUs };
}

/** A Node closed-loop load generator (grpc-load.js or rest-load.js) against `target`. */
async function nodeRound(pid: number, script: string, target: string, requestFile: string): Promise<Round> {
  const c0 = cpuMicros(pid);
  const k0 = childrenCpuMicros();
  const args = [
    builtFile(`worker/bench/${script}`),
    target,
    requestFile,
    String(CONNECTIONS),
    String(DURATION),
  ];
  if (script === 'grpc-load.js') args.push(String(CHANNELS));
  const out = execFileSync(process.execPath, args, { encoding: 'utf8' });
  const r = JSON.parse(out.trim().split('\n').pop()!) as Omit<Round, 'cpuUs' | 'clientUs'> & {
    requests: number;
  };
  // The client's first second is a warm-up it does not count; the CPU for it is counted, so scale
  // the CPU by the counted share of the calls.
  const share = DURATION / (DURATION + 1);
  const n = Math.max(1, r.requests);
  return {
    ...r,
    cpuUs: ((cpuMicros(pid) - c0) * share) / n,
    clientUs: ((childrenCpuMicros() - k0) * share) / n,
  };
}

const grpcRound = (pid: number, address: string, requestFile: string) =>
  nodeRound(pid, 'grpc-load.js', address, requestFile);

/** h2load: CONNECTIONS streams in flight over 4 connections, the same one-row ModelInfer frame. */
function h2loadRound(pid: number, address: string, frameFile: string): Round {
  const c0 = cpuMicros(pid);
  const k0 = childrenCpuMicros();
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
    clientUs: (childrenCpuMicros() - k0) / Math.max(1, requests),
  };
}

const median = (xs: number[]): number => {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
};

function summary(rs: Round[]): string {
  return `${median(rs.map((r) => r.rps)).toFixed(0)} req/s  p50 ${median(rs.map((r) => r.p50)).toFixed(2)} ms  p99 ${rs.some((r) => Number.isNaN(r.p99)) ? 'n/a' : `${median(rs.map((r) => r.p99)).toFixed(2)} ms`}  server CPU ${median(rs.map((r) => r.cpuUs)).toFixed(0)} us/request  client CPU ${median(rs.map((r) => r.clientUs)).toFixed(0)} us/request  (errors ${rs.reduce((n, r) => n + r.errors, 0)})`;
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
  const bodyFile = join(repo, 'infer.json');
  writeFileSync(bodyFile, body);
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
  const echo = await startEcho();
  try {
    await restRound(pid, url, body, luaFile, wrk); // warm-up (JIT) for every path
    await grpcRound(pid, worker.grpc, requestFile);
    await grpcRound(echo.pid, echo.address, requestFile);
    const rest: Round[] = [];
    const restNode: Round[] = [];
    const grpc: Round[] = [];
    const h2: Round[] = [];
    const floor: Round[] = [];
    const floorH2: Round[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      rest.push(await restRound(pid, url, body, luaFile, wrk));
      restNode.push(await nodeRound(pid, 'rest-load.js', url, bodyFile));
      grpc.push(await grpcRound(pid, worker.grpc, requestFile));
      if (h2load) h2.push(h2loadRound(pid, worker.grpc, frameFile));
      if (!SKIP_FLOOR) {
        floor.push(await grpcRound(echo.pid, echo.address, requestFile));
        if (h2load) floorH2.push(h2loadRound(echo.pid, echo.address, frameFile));
      }
    }
    const ratioLine = (label: string, xs: Round[], note = '', peer = rest, peerLabel = 'REST') => {
      const r = xs.map((g, i) => g.rps / peer[i]!.rps);
      console.log(
        `  req/s ratio ${label}/${peerLabel}: ${median(r).toFixed(3)} (rounds ${r.map((x) => x.toFixed(2)).join(', ')}${note})`,
      );
    };
    const cpuRatios = grpc.map((g, i) => rest[i]!.cpuUs / g.cpuUs);
    console.log(
      `one-row inference on one worker (xgb-binary-100x4, ${CONNECTIONS} in flight, ${DURATION}s x ${ROUNDS} rounds, medians):`,
    );
    console.log(`  REST /infer   [${wrk ? `wrk -t1 -c${CONNECTIONS}` : 'autocannon'}]: ${summary(rest)}`);
    console.log(`  REST /infer   [undici closed loop, ${CONNECTIONS} connections]: ${summary(restNode)}`);
    console.log(`  gRPC ModelInfer [@grpc/grpc-js closed loop, ${CHANNELS} channels]: ${summary(grpc)}`);
    if (h2load) console.log(`  gRPC ModelInfer [h2load, 4 connections]: ${summary(h2)}`);
    if (!SKIP_FLOOR) {
      console.log(`  grpc-js floor (fixed answer) [@grpc/grpc-js closed loop]: ${summary(floor)}`);
      if (h2load) console.log(`  grpc-js floor (fixed answer) [h2load, 4 connections]: ${summary(floorH2)}`);
    }
    ratioLine('gRPC (grpc-js client)', grpc, '; target >= 0.8');
    ratioLine(
      'gRPC (grpc-js client)',
      grpc,
      ': a Node client on each side',
      restNode,
      'REST (undici client)',
    );
    if (h2load) ratioLine('gRPC (h2load)', h2);
    if (!SKIP_FLOOR) {
      ratioLine('grpc-js floor (grpc-js client)', floor, ': the most any handler reaches with this client');
      if (h2load) ratioLine('grpc-js floor (h2load)', floorH2, ': the most any handler reaches on grpc-js');
    }
    console.log(
      `  worker CPU per request, REST/gRPC: ${median(cpuRatios).toFixed(3)} (1.0 = a gRPC call costs the worker what a REST request does)`,
    );
    if (!SKIP_FLOOR) {
      const floorCpu = median((h2load ? floorH2 : floor).map((r) => r.cpuUs));
      console.log(
        `  worker REST CPU per request / grpc-js floor CPU per call: ${(median(rest.map((r) => r.cpuUs)) / floorCpu).toFixed(3)} (when the worker's CPU is what limits, gRPC/REST req/s cannot exceed this)`,
      );
    }
  } finally {
    worker.child.kill('SIGTERM');
    echo.child.kill('SIGTERM');
    rmSync(repo, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
