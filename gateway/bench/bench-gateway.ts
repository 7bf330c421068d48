// `npm run bench:gateway`: one-row :predict requests/s and p99 through grove's gateway in front of
// 2 workers against nginx least_conn in front of the same 2 workers (the peer script nginx-lb.sh: NGINX_LB),
// same load generator (autocannon, in this process), same run, alternating rounds. Then the slow
// worker case: one worker made 10x slower the way cpulimit does it (SIGSTOP/SIGCONT duty cycle:
// it runs 10 ms in every 100), p99 under p2c against random. Prints a table and a JSON summary.
// Options (env): BENCH_SECONDS (default 8), BENCH_CONNECTIONS (100), BENCH_ROUNDS (2),
// BENCH_MODELS (models), NGINX_LB (path of nginx-lb.sh; default: the peers folder beside the
// repository, ../shared/peers, when it exists), BENCH_SKIP_SLOW=1.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import autocannon from 'autocannon';
import { builtFile, projectRoot } from '../../shared/runtime-path.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const MODELS = resolve(projectRoot, process.env.BENCH_MODELS ?? 'models');
const NGINX_LB = process.env.NGINX_LB ?? resolve(projectRoot, '..', 'shared', 'peers', 'nginx-lb.sh');
const CLI = builtFile('cli/grove.js');
const ROW = Array.from({ length: 20 }, (_, i) => Math.round(Math.sin(i + 1) * 1000) / 1000);
const BODY = JSON.stringify({ instances: [ROW] });
const children: ChildProcess[] = [];

function startCli(args: string[], ready: RegExp): Promise<{ proc: ChildProcess; match: RegExpMatchArray }> {
  return new Promise((resolveP, reject) => {
    const proc = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(proc);
    let out = '';
    const t = setTimeout(() => reject(new Error(`timeout starting grove ${args.join(' ')}: ${out}`)), 60_000);
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = out.match(ready);
      if (m) {
        clearTimeout(t);
        resolveP({ proc, match: m });
      }
    });
    proc.stderr!.resume();
    proc.on('exit', (code) => reject(new Error(`grove ${args[0]} exited ${code}: ${out}`)));
  });
}

function freePort(): Promise<number> {
  return new Promise((r) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => r(p));
    });
  });
}

