// Shared by the worker integration tests: builds a temporary model repository from the fixtures,
// starts `node dist/cli/grove.js worker` on port 0, reads its URL from stdout, and stops it.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FIXTURES, readDenseRows, readExpected } from '../../shared/runtime/fixtures.test-helper.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export { FIXTURES };

const CLI = join(ROOT, 'dist', 'cli', 'grove.js');

export function modelFileOf(fixture: string): string {
  const dir = join(FIXTURES, fixture);
  const name = readdirSync(dir).find((n) => /^model\.(json|ubj|txt|joblib|pkl|grove)$/.test(n));
  if (!name) throw new Error(`no model file in ${dir}`);
  return join(dir, name);
}

/** `{model: {version: fixture}}` -> a temporary repository. */
export function makeRepository(spec: Record<string, Record<string, string>>): string {
  const root = mkdtempSync(join(tmpdir(), 'grove-worker-test-'));
  for (const [model, versions] of Object.entries(spec)) {
    for (const [version, fixture] of Object.entries(versions)) addVersion(root, model, version, fixture);
  }
  return root;
}

export function addVersion(root: string, model: string, version: string, fixture: string): void {
  const src = modelFileOf(fixture);
  const dir = join(root, model, version);
  mkdirSync(dir, { recursive: true });
  cpSync(src, join(dir, src.split('/').pop()!));
}

/**
 * Writes `{model}/{version}/profile.json` in a repository made by makeRepository with `grove
 * profile` over the fixture's test rows: the first `firstRows` of them when given (the others can
 * then be live traffic), else all.
 */
export function profileVersion(
  root: string,
  model: string,
  version: string,
  fixture: string,
  firstRows?: number,
): void {
  let data = join(FIXTURES, fixture, 'test.csv');
  if (firstRows !== undefined) {
    const lines = readFileSync(data, 'utf8').trim().split('\n');
    data = join(root, `train-${model}-${version}.csv`);
    writeFileSync(data, `${lines.slice(0, firstRows + 1).join('\n')}\n`);
  }
  const dir = join(root, model, version);
  const modelFile = join(dir, modelFileOf(fixture).split('/').pop()!);
  execFileSync(process.execPath, [
    CLI,
    'profile',
    '--model',
    modelFile,
    '--data',
    data,
    '--output',
    join(dir, 'profile.json'),
  ]);
}

export function removeRepository(root: string): void {
  rmSync(root, { recursive: true, force: true });
}

export interface WorkerProcess {
  url: string;
  child: ChildProcess;
  stderr(): string;
  /** What the worker printed on stdout so far (its listening lines). */
  stdout(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startWorkerProcess(
  modelsDir: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Promise<WorkerProcess> {
  return spawnWorker(['--models', modelsDir, '--port', '0', '--rescan', '300', ...args], env);
}

/** `grove worker ARGS`, resolved once it prints its URL. */
export function spawnWorker(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [CLI, 'worker', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (c: string) => (err += c));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return new Promise((resolvePromise, reject) => {
    // A safety net, not a measurement: below the hook timeout so the child is killed, not leaked,
    // and generous because a loaded 2-core CI machine can take tens of seconds to start a process.
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`worker did not start: ${err}`));
    }, 55_000);
    child.stdout!.on('data', (c: string) => {
      out += c;
      const m = /grove worker listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolvePromise({
          url: m[1]!,
          child,
          stderr: () => err,
          stdout: () => out,
          async stop(signal = 'SIGTERM') {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`worker exited with ${code}: ${err}`));
    });
  });
}

/** Fixture rows as JSON values (empty field = null) and the library's predictions. */
export function fixtureRows(fixture: string): {
  header: string[];
  rows: (number | null)[][];
  pred: number[][];
} {
  const dir = join(FIXTURES, fixture);
  const { names, rows, data } = readDenseRows(dir);
  const F = names.length;
  const expected = readExpected(dir, 'pred.csv')!;
  return {
    header: names,
    rows: Array.from({ length: rows }, (_, r) =>
      Array.from(data.subarray(r * F, r * F + F), (x) => (Number.isNaN(x) ? null : x)),
    ),
    pred: Array.from({ length: expected.values.length / expected.cols }, (_, r) =>
      Array.from(expected.values.subarray(r * expected.cols, (r + 1) * expected.cols)),
    ),
  };
}

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return answerOf(r);
}

export async function getJson(url: string): Promise<Answer> {
  return answerOf(await fetch(url));
}

// biome-ignore lint/suspicious/noExplicitAny: tests read whatever fields an answer has.
export type Answer = { status: number; body: any; headers: Headers };

/** Status, headers and the body as JSON (or as text when it is not JSON). */
async function answerOf(r: Response): Promise<Answer> {
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: r.status, body: parsed, headers: r.headers };
}

export async function waitFor<T>(
  f: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
  stepMs = 100,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export function closeTo(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-6 + 1e-6 * Math.abs(b);
}
