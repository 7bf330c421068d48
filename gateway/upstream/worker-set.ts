// The set of workers the gateway routes over, whatever discovers them (local cluster, static
// list, Consul). Answers the routing questions: which usable workers hold model m version v,
// which versions of m exist, the latest one. Emits 'change' when membership or versions change.
import { EventEmitter } from 'node:events';
import type { WorkerNotes } from '../../shared/protocol/worker-ipc.js';
import { DEFAULT_UPSTREAM, type UpstreamOptions, UpstreamWorker } from './upstream-worker.js';

export class WorkerSet extends EventEmitter {
  private readonly byId = new Map<string, UpstreamWorker>();
  /** Snapshot for iteration on the hot path (rebuilt on membership change). */
  all: UpstreamWorker[] = [];
  private union = new Map<string, Set<string>>();
  /** Models some worker lists with no version ready yet. */
  private loading = new Set<string>();
  /** Per worker id: its repository's layout problems and why its failed models failed. */
  private readonly notes = new Map<string, WorkerNotes>();
  private named = 0;
  constructor(
    readonly opts: UpstreamOptions = DEFAULT_UPSTREAM,
    readonly now: () => number = Date.now,
  ) {
    super();
  }

  get(id: string): UpstreamWorker | undefined {
    return this.byId.get(id);
  }

  add(id: string, url: string, healthy = true): UpstreamWorker {
    const old = this.byId.get(id);
    if (old && old.url === url.replace(/\/+$/, '')) return old;
    if (old) this.remove(id);
    const w = new UpstreamWorker(id, url, this.opts, healthy, `w${++this.named}`);
    this.byId.set(id, w);
    this.changed();
    return w;
  }

  remove(id: string): void {
    const w = this.byId.get(id);
    if (!w) return;
    this.byId.delete(id);
    this.notes.delete(id);
    w.removed = true;
    // Let in-flight requests finish (or fail and be retried elsewhere); new ones no longer see it.
    setTimeout(() => w.destroy(), 30_000).unref();
    void w.close();
    this.changed();
  }

  setVersions(id: string, live: Record<string, readonly string[]>): void {
    const w = this.byId.get(id);
    if (w?.setVersions(live)) this.changed();
  }

  /** What a worker says beside its versions (shared/protocol/worker-ipc.ts). */
  setNotes(id: string, notes: WorkerNotes): void {
    if (this.byId.has(id)) this.notes.set(id, notes);
  }

  /** Every worker's repository layout problems, once each. */
  problems(): string[] {
    const out = new Set<string>();
    for (const n of this.notes.values()) for (const p of n.problems) out.add(p);
    return [...out].sort();
  }

  /** Why `model` has no version that loaded, if some worker knows (503 instead of 404). */
  unavailableReason(model: string): string | undefined {
    for (const n of this.notes.values()) {
      const r = Object.hasOwn(n.unavailable, model) ? n.unavailable[model] : undefined;
      if (typeof r === 'string') return r;
    }
    return undefined;
  }

  /** Call when health changes, so unions are rebuilt. */
  changed(): void {
    this.all = [...this.byId.values()];
    const u = new Map<string, Set<string>>();
    const loading = new Set<string>();
    for (const w of this.all) {
      for (const [m, vs] of w.versions) {
        let s = u.get(m);
        if (!s) u.set(m, (s = new Set()));
        for (const v of vs) s.add(v);
      }
      for (const m of w.loadingModels) loading.add(m);
    }
    this.union = u;
    this.loading = loading;
    this.emit('change');
  }

  /** Versions of `model` held by any known worker (healthy or not). */
  versionsOf(model: string): Set<string> | undefined {
    return this.union.get(model);
  }

  models(): Map<string, Set<string>> {
    return this.union;
  }

  /** Some worker lists `model` while none of its versions is ready yet (it is loading). */
  loadingModel(model: string): boolean {
    return this.loading.has(model);
  }

  /** A worker that may serve has not told its versions yet (starting, or just discovered). */
  learning(): boolean {
    for (const w of this.all) if (!w.known && w.healthy && !w.removed) return true;
    return false;
  }

  /**
   * Ready means the gateway knows what its workers serve: some usable worker's versions are
   * known, and no healthy worker's versions are still unknown.
   */
  ready(): boolean {
    const now = this.now();
    let any = false;
    for (const w of this.all) {
      if (w.removed) continue;
      if (!w.known && w.healthy) return false;
      if (w.known && w.usable(now)) any = true;
    }
    return any;
  }

  /** Usable workers holding (model, version); Envoy-style panic: if none is usable, healthy-but-ejected ones. */
  candidates(model: string, version: string, exclude?: UpstreamWorker): UpstreamWorker[] {
    const now = this.now();
    const out: UpstreamWorker[] = [];
    for (const w of this.all) if (w !== exclude && w.holds(model, version) && w.usable(now)) out.push(w);
    if (out.length === 0) {
      for (const w of this.all)
        if (w !== exclude && w.holds(model, version) && w.healthy && !w.removed) out.push(w);
    }
    return out;
  }

  /** Any usable worker (for routes that are not model-specific). */
  anyUsable(exclude?: UpstreamWorker): UpstreamWorker[] {
    const now = this.now();
    const out = this.all.filter((w) => w !== exclude && w.usable(now));
    return out.length ? out : this.all.filter((w) => w !== exclude && w.healthy && !w.removed);
  }

  hasUsable(model: string, version: string): boolean {
    const now = this.now();
    for (const w of this.all) if (w.holds(model, version) && w.usable(now)) return true;
    return false;
  }

  /** Highest-numbered version of `model` that some usable worker holds (the default without a split). */
  latestUsable(model: string): string | undefined {
    const vs = this.union.get(model);
    if (!vs) return undefined;
    let best: string | undefined;
    for (const v of vs) {
      if ((best === undefined || Number(v) > Number(best)) && this.hasUsable(model, v)) best = v;
    }
    return best;
  }

  async close(): Promise<void> {
    const ws = this.all;
    this.byId.clear();
    this.all = [];
    await Promise.all(ws.map((w) => w.close()));
  }
}
