// Local discovery (docs/architecture.md, Routing 4; the default): the primary forks N worker processes with
// node:cluster, learns each one's URL and versions over IPC, removes a dead one from routing the
// moment it exits and forks a replacement at once (with exponential backoff when a worker keeps
// dying young: a broken repository must not turn into a fork loop). A worker takes a second or
// more to boot and load its models, so `spares` (default 1) standby workers are kept booted and
// out of routing: when an active worker dies a standby takes its place at once (capacity is back
// within milliseconds, not after a boot) and a new standby is forked behind it.
import cluster, { type Worker } from 'node:cluster';
import type { WorkerIpcMessage, WorkerNotes } from '../../shared/protocol/worker-ipc.js';
import type { WorkerSet } from '../upstream/worker-set.js';

export interface LocalClusterOptions {
  count: number;
  /** The built JavaScript file each forked worker process runs (it composes a worker and speaks
   *  shared/protocol/worker-ipc.ts); the CLI names it, so the gateway depends on no worker code. */
  workerEntry: string;
  modelsDir: string;
  threads?: number;
  /** Nice steps the workers run below the gateway (shared/process-priority.ts); 0: the same priority. */
  nice?: number;
  logLevel?: string;
  /** Booted standby workers kept out of routing to replace a dead one at once (default 1). */
  spares?: number;
  /** A worker that dies younger than this counts as crash-looping. */
  youngMs?: number;
  log?: (msg: string) => void;
  /** The token the workers' repository API takes (the gateway's admin token): the gateway applies
   *  repository calls to every worker with it. */
  adminToken?: string;
}

/** Delay before re-forking a worker that died young `crashes` times in a row: at once for the
 *  first, then 100 ms doubling up to 10 s. */
export function respawnDelayMs(crashes: number): number {
  return crashes <= 1 ? 0 : Math.min(10_000, 100 * 2 ** (crashes - 2));
}

interface Slot {
  index: number;
  worker: Worker | null;
  startedAt: number;
  crashes: number;
  timer: NodeJS.Timeout | null;
  /** A standby slot: its worker is booted but not routed to. */
  spare: boolean;
  url: string | null;
  versions: Record<string, string[]>;
  notes: WorkerNotes;
}

const NO_NOTES: WorkerNotes = { problems: [], unavailable: {} };

function notesOf(m: WorkerIpcMessage): WorkerNotes {
  return {
    problems: Array.isArray(m.problems) ? m.problems.filter((p) => typeof p === 'string') : [],
    unavailable: m.unavailable && typeof m.unavailable === 'object' ? m.unavailable : {},
  };
}

export class LocalCluster {
  private readonly slots: Slot[] = [];
  private stopping = false;
  respawns = 0;

  constructor(
    private readonly workers: WorkerSet,
    private readonly opts: LocalClusterOptions,
  ) {
    cluster.setupPrimary({
      exec: opts.workerEntry,
      args: [],
      silent: false,
    });
  }

  /** Forks every worker; resolves when all have reported their URL (or failed to). */
  async start(timeoutMs = 60_000): Promise<void> {
    const ready: Promise<void>[] = [];
    const total = this.opts.count + (this.opts.spares ?? 1);
    for (let i = 0; i < total; i++) {
      const slot: Slot = {
        index: i,
        worker: null,
        startedAt: 0,
        crashes: 0,
        timer: null,
        spare: i >= this.opts.count,
        url: null,
        versions: {},
        notes: NO_NOTES,
      };
      this.slots.push(slot);
      ready.push(this.fork(slot));
    }
    await Promise.race([Promise.all(ready), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  /** Pids of the routed workers. */
  pids(): number[] {
    return this.slots.flatMap((s) => (!s.spare && s.worker?.process.pid ? [s.worker.process.pid] : []));
  }

  sparePids(): number[] {
    return this.slots.flatMap((s) => (s.spare && s.worker?.process.pid ? [s.worker.process.pid] : []));
  }

  private route(slot: Slot): void {
    const w = slot.worker;
    if (!w || !slot.url) return;
    const up = this.workers.add(`local-${slot.index}`, slot.url);
    up.pid = w.process.pid;
    this.workers.setVersions(`local-${slot.index}`, slot.versions);
    this.workers.setNotes(`local-${slot.index}`, slot.notes);
  }

  /** Moves a booted standby's worker into `slot` (whose worker just died); true if one was ready. */
  private promoteSpare(slot: Slot): boolean {
    const spare = this.slots.find((s) => s.spare && s.worker && s.url && !s.worker.isDead());
    if (!spare) return false;
    slot.worker = spare.worker;
    slot.url = spare.url;
    slot.versions = spare.versions;
    slot.notes = spare.notes;
    slot.startedAt = spare.startedAt;
    spare.worker = null;
    spare.url = null;
    this.route(slot);
    this.opts.log?.(`standby worker ${slot.worker!.process.pid} now serving on ${slot.url}`);
    void this.fork(spare);
    return true;
  }

  /** The slot that currently owns worker `w` (it moves when a standby is promoted). */
  private slotOf(w: Worker): Slot | undefined {
    return this.slots.find((s) => s.worker === w);
  }

  private fork(slot: Slot): Promise<void> {
    const env: Record<string, string> = {
      GROVE_MODELS_DIR: this.opts.modelsDir,
      GROVE_LOG_LEVEL: this.opts.logLevel ?? 'warn',
    };
    if (this.opts.threads) env.GROVE_WORKER_THREADS = String(this.opts.threads);
    if (this.opts.nice) env.GROVE_WORKER_NICE = String(this.opts.nice);
    if (this.opts.adminToken) env.GROVE_WORKER_ADMIN_TOKEN = this.opts.adminToken;
    const w = cluster.fork(env);
    slot.worker = w;
    slot.url = null;
    slot.startedAt = Date.now();
    return new Promise((resolve) => {
      w.on('message', (m: WorkerIpcMessage) => {
        if (!m || typeof m !== 'object') return;
        const owner = this.slotOf(w);
        if (!owner) return;
        if (m.type === 'grove:listening' && typeof m.url === 'string') {
          owner.url = m.url;
          owner.versions = m.versions ?? {};
          owner.notes = notesOf(m);
          if (!owner.spare) this.route(owner);
          this.opts.log?.(`${owner.spare ? 'standby ' : ''}worker ${w.process.pid} listening on ${m.url}`);
          resolve();
        } else if (m.type === 'grove:versions') {
          owner.versions = m.versions ?? {};
          owner.notes = notesOf(m);
          if (!owner.spare) {
            this.workers.setVersions(`local-${owner.index}`, owner.versions);
            this.workers.setNotes(`local-${owner.index}`, owner.notes);
          }
        }
      });
      w.on('exit', (code, signal) => {
        resolve();
        const owner = this.slotOf(w);
        if (!owner) return;
        slot = owner;
        slot.worker = null;
        slot.url = null;
        // Out of routing at once: in-flight calls to it fail and are retried on another worker.
        const id = `local-${slot.index}`;
        const up = this.workers.get(id);
        if (up && up.pid === w.process.pid) this.workers.remove(id);
        if (this.stopping) return;
        if (!slot.spare && this.promoteSpare(slot)) return;
        const young = Date.now() - slot.startedAt < (this.opts.youngMs ?? 5000);
        slot.crashes = young ? slot.crashes + 1 : 0;
        const delay = respawnDelayMs(slot.crashes);
        this.opts.log?.(
          `worker ${w.process.pid} exited (${signal ?? code}); respawning${delay ? ` in ${delay} ms` : ''}`,
        );
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
