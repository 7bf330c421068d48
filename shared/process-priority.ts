// CPU priority of `grove serve`'s local workers (docs/architecture.md, Processes). The gateway and
// its workers share the machine's cores; when the workers saturate them (an overload), a gateway
// with an equal share of CPU reads requests late and cannot shed the excess in time, so admitted
// and refused requests alike wait in the kernel's socket buffers. Workers therefore run at a lower
// priority (a higher nice value), as nginx's `worker_priority` raises its own: the front door gets
// the CPU it needs first and the workers take the rest, which is all of it when nothing is refused.
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * Sets the nice value of every thread of process `pid` ('self': this one) to `next(current)`, at
 * most 19. On Linux nice is per thread (/proc/PID/task) and threads started later inherit it from
 * the thread that starts them; elsewhere only the process's main thread is set. A thread or
 * process that ended meanwhile is skipped.
 */
export function setNice(pid: number | 'self', next: (current: number) => number): void {
  let threads: number[] = [];
  try {
    threads = readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    // not Linux, or gone
  }
  if (threads.length === 0) threads = [pid === 'self' ? 0 : pid];
  for (const t of threads) {
    try {
      setPriority(t, Math.min(19, next(getPriority(t))));
    } catch {
      // ended meanwhile
    }
  }
}

/** Lowers this process's priority by `n` nice steps (worker start, before its threads start). */
export function lowerOwnPriority(n: number): void {
  if (n > 0) setNice('self', (current) => current + n);
}
