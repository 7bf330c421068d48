// CPU time and memory of a process from /proc (Linux): utime + stime (fields 14 and 15 of
// /proc/PID/stat, in clock ticks of 1/100 s) and VmRSS. CPU per request = the difference over a
// run divided by the requests the load generator reports.
import { readdirSync, readFileSync } from 'node:fs';

const TICK_US = 10_000;

/** CPU microseconds the process has used, or NaN when /proc is not readable. */
export function cpuMicros(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; fields after it are counted from its ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) * TICK_US;
  } catch {
    return Number.NaN;
  }
}

/** Resident memory in MiB, or NaN. */
export function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Direct children of a process. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      for (const p of text.split(/\s+/)) if (p) out.push(Number(p));
    }
  } catch {
    // gone
  }
  return out;
}

/** The load average (1 minute) from /proc/loadavg. */
export function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'unknown';
  }
}

/**
 * Waits until the processes are idle (together under `maxShare` of a core over `windowMs`), up to
 * `limitMs`: measuring while a process still finishes starting (JIT, a background open) measures
 * its start, not its steady state. Resolves with the milliseconds waited.
 */
export async function settle(
  pids: number[],
  maxShare = 0.05,
  windowMs = 1000,
  limitMs = 60_000,
): Promise<number> {
  const sum = () => pids.reduce((a, p) => a + (cpuMicros(p) || 0), 0);
  const t0 = performance.now();
  let before = sum();
  for (;;) {
    await new Promise((r) => setTimeout(r, windowMs));
    const now = sum();
    const waited = performance.now() - t0;
    if (now - before <= maxShare * windowMs * 1000 || waited >= limitMs) return Math.round(waited);
    before = now;
  }
}
