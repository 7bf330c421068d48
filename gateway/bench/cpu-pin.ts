// CPU pinning for the overload benchmark. On a machine of a few cores the load generator, the
// gateway and the workers compete for the same CPUs; an open-loop client starved of CPU sends late
// and reads late, and since each latency counts from the request's due time (wrk2's rule) its own
// lateness is charged to the gateway. A remote caller has CPUs of its own: so when taskset is there
// and the machine has 2 CPUs or more, the client gets CPU 0 and the cluster (gateway and workers)
// the others, for the calm run and the overloaded runs alike.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setNice } from '../../shared/process-priority.js';

export interface Pinning {
  taskset: string;
  /** The load generator's CPU list (taskset -c syntax). */
  client: string;
  /** The cluster's CPU list. */
  cluster: string;
  /** Every CPU: what pinned processes go back to. */
  all: string;
}

export function cpuPinning(): Pinning | null {
  const n = availableParallelism();
  const taskset = ['/usr/bin/taskset', '/bin/taskset'].find((p) => existsSync(p));
  if (n < 2 || taskset === undefined) return null;
  return { taskset, client: '0', cluster: `1-${n - 1}`, all: `0-${n - 1}` };
}

/** Pins every thread of each process to `cpus`; a process that is gone is skipped. */
export function pin(p: Pinning, pids: number[], cpus: string): void {
  for (const pid of pids) {
    try {
      execFileSync(p.taskset, ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
    } catch {
      // exited
    }
  }
}

/** Sets every thread of each process to nice `n` (what `grove serve --worker-nice` does to its workers). */
export function niceAll(pids: number[], n: number): void {
  for (const pid of pids) setNice(pid, () => n);
}
