// What the worker benchmarks share: a model repository with one XGBoost model (100 trees of depth
// 4, 20 features) as `bench` version 1, starting a process that prints `listening on URL`, and the
// median of a round's figures.
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtFile, projectRoot } from '../../shared/runtime-path.js';

/** The fixture every worker benchmark serves; its test.csv holds rows with missing values. */
export const BENCH_FIXTURE = join(projectRoot, 'test/fixtures/xgboost/xgb-binary-100x4');

/** A temporary repository holding BENCH_FIXTURE as model `bench`, version 1 (the caller removes it). */
export function benchRepository(name: string): string {
  const repo = mkdtempSync(join(tmpdir(), `grove-${name}-`));
  mkdirSync(join(repo, 'bench', '1'), { recursive: true });
  cpSync(join(BENCH_FIXTURE, 'model.json'), join(repo, 'bench', '1', 'model.json'));
  return repo;
}

/** `node ARGS` until it prints `listening on URL`. */
export function startListening(
  args: string[],
  stderr: 'ignore' | 'inherit' = 'ignore',
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', stderr] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (c: string) => {
      out += c;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
}

/** `grove worker` (this build's, or `cli`) over `repo` on a free port. */
export function startBenchWorker(
  repo: string,
  extra: string[] = [],
  cli = builtFile('cli/grove.js'),
): Promise<{ child: ChildProcess; url: string }> {
  return startListening([cli, 'worker', '--models', repo, '--port', '0', '--log-level', 'warn', ...extra]);
}

export function median(xs: readonly number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
}
