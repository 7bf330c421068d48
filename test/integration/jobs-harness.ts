// Shared by the jobs integration tests: the suite's hooks (a model repository, a temporary folder,
// the webhook receiver, the processes to kill), grove processes (serve, gateway, worker) with the
// jobs flags, a webhook receiver whose notices are the events tests wait on, job inputs made from
// the fixtures, and the expected predictions from `grove predict` on the same rows.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll } from 'vitest';
import { FIXTURES, makeRepository, modelFileOf, ROOT, removeRepository } from './worker-harness.js';

export const CLI = join(ROOT, 'dist', 'cli', 'grove.js');

export interface GroveProcess {
  proc: ChildProcess;
  url: string;
  out(): string;
  err(): string;
  /** Resolves when stderr (or stdout) matches. */
  waitFor(re: RegExp): Promise<RegExpMatchArray>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface JobsSuite {
  /** Every process started for the suite (startGroveProcess pushes to it); killed after all. */
  readonly procs: ChildProcess[];
  readonly hooks: Hooks;
  readonly repo: string;
  /** A temporary folder (state dirs, inputs), removed after all. */
  readonly dir: string;
}

export interface JobsSuiteOptions {
  /** The repository's models (worker-harness makeRepository). */
  models: Parameters<typeof makeRepository>[0];
  /** The temporary folder's name prefix. */
  tmpPrefix: string;
  /** Runs once the repository, folder and webhook receiver are ready (start processes here). */
  before?: (suite: JobsSuite) => Promise<void>;
  /** Runs first after all, while the processes still run (a graceful stop). */
  stop?: () => Promise<void>;
  /** Runs once the processes were killed, before the folders are removed. */
  after?: () => Promise<void>;
}

/** Registers a test file's (or describe block's) beforeAll and afterAll for jobs tests. */
export function jobsSuite(opts: JobsSuiteOptions): JobsSuite {
  const suite = { procs: [] as ChildProcess[], hooks: new Hooks(), repo: '', dir: '' };
  beforeAll(async () => {
    suite.repo = makeRepository(opts.models);
    suite.dir = mkdtempSync(join(tmpdir(), opts.tmpPrefix));
    await suite.hooks.start();
    await opts.before?.(suite);
  }, 120_000);
  afterAll(async () => {
    await opts.stop?.();
    killAll(suite.procs);
    suite.hooks.close();
    await opts.after?.();
    if (suite.repo) removeRepository(suite.repo);
    if (suite.dir) rmSync(suite.dir, { recursive: true, force: true });
  });
  return suite;
}

/** Spawns `grove ARGS` and resolves once it prints its URL (`listening on`) and, with jobs, that their store is ready. */
export function startGroveProcess(args: string[], procs: ChildProcess[], jobs = true): Promise<GroveProcess> {
  const proc = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GROVE_ADMIN_TOKEN: 'test-token' },
  });
  procs.push(proc);
  let out = '';
  let err = '';
  const watchers: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const check = () => {
    for (let i = watchers.length - 1; i >= 0; i--) {
      const m = (out + err).match(watchers[i]!.re);
      if (m) {
        watchers[i]!.resolve(m);
        watchers.splice(i, 1);
      }
    }
  };
  proc.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    check();
  });
  proc.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
    check();
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const waitFor = (re: RegExp) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const m = (out + err).match(re);
      if (m) return resolve(m);
      watchers.push({ re, resolve });
      void exited.then(() =>
        reject(new Error(`grove ${args[0]} exited before printing ${re}:\n${out}\n${err}`)),
      );
    });
  return (async () => {
    const m = await waitFor(/grove (?:gateway|worker) listening on (http:\/\/\S+)/);
    // A new PGlite database is created on the first jobs request: make one (it waits for the store).
    if (jobs)
      await Promise.all([
        waitFor(/jobs database ready/),
        request(`${m[1]!}/v1/jobs?limit=1`).then((r) => r.body.dump()),
      ]);
    return {
      proc,
      url: m[1]!,
      out: () => out,
      err: () => err,
      waitFor,
      async kill(signal: NodeJS.Signals = 'SIGTERM') {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
        await exited;
      },
    };
  })();
}

/** A webhook receiver: every notice is kept; `next(pred)` resolves with the first one matching. */
export class Hooks {
  readonly notices: { path: string; body: any }[] = [];
  private waiting: { pred: (n: { path: string; body: any }) => boolean; resolve: (n: any) => void }[] = [];
  private server: Server | null = null;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let b = '';
      req.on('data', (c) => (b += c));
      req.on('end', () => {
        const n = { path: req.url ?? '', body: JSON.parse(b) };
        this.notices.push(n);
        this.waiting = this.waiting.filter((w) => (w.pred(n) ? (w.resolve(n), false) : true));
        res.end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The first notice (already received or to come) that matches. */
  next(pred: (n: { path: string; body: any }) => boolean): Promise<{ path: string; body: any }> {
    const seen = this.notices.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiting.push({ pred, resolve }));
  }

  /** The notice that job `id` ended. */
  ended(id: string, path = '/all'): Promise<any> {
    return this.next((n) => n.path === path && n.body.job.id === id).then((n) => n.body);
  }

  close(): void {
    this.server?.close();
  }
}

export async function http(
  url: string,
  method: 'GET' | 'POST' | 'DELETE' | 'PUT' = 'GET',
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; json: any; headers: Record<string, unknown> }> {
  const r = await request(url, { method, body, headers });
  const text = await r.body.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: r.statusCode, text, json, headers: r.headers };
}

/** A fixture's test.csv with a key column `id` (values `r1`, `r2`, ...) in position `at`, repeated `times`. */
export function keyedCsv(fixture: string, at = 0, times = 1): { csv: string; rows: number; plain: string } {
  const lines = readFileSync(join(FIXTURES, fixture, 'test.csv'), 'utf8')
    .trimEnd()
    .split('\n');
  const put = (l: string, k: string) => {
    const f = l.split(',');
    f.splice(at, 0, k);
    return f.join(',');
  };
  const data = lines.slice(1);
  const out = [put(lines[0]!, 'id')];
  const plain = [lines[0]!];
  let n = 0;
  for (let t = 0; t < times; t++)
    for (const l of data) {
      out.push(put(l, `r${++n}`));
      plain.push(l);
    }
  return { csv: out.join('\n') + '\n', rows: n, plain: plain.join('\n') + '\n' };
}

/** `grove predict` on the same rows: one output line per row. */
export function expectedPredictions(fixture: string, plainCsv: string, dir: string): string[] {
  const input = join(dir, `expected-${fixture.replace('/', '-')}.csv`);
  writeFileSync(input, plainCsv);
  return execFileSync(process.execPath, [CLI, 'predict', '--model', modelFileOf(fixture), '--input', input], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  })
    .trimEnd()
    .split('\n');
}

export function killAll(procs: ChildProcess[]): void {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}
