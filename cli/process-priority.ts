// CPU priority of `grove serve`'s local workers (docs/architecture.md, Processes). The gateway and
// its workers share the machine's cores; when the workers saturate them (an overload), a gateway
// with an equal share of CPU reads requests late and cannot shed the excess in time, so admitted
// and refused requests alike wait in the kernel's socket buffers. Workers therefore run at a lower
// priority (a higher nice value), as nginx's `worker_priority` raises its own: the front door gets
// the CPU it needs first and the workers take the rest, which is all of it when nothing is refused.
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * Lowers this process's priority by `n` nice steps (to at most 19): every thread that exists now
 * (on Linux nice is per thread: /proc/self/task), and threads started later inherit it from the
 * main thread.
 */
export function lowerOwnPriority(n: number): void {
  if (n <= 0) return;
  let threads: string[] = [];
  try {
    threads = readdirSync('/proc/self/task');
  } catch {
    // not Linux: the main thread only
  }
  if (threads.length === 0) threads = ['0'];
  for (const t of threads) {
    try {
      const tid = Number(t);
      setPriority(tid, Math.min(19, getPriority(tid) + n));
    } catch {
      // a thread that ended meanwhile
    }
  }
}
