// Starting and stopping the grove processes a scenario needs (worker, gateway, serve), on free
// loopback ports. Each process runs in its own process group so stopping it also stops the
// workers `grove serve` spawned; every wait is bounded.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { request } from 'undici';
import { builtFile } from '../../shared/runtime-path.js';

export const HOST = '127.0.0.1';

/** A free loopback port (bind port 0, read it, release it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers 200 or `timeoutMs` passes. */
export async function waitReady(
  url: string,
  timeoutMs = 30_000,
  isAlive: () => boolean = () => true,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await request(url, { headersTimeout: 2000, bodyTimeout: 2000 });
      await res.body.dump();
      if (res.statusCode === 200) return;
    } catch {
      // not listening yet
    }
    if (!isAlive()) throw new Error(`process exited before ${url} was ready`);
    if (Date.now() > deadline) throw new Error(`${url} not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface GroveProcess {
  url: string;
  proc: ChildProcess;
  /** Output so far (for error messages). */
  output(): string;
  stop(): Promise<void>;
}

/** Runs `node dist/cli/grove.js ...args` listening on `port`, resolved when /v2/health/ready answers. */
export async function startGrove(
  args: string[],
  port: number,
  env: NodeJS.ProcessEnv = {},
): Promise<GroveProcess> {
  const proc = spawn(process.execPath, [builtFile('cli/grove.js'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, ...env },
  });
  let out = '';
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(-8000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const url = `http://${HOST}:${port}`;
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    signalGroup(proc, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(proc, 'SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    // Children of `grove serve` that outlived their parent.
    signalGroup(proc, 'SIGKILL');
  };
  try {
    await waitReady(
      `${url}/v2/health/ready`,
      30_000,
      () => proc.exitCode === null && proc.signalCode === null,
    );
  } catch (err) {
    await stop();
    throw new Error(`grove ${args.join(' ')}: ${(err as Error).message}\n${out}`);
  }
  return { url, proc, output: () => out, stop };
}

function signalGroup(proc: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (proc.pid) process.kill(-proc.pid, signal);
  } catch {
    // already gone
  }
}

export async function startWorker(models: string): Promise<GroveProcess> {
  const port = await freePort();
  return startGrove(['worker', '--models', models, '--port', String(port)], port);
}

/** The direct children of a process (the workers `grove serve` spawned), from /proc. */
export async function childPids(pid: number): Promise<number[]> {
  const { readFile, readdir } = await import('node:fs/promises');
  const pids: number[] = [];
  for (const task of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    const text = await readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '');
    for (const p of text.trim().split(/\s+/)) if (p) pids.push(Number(p));
  }
  return pids;
}
