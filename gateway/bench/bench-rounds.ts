// Measuring rounds for `npm run bench:gateway`: one wrk run against a process with its CPU per
// request read from /proc, rounds rotated over several processes so none always runs first (a
// machine warming up or cooling down favours no one), and medians of the rounds.
import type { Proc } from './bench-processes.js';
import { cpuMicros } from './proc-stat.js';
import { runWrk, type WrkResult, type WrkRun } from './wrk.js';

export interface Sample {
  wrk: WrkResult;
  /** CPU microseconds per request of the measured process. */
  cpuUs: number;
}

export const median = (xs: number[]) => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
};

export async function sample(
  wrk: string,
  p: Proc,
  run: Omit<WrkRun, 'url'> & { path: string },
): Promise<Sample> {
  const c0 = cpuMicros(p.pid);
  const r = await runWrk(wrk, { ...run, url: p.url + run.path });
  // No request answered (a stalled round on a loaded machine): no CPU figure per request either.
  return { wrk: r, cpuUs: r.requests > 0 ? (cpuMicros(p.pid) - c0) / r.requests : Number.NaN };
}

export interface Pair {
  a: Sample[];
  b: Sample[];
}

export function rounds(count: number) {
  /** `count` rounds over `procs`, each round starting one later (a, b, c; b, c, a; ...). */
  async function rotate(
    wrk: string,
    procs: Proc[],
    run: Omit<WrkRun, 'url'> & { path: string },
    paths: string[] = [],
  ): Promise<Sample[][]> {
    const out: Sample[][] = procs.map(() => []);
    for (let r = 0; r < count; r++)
      for (let k = 0; k < procs.length; k++) {
        const i = (r + k) % procs.length;
        out[i]!.push(await sample(wrk, procs[i]!, { ...run, path: paths[i] ?? run.path }));
      }
    return out;
  }
  /** Alternating rounds (a first on even rounds, b first on odd ones). */
  async function alternate(
    wrk: string,
    a: Proc,
    b: Proc,
    run: Omit<WrkRun, 'url'> & { path: string; pathB?: string },
  ): Promise<Pair> {
    const [sa, sb] = await rotate(wrk, [a, b], run, [run.path, run.pathB ?? run.path]);
    return { a: sa!, b: sb! };
  }
  return { rotate, alternate };
}

/** Medians of a process's rounds. */
export function summary(s: Sample[]) {
  return {
    rps: median(s.map((x) => x.wrk.rps)),
    p99: median(s.map((x) => x.wrk.p99)),
    cpuUs: median(s.map((x) => x.cpuUs)),
    errors: s.reduce((n, x) => n + x.wrk.errors, 0),
  };
}