interface Run {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function load(url: string, seconds = SECONDS, headers: Record<string, string> = {}): Promise<Run> {
  const r = await autocannon({
    url: `${url}/v1/models/churn/versions/1:predict`,
    method: 'POST',
    body: BODY,
    headers: { 'content-type': 'application/json', ...headers },
    connections: CONNECTIONS,
    duration: seconds,
  });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}

function runNginx(args: string[]): Promise<string> {
  return new Promise((resolveP, reject) => {
    const p = spawn('bash', [NGINX_LB, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (c) => (out += c));
    p.stderr.on('data', (c) => (out += c));
    p.on('exit', (code) =>
      code === 0 ? resolveP(out) : reject(new Error(`nginx-lb.sh ${args[0]}: ${out}`)),
    );
  });
}

function fmt(r: Run): string {
  return `${Math.round(r.rps).toString().padStart(7)} req/s  p50 ${r.p50.toFixed(1).padStart(5)} ms  p99 ${r.p99.toFixed(1).padStart(6)} ms  errors ${r.errors + r.non2xx}`;
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

async function main(): Promise<void> {
  const workers = await Promise.all(
    [0, 1].map(() =>
      startCli(
        ['worker', '--models', MODELS, '--port', '0', '--log-level', 'warn'],
        /grove worker listening on (http:\/\/[\d.]+:(\d+))/,
      ),
    ),
  );
  const urls = workers.map((w) => w.match[1]!);
  const ports = workers.map((w) => w.match[2]!);
  const gw = await startCli(
    ['gateway', '--upstreams', urls.join(','), '--port', '0', '--admin-port', '0'],
    /grove gateway listening on (http:\/\/[\d.:]+)/,
  );
  const gwUrl = gw.match[1]!;
  const nginxPort = await freePort();
  let haveNginx = existsSync(NGINX_LB);
  if (haveNginx) {
    try {
      await runNginx(['start', String(nginxPort), ...ports]);
    } catch (err) {
      process.stderr.write(`nginx unavailable: ${(err as Error).message}\n`);
      haveNginx = false;
    }
  }
  const nginxUrl = `http://127.0.0.1:${nginxPort}`;
  const results: { gateway: Run[]; nginx: Run[] } = { gateway: [], nginx: [] };
  try {
    process.stdout.write(
      `gateway + 2 workers vs nginx least_conn + the same workers; ${CONNECTIONS} connections, ${SECONDS}s per run, one-row :predict\n`,
    );
    // Warm both paths (JIT, keep-alive connections to the workers), then alternate which goes first.
    await load(gwUrl, 3);
    if (haveNginx) await load(nginxUrl, 3);
    const runNginx1 = async () => {
      const n = await load(nginxUrl);
      results.nginx.push(n);
      process.stdout.write(`  nginx   ${fmt(n)}\n`);
    };
    const runGateway = async () => {
      const g = await load(gwUrl);
      results.gateway.push(g);
      process.stdout.write(`  gateway ${fmt(g)}\n`);
    };
    for (let r = 0; r < ROUNDS; r++) {
      if (r % 2 === 0) {
        if (haveNginx) await runNginx1();
        await runGateway();
      } else {
        await runGateway();
        if (haveNginx) await runNginx1();
      }
    }
    const avg = (rs: Run[], k: keyof Run) => rs.reduce((a, b) => a + b[k], 0) / Math.max(1, rs.length);
    const summary: Record<string, unknown> = {
      gateway_rps: Math.round(avg(results.gateway, 'rps')),
      gateway_p99_ms: avg(results.gateway, 'p99'),
    };
    if (haveNginx) {
      summary.nginx_rps = Math.round(avg(results.nginx, 'rps'));
      summary.nginx_p99_ms = avg(results.nginx, 'p99');
      summary.throughput_ratio = Number((avg(results.gateway, 'rps') / avg(results.nginx, 'rps')).toFixed(3));
      process.stdout.write(
        `throughput gateway/nginx = ${summary.throughput_ratio}x, p99 ${avg(results.gateway, 'p99').toFixed(2)} vs ${avg(results.nginx, 'p99').toFixed(2)} ms\n`,
      );
    }

    if (process.env.BENCH_SKIP_SLOW !== '1') {
      const rnd = await startCli(
        ['gateway', '--upstreams', urls.join(','), '--port', '0', '--admin-port', '0', '--policy', 'random'],
        /grove gateway listening on (http:\/\/[\d.:]+)/,
      );
      const slowSeconds = Math.max(4, Math.round(SECONDS / 2));
      process.stdout.write(`one worker 10x slower (runs 10 ms in every 100), ${slowSeconds}s per run:\n`);
      const release = throttle(workers[0]!.proc.pid!);
      try {
        const p2cRuns: Run[] = [];
        const randomRuns: Run[] = [];
        // At least 3 alternating rounds; the medians are reported (one stall of a loaded machine
        // must not decide the ratio).
        for (let r = 0; r < Math.max(3, ROUNDS); r++) {
          const p2c = await load(gwUrl, slowSeconds);
          p2cRuns.push(p2c);
          process.stdout.write(`  p2c     ${fmt(p2c)}\n`);
          const random = await load(rnd.match[1]!, slowSeconds);
          randomRuns.push(random);
          process.stdout.write(`  random  ${fmt(random)}\n`);
        }
        const median = (rs: Run[]) => {
          const v = rs.map((x) => x.p99).sort((a, b) => a - b);
          return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
        };
        summary.slow_p2c_p99_ms = median(p2cRuns);
        summary.slow_random_p99_ms = median(randomRuns);
        summary.slow_p99_ratio = Number((median(p2cRuns) / median(randomRuns)).toFixed(3));
        process.stdout.write(`median p99 p2c/random with a slow worker = ${summary.slow_p99_ratio}x\n`);
      } finally {
        release();
      }
    }
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    if (haveNginx) await runNginx(['stop']).catch(() => {});
    for (const c of children) c.kill('SIGTERM');
  }
}

main().then(
  () => setTimeout(() => process.exit(0), 500),
  (err) => {
    process.stderr.write(`bench-gateway failed: ${(err as Error).stack}\n`);
    for (const c of children) c.kill('SIGKILL');
    process.exit(1);
  },
);
