// Shared by the gateway integration tests: starts `node dist/cli/grove.js serve` on port 0 over a
// temporary repository (two versions of a 20-feature binary model), reads its URLs, token and
// worker pids from stdout, and stops it (SIGTERM, then SIGKILL).
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { request } from 'undici';
import { makeRepository, ROOT } from './worker-harness.js';

const CLI = join(ROOT, 'dist', 'cli', 'grove.js');

/**
 * Spawns `grove ARGS...` and resolves once its stdout matches `ready` (with the match). The process
 * is pushed onto `procs` first, so the caller's afterAll kills it even when start-up fails.
 */
export function startGrove(
  procs: ChildProcess[],
  args: string[],
  ready: RegExp,
): Promise<{ proc: ChildProcess; m: RegExpMatchArray }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    procs.push(proc);
    let out = '';
    const t = setTimeout(() => reject(new Error(`not ready: grove ${args.join(' ')}\n${out}`)), 40_000);
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = out.match(ready);
      if (m) {
        clearTimeout(t);
        resolve({ proc, m });
      }
    });
    proc.stderr!.resume();
  });
}

export const ROW = Array.from({ length: 20 }, (_, i) => (i % 7) - 3 + i / 10);

export function twoVersionRepository(): string {
  return makeRepository({ churn: { '1': 'xgboost/xgb-binary-100x4', '2': 'lightgbm/lgb-binary-100x4' } });
}

export interface Serve {
  proc: ChildProcess;
  url: string;
  adminUrl: string;
  token: string;
  stdout: () => string;
  /** Resolves with the first stderr line matching `re` from now on (grove serve logs there). */
  nextLog(re: RegExp): Promise<string>;
  stderr: () => string;
  stop(): Promise<number | null>;
}

export async function startServe(
  models: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<Serve> {
  const proc = spawn(
    process.execPath,
    [CLI, 'serve', '--models', models, '--port', '0', '--admin-port', '0', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GROVE_ADMIN_TOKEN: '', ...env },
    },
  );
  let out = '';
  let err = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  // Ready once stdout has listed the workers (it does after they report in), or not at all.
  const ready = await Promise.race([
    new Promise<boolean>((r) => {
      const on = () => {
        if (/grove workers:/.test(out)) {
          proc.stdout!.off('data', on);
          r(true);
        }
      };
      proc.stdout!.on('data', on);
    }),
    exited.then(() => false),
    new Promise<boolean>((r) => setTimeout(() => r(false), 50_000).unref()),
  ]);
  if (!ready) {
    proc.kill('SIGKILL');
    throw new Error(`grove serve did not start:\n${out}\n${err}`);
  }
  const url = /grove gateway listening on (\S+)/.exec(out)![1]!;
  const adminUrl = /grove admin listening on (\S+)/.exec(out)![1]!;
  const token = /grove admin token: (\S+)/.exec(out)?.[1] ?? args[args.indexOf('--admin-token') + 1]!;
  return {
    proc,
    url,
    adminUrl,
    token,
    stdout: () => out,
    nextLog(re) {
      return new Promise((resolve) => {
        let fresh = '';
        const on = (c: Buffer) => {
          fresh += c.toString();
          const line = fresh.split('\n').find((l) => re.test(l));
          if (line !== undefined) {
            proc.stderr!.off('data', on);
            resolve(line);
          }
        };
        proc.stderr!.on('data', on);
      });
    },
    stderr: () => err,
    async stop() {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

export async function predict(
  url: string,
  headers: Record<string, string> = {},
  path = '/v1/models/churn:predict',
): Promise<{ status: number; version: string | undefined; body: Record<string, unknown> }> {
  const res = await request(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ instances: [ROW] }),
  });
  const body = (await res.body.json()) as Record<string, unknown>;
  return {
    status: res.statusCode,
    version: res.headers['x-grove-model-version'] as string | undefined,
    body,
  };
}

export async function admin(
  s: Serve,
  method: 'GET' | 'PUT',
  path: string,
  body?: unknown,
  token = s.token,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await request(s.adminUrl + path, {
    method,
    headers: { authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

/** Runs `n` calls with at most `concurrency` in flight. */
export async function inParallel<T>(
  n: number,
  concurrency: number,
  f: (i: number) => Promise<T>,
): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await f(i);
      }
    }),
  );
  return out;
}
