// Local discovery (DESIGN.md Routing 4, the default): the primary forks N worker processes with
// node:cluster, learns each one's URL and versions over IPC, removes a dead one from routing the
// moment it exits and forks a replacement at once (with exponential backoff when a worker keeps
// dying young: a broken repository must not turn into a fork loop).
import cluster, { type Worker } from 'node:cluster';
import { builtFile } from '../../shared/runtime-path.js';
import type { WorkerSet } from '../upstream/worker-set.js';
import type { WorkerIpcMessage } from './cluster-worker-main.js';

export interface LocalClusterOptions {
  count: number;
  modelsDir: string;
  threads?: number;
  logLevel?: string;
  /** A worker that dies younger than this counts as crash-looping. */
  youngMs?: number;
  log?: (msg: string) => void;
}

interface Slot {
  index: number;
  worker: Worker | null;
  startedAt: number;
  crashes: number;
  timer: NodeJS.Timeout | null;
}

export class LocalCluster {
  private readonly slots: Slot[] = [];
  private stopping = false;
  respawns = 0;

  constructor(
    private readonly workers: WorkerSet,
    private readonly opts: LocalClusterOptions,
  ) {
    cluster.setupPrimary({ exec: builtFile('gateway/discovery/cluster-worker-main.js'), args: [], silent: false });
  }

  /** Forks every worker; resolves when all have reported their URL (or failed to). */
  async start(timeoutMs = 60_000): Promise<void> {
    const ready: Promise<void>[] = [];
    for (let i = 0; i < this.opts.count; i++) {
      const slot: Slot = { index: i, worker: null, startedAt: 0, crashes: 0, timer: null };
      this.slots.push(slot);
      ready.push(this.fork(slot));
    }
    await Promise.race([Promise.all(ready), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  pids(): number[] {
    return this.slots.flatMap((s) => (s.worker?.process.pid ? [s.worker.process.pid] : []));
  }

  private fork(slot: Slot): Promise<void> {
    const env: Record<string, string> = { GROVE_MODELS_DIR: this.opts.modelsDir, GROVE_LOG_LEVEL: this.opts.logLevel ?? 'warn' };
    if (this.opts.threads) env.GROVE_WORKER_THREADS = String(this.opts.threads);
    const w = cluster.fork(env);
    slot.worker = w;
    slot.startedAt = Date.now();
    const id = `local-${slot.index}`;
    return new Promise((resolve) => {
      w.on('message', (m: WorkerIpcMessage) => {
        if (!m || typeof m !== 'object') return;
        if (m.type === 'grove:listening' && typeof m.url === 'string') {
          const up = this.workers.add(id, m.url);
          up.pid = w.process.pid;
          this.workers.setVersions(id, m.versions ?? {});
          this.opts.log?.(`worker ${w.process.pid} listening on ${m.url}`);
          resolve();
        } else if (m.type === 'grove:versions' && slot.worker === w) {
          this.workers.setVersions(id, m.versions ?? {});
        }
      });
      w.on('exit', (code, signal) => {
        resolve();
        if (slot.worker !== w) return;
        slot.worker = null;
        // Out of routing at once: in-flight calls to it fail and are retried on another worker.
        const up = this.workers.get(id);
        if (up && up.pid === w.process.pid) this.workers.remove(id);
        if (this.stopping) return;
        const young = Date.now() - slot.startedAt < (this.opts.youngMs ?? 5000);
        slot.crashes = young ? slot.crashes + 1 : 0;
        const delay = slot.crashes <= 1 ? 0 : Math.min(10_000, 100 * 2 ** (slot.crashes - 2));
        this.opts.log?.(`worker ${w.process.pid} exited (${signal ?? code}); respawning${delay ? ` in ${delay} ms` : ''}`);
        this.respawns++;
        slot.timer = setTimeout(() => {
          slot.timer = null;
          if (!this.stopping) void this.fork(slot);
        }, delay);
      });
    });
  }

  /** SIGTERM to every worker (they finish in-flight requests), SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    const exits: Promise<void>[] = [];
    for (const s of this.slots) {
      if (s.timer) clearTimeout(s.timer);
      const w = s.worker;
      if (!w || w.isDead()) continue;
      exits.push(
        new Promise<void>((resolve) => {
          const t = setTimeout(() => w.process.kill('SIGKILL'), graceMs);
          w.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
          w.process.kill('SIGTERM');
        }),
      );
    }
    await Promise.all(exits);
  }
}
