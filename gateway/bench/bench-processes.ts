// The processes `npm run bench:gateway` measures: `grove serve` (gateway + workers), nginx
// least_conn over the same workers (one worker process, keep-alive upstreams: the configuration
// of loadtest/suite/nginx-peer.ts), a Node byte pipe over the same workers (pipe-floor.ts), and
// the FastAPI + gunicorn/uvicorn peer (fastapi_xgboost.py in the folder BENCH_PEERS names, else a
// peers folder beside the checkout) when it and Python's packages are there. Each start resolves once the process answers.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { nginxBinary, nginxConfig } from '../../loadtest/suite/nginx-peer.js';
import { builtFile, projectRoot } from '../../shared/runtime-path.js';
import { childrenOf } from './proc-stat.js';

export interface Proc {
  url: string;
  /** The process whose CPU is measured. */
  pid: number;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

function track(c: ChildProcess): ChildProcess {
  children.add(c);
  c.once('exit', () => children.delete(c));
  return c;
}

export function freePort(): Promise<number> {
  return new Promise((r) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => r(p));
    });
  });
}

function stopper(c: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): () => Promise<void> {
  return () =>
    new Promise((r) => {
      if (c.exitCode !== null || c.signalCode !== null) return r();
      const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
      c.once('exit', () => {
        clearTimeout(t);
        r();
      });
      c.kill(signal);
    });
}

async function answers(url: string, deadlineMs = 60_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.ok) return;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`${url} did not answer`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Serve extends Proc {
  workerUrls: string[];
  workerPids: number[];
}

/** The environment without OTEL_* variables: a process that must run with tracing off. */
export function withoutOtel(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (!k.startsWith('OTEL_')) out[k] = v;
  return out;
}

/** `grove serve --workers N` (the gateway runs in the primary process: `pid`). */
export async function startServe(
  models: string,
  workers: number,
  extra: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Serve> {
  const port = await freePort();
  const adminPort = await freePort();
  const token = 'bench-token';
  // Its own state directory: the default (MODELS/.grove, where jobs are kept) would leave files
  // in the repository's models folder.
  const stateDir = mkdtempSync(join(tmpdir(), 'grove-bench-state-'));
  const c = track(
    spawn(
      process.execPath,
      [
        builtFile('cli/grove.js'),
        'serve',
        '--models',
        models,
        '--workers',
        String(workers),
        '--port',
        String(port),
        '--admin-port',
        String(adminPort),
        '--admin-token',
        token,
        '--state-dir',
        stateDir,
        ...extra,
      ],
      { stdio: ['ignore', 'pipe', 'ignore'], env },
    ),
  );
  await new Promise<void>((res, rej) => {
    let out = '';
    c.stdout!.on('data', (d) => {
      out += d;
      if (/grove workers:/.test(out)) res();
    });
    c.once('exit', (code) => rej(new Error(`grove serve exited ${code}: ${out}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  await answers(`${url}/v2/health/ready`);
  const list = (await (
    await fetch(`http://127.0.0.1:${adminPort}/admin/workers`, {
      headers: { authorization: `Bearer ${token}` },
    })
  ).json()) as { workers: { url: string; pid: number }[] };
  return {
    url,
    pid: c.pid!,
    workerUrls: list.workers.map((w) => w.url),
    workerPids: list.workers.map((w) => w.pid),
    stop: async () => {
      await stopper(c)();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** `grove gateway --upstreams` over running workers. */
export async function startGatewayProcess(upstreams: string[], extra: string[] = []): Promise<Proc> {
  const port = await freePort();
  const c = track(
    spawn(
      process.execPath,
      [
        builtFile('cli/grove.js'),
        'gateway',
        '--upstreams',
        upstreams.join(','),
        '--port',
        String(port),
        '--admin-port',
        String(await freePort()),
        '--admin-token',
        'bench-token',
        ...extra,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    ),
  );
  const url = `http://127.0.0.1:${port}`;
  await answers(`${url}/v2/health/ready`);
  return { url, pid: c.pid!, stop: stopper(c) };
}

/** nginx least_conn over `upstreams`, one worker process; `pid` is that worker's. */
export async function startNginx(upstreams: string[]): Promise<Proc | null> {
  const binary = nginxBinary();
  if (binary === null) return null;
  const dir = mkdtempSync(join(tmpdir(), 'grove-bench-nginx-'));
  const port = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir, port, upstreams));
  const c = track(spawn(binary, ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' }));
  const url = `http://127.0.0.1:${port}`;
  await answers(`${url}/v2/health/ready`);
  const worker = childrenOf(c.pid!)[0];
  const stop = stopper(c, 'SIGQUIT');
  return {
    url,
    pid: worker ?? c.pid!,
    async stop() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The pipe floor (pipe-floor.ts) over `upstreams`: the cheapest proxy a Node process can be, to
 * measure beside the gateway and nginx.
 */
export async function startPipeFloor(upstreams: string[]): Promise<Proc> {
  const c = track(
    spawn(process.execPath, [builtFile('gateway/bench/pipe-floor.js'), ...upstreams], {
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  const port = await new Promise<number>((res, rej) => {
    let out = '';
    c.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('\n')) res(Number(out.trim()));
    });
    c.once('exit', (code) => rej(new Error(`pipe-floor exited with ${code}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  await answers(`${url}/v2/health/ready`);
  return { url, pid: c.pid!, stop: stopper(c) };
}

/** FastAPI + gunicorn with `workers` uvicorn workers serving `model` (XGBoost JSON), or null if unavailable. */
export async function startFastApi(model: string, workers: number): Promise<Proc | null> {
  const peers = process.env.BENCH_PEERS ?? resolve(projectRoot, '..', 'shared', 'peers');
  const gunicorn = ['/usr/bin/gunicorn', '/usr/local/bin/gunicorn'].find((p) => existsSync(p));
  if (!existsSync(join(peers, 'fastapi_xgboost.py')) || gunicorn === undefined) return null;
  const port = await freePort();
  const c = track(
    spawn(
      gunicorn,
      [
        '-w',
        String(workers),
        '-k',
        'uvicorn.workers.UvicornWorker',
        '--chdir',
        peers,
        '-b',
        `127.0.0.1:${port}`,
        'fastapi_xgboost:app',
      ],
      { stdio: 'ignore', env: { ...process.env, PEER_MODEL: model } },
    ),
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await answers(`${url}/v2/health/ready`, 30_000);
  } catch {
    await stopper(c)();
    return null;
  }
  return { url, pid: c.pid!, stop: stopper(c) };
}
