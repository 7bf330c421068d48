// The live model repository of one worker (docs/architecture.md, model repository). It scans the
// folder, loads every version the policy keeps live through the bounded, isolated loader
// (shared/runtime/isolation: a load host process, a thread with heap limits and a deadline, so a
// hostile file fails alone), probes it, and swaps it in atomically; a failed load leaves whatever
// was serving in place and reports the reason; a removed version stops taking new requests,
// drains, then unloads. fs.watch (recursive) triggers a debounced rescan, and a periodic rescan
// catches what watchers miss. A file still being written is not loaded until its mtime has
// settled, and a file that changed during its load is reloaded.
import { type FSWatcher, watch } from 'node:fs';
import type { Logger } from 'pino';
import { type LoadLimits, ModelLoader } from '../../shared/runtime/isolation/model-loader.js';
import type { PredictPool } from '../pool/predict-pool.js';
import { unavailableReasons } from './failed-models.js';
import { hiddenChange, layoutProblems } from './layout-problems.js';
import { type LoadedVersion, VersionSlot } from './loaded-version.js';
import { ModelEntry } from './model-entry.js';
import { type ScannedModel, type ScannedVersion, scanRepository } from './scan-repository.js';
import { scanSingleModel } from './scan-single-model.js';
import { type LoadFailure, loadFailure, loadScannedVersion, logLoaded } from './version-load.js';
import { readyVersions, resolveVersion } from './version-lookup.js';
import { liveVersionSet } from './version-policy.js';

export { ModelEntry } from './model-entry.js';

export interface RepositoryEvents {
  loaded(v: LoadedVersion, replaced: LoadedVersion | null): void;
  failed(name: string, version: string, reason: string): void;
  unloaded(v: LoadedVersion): void;
}

export interface ModelRepositoryOptions {
  root: string;
  pool: PredictPool;
  logger: Logger;
  rescanIntervalMs?: number;
  /** A model file must be this old (mtime) before it is loaded: it may still be being written. */
  settleMs?: number;
  /** Deadline and heap of each load (shared/runtime/isolation/model-loader.ts defaults). */
  loadLimits?: Partial<LoadLimits>;
  /** Follow symbolic links out of the repository's root (--follow-symlinks). */
  followSymlinks?: boolean;
  events?: Partial<RepositoryEvents>;
  /** Single-model mode: `root` holds one model file, served as this name, version 1 (scan-single-model.ts). */
  singleModel?: string;
}

let loadSeq = 0;

export class ModelRepository {
  readonly models = new Map<string, ModelEntry>();
  private readonly opts: Required<Omit<ModelRepositoryOptions, 'events' | 'loadLimits' | 'singleModel'>> & {
    events: Partial<RepositoryEvents>;
    singleModel?: string;
  };
  private readonly loader: ModelLoader;
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private scanning: Promise<void> | null = null;
  private scanAgain = false;
  private closed = false;
  private readonly loads = new Set<Promise<void>>();
  private readonly changeListeners: Array<() => void> = [];
  /** What in the folder's layout serves nothing (layout-problems.ts), as of the last scan. */
  problems: string[] = [];
  private started = false;
  /** When the youngest model file the scans deferred is old enough to load (ms since the epoch). */
  private settleUntil = 0;
  /**
   * Models unloaded through the repository API (worker/repository-api): kept out of service, though
   * their files stay, until a load. Held in memory, as Triton's explicit model control is: a
   * restarted worker serves what its repository holds.
   */
  readonly held = new Set<string>();

  constructor(opts: ModelRepositoryOptions) {
    this.opts = {
      rescanIntervalMs: 2000,
      settleMs: 300,
      followSymlinks: false,
      events: {},
      ...opts,
    } as typeof this.opts;
    this.loader = new ModelLoader(opts.loadLimits);
  }

  async start(): Promise<void> {
    this.loader.warm(); // the host starts while the folder is scanned
    await this.rescan();
    // Initial loads are awaited so `ready` means every loadable version is READY (or FAILED),
    // files too young to load at the first scan included (a few rounds: one still being written
    // loads later, through the scheduled rescan).
    for (let round = 0; ; round++) {
      await this.idle();
      const wait = this.settleUntil - Date.now();
      if (wait <= 0 || round === 10) break;
      await new Promise((r) => setTimeout(r, Math.min(wait, this.opts.settleMs + 20))); // mtime may be ahead
      await this.rescan();
    }
    this.started = true;
    try {
      const changed = (_: string, f: string | null) => hiddenChange(f) || this.scheduleRescan();
      this.watcher = watch(this.opts.root, { recursive: true }, changed);
      this.watcher.on('error', (err) =>
        this.opts.logger.warn(
          { event: 'watch_error', err: err.message },
          'watcher failed; periodic rescans continue',
        ),
      );
    } catch (err) {
      this.opts.logger.warn(
        { event: 'watch_unavailable', err: (err as Error).message },
        'fs.watch unavailable; relying on periodic rescans',
      );
    }
    this.timer = setInterval(() => void this.rescan(), this.opts.rescanIntervalMs);
    this.timer.unref();
  }

  /** First scan's loads done; in single-model mode also the model READY (else a pod would take traffic it fails). */
  get ready(): boolean {
    if (!this.started) return false;
    const single = this.opts.singleModel;
    return single === undefined || this.models.get(single)?.latest != null;
  }

  onChange(cb: () => void): void {
    this.changeListeners.push(cb);
  }

  private changed(): void {
    for (const cb of this.changeListeners) {
      try {
        cb();
      } catch (err) {
        this.opts.logger.error(
          { event: 'listener_error', err: (err as Error).message },
          'versions-change listener threw',
        );
      }
    }
  }

  private scheduleRescan(delay = 100): void {
    if (this.closed || this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = null;
      void this.rescan();
    }, delay);
    this.debounce.unref();
  }

  /** One scan at a time; a request during a scan runs one more afterwards. */
  rescan(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.scanning) {
      this.scanAgain = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      try {
        do {
          this.scanAgain = false;
          this.apply(await this.scan());
          // A single model's folder is not a repository: its layout has no version folders to miss.
          if (this.opts.singleModel === undefined) await this.updateProblems();
        } while (this.scanAgain && !this.closed);
      } catch (err) {
        this.opts.logger.error(
          { event: 'scan_failed', err: (err as Error).message },
          'repository scan failed',
        );
      } finally {
        this.scanning = null;
      }
    })();
    return this.scanning;
  }

  private apply(scanned: ScannedModel[]): void {
    const seen = new Set<string>();
    for (const sm of scanned) {
      seen.add(sm.name);
      let entry = this.models.get(sm.name);
      if (!entry) this.models.set(sm.name, (entry = new ModelEntry(sm.name, sm.dir)));
      entry.applyConfig(sm.configText, this.opts.logger, sm.configProblem);
      const live = this.liveVersionsOf(entry, sm);
      const byVersion = new Map(sm.versions.map((v) => [String(v.version), v]));
      for (const v of sm.versions) {
        if (v.file === null && v.problem === null) continue;
        if (live.has(String(v.version))) this.applyVersion(entry, v);
      }
      // Unload versions whose folder is gone or that the policy no longer keeps. A folder that is
      // momentarily empty (a file being replaced) keeps serving what it had.
      for (const [key, slot] of entry.slots) {
        const sv = byVersion.get(key);
        const keep =
          sv !== undefined &&
          (live.has(key) || (sv.file === null && sv.problem === null && slot.serving !== null));
        if (!keep) this.unload(entry, slot);
      }
    }
    for (const [name, entry] of this.models) {
      if (seen.has(name)) continue;
      for (const slot of entry.slots.values()) this.unload(entry, slot);
      if (entry.slots.size === 0) this.models.delete(name);
    }
  }

  /** One pass over the folder, with this repository's options (links). */
  scan(): Promise<ScannedModel[]> {
    const single = this.opts.singleModel;
    const scanOpts = { followSymlinks: this.opts.followSymlinks };
    return single === undefined
      ? scanRepository(this.opts.root, scanOpts)
      : scanSingleModel(this.opts.root, single, scanOpts);
  }

  /** Logs each layout problem once, when it appears; listeners hear of any change. */
  private async updateProblems(): Promise<void> {
    const next = await layoutProblems(this.opts.root);
    const before = new Set(this.problems);
    for (const p of next) {
      if (!before.has(p)) this.opts.logger.warn({ event: 'repository_problem', problem: p }, p);
    }
    const changed = next.length !== this.problems.length || next.some((p) => !before.has(p));
    this.problems = next;
    if (changed) this.changed();
  }

  /**
   * Models that have no READY version because their versions failed to load, with the reasons:
   * requests for them answer 503 with why (the gateway learns these from its workers).
   */
  unavailableReasons(): Record<string, string> {
    return unavailableReasons(this.models, this.held);
  }

  /** The versions of a scanned model that should serve: its policy's, none while held. */
  liveVersionsOf(entry: ModelEntry, sm: ScannedModel): Set<string> {
    if (this.held.has(sm.name)) return new Set();
    return liveVersionSet(entry.config.policy, sm.versions);
  }

  /** Resolves once no load is running (loads started meanwhile included). */
  async idle(): Promise<void> {
    while (this.loads.size > 0) await Promise.allSettled([...this.loads]);
  }

  /** Stops serving every version of a model (each drains first); see `held`. */
  unloadAll(entry: ModelEntry): void {
    for (const slot of entry.slots.values()) this.unload(entry, slot);
  }

  private applyVersion(entry: ModelEntry, v: ScannedVersion): void {
    const key = String(v.version);
    let slot = entry.slots.get(key);
    if (!slot) entry.slots.set(key, (slot = new VersionSlot(entry.name, key, v.dir)));
    if (v.problem !== null) {
      if (slot.triedFingerprint !== 'problem:' + v.problem) {
        slot.triedFingerprint = 'problem:' + v.problem;
        this.fail(slot, { reason: v.problem, detail: v.problem, code: 'GROVE_ERR_MODEL_FORMAT' });
      }
      return;
    }
    // The model file and config.json together: a config change (feature names) reloads too.
    if (v.fingerprint + entry.configKey === slot.triedFingerprint) return;
    if (slot.loading) {
      slot.reloadWanted = true;
      return;
    }
    const age = Date.now() - v.mtimeMs;
    if (age < this.opts.settleMs) {
      this.settleUntil = Math.max(this.settleUntil, v.mtimeMs + this.opts.settleMs + 20);
      this.scheduleRescan(this.opts.settleMs - age + 20);
      return;
    }
    const p = this.load(entry, slot, v).finally(() => this.loads.delete(p));
    this.loads.add(p);
  }

  private async load(entry: ModelEntry, slot: VersionSlot, v: ScannedVersion): Promise<void> {
    slot.loading = true;
    slot.triedFingerprint = v.fingerprint + entry.configKey;
    if (slot.serving === null) slot.state = 'LOADING';
    const t0 = performance.now();
    // A load may take up to its deadline: say when one starts (it reaches a load host at once).
    this.opts.logger.info(
      { event: 'model_load_started', model: entry.name, version: slot.version, file: v.fileName },
      'model version loading',
    );
    try {
      const key = `${entry.name}/${slot.version}/${++loadSeq}`;
      const got = await loadScannedVersion(this.loader, entry, slot.version, v, key);
      if (got === null) {
        slot.triedFingerprint = '';
        this.scheduleRescan(this.opts.settleMs);
        return;
      }
      const { loaded, buffer } = got;
      if (this.closed || !entry.slots.has(slot.version) || slot.state === 'UNLOADING') return;
      this.opts.pool.register(loaded.key, buffer, loaded.featureNames);
      const replaced = slot.serving;
      slot.serving = loaded; // the atomic swap: the next request sees the new version
      slot.state = 'READY';
      slot.reason = null;
      entry.recomputeLatest();
      logLoaded(this.opts.logger, loaded, replaced, performance.now() - t0);
      this.opts.events.loaded?.(loaded, replaced);
      this.changed();
      if (replaced) void this.retire(replaced);
    } catch (err) {
      if (!this.closed) this.fail(slot, loadFailure(err, v.fileName));
    } finally {
      slot.loading = false;
      if (slot.reloadWanted) {
        slot.reloadWanted = false;
        this.scheduleRescan(0);
      }
    }
  }

  /** Records a failed load: the public reason on the slot (no file text), the whole one in the log. */
  private fail(slot: VersionSlot, f: LoadFailure): void {
    const reason = f.reason;
    if (slot.serving !== null) {
      slot.reason = `reload failed, still serving sha256 ${slot.serving.sha256.slice(0, 12)}: ${reason}`;
    } else {
      slot.state = 'FAILED';
      slot.reason = reason;
    }
    const first = slot.serving === null;
    this.opts.logger.error(
      {
        event: 'model_load_failed',
        model: slot.name,
        version: slot.version,
        reason,
        detail: f.detail,
        code: f.code,
        stillServing: slot.serving !== null,
      },
      'model version failed to load',
    );
    this.opts.events.failed?.(slot.name, slot.version, reason);
    // A model with nothing serving: its listeners (the gateway, over IPC) learn the reason.
    if (first) this.changed();
  }

  private unload(entry: ModelEntry, slot: VersionSlot): void {
    if (slot.state === 'UNLOADING') return;
    slot.state = 'UNLOADING';
    const serving = slot.serving;
    entry.recomputeLatest();
    this.changed();
    const done = () => {
      if (entry.slots.get(slot.version) === slot) entry.slots.delete(slot.version);
    };
    if (serving === null) {
      done();
      return;
    }
    void serving.drained().then(() => {
      this.opts.pool.unregister(serving.key);
      done();
      this.opts.logger.info(
        { event: 'model_unloaded', model: entry.name, version: slot.version, sha256: serving.sha256 },
        'model version unloaded',
      );
      this.opts.events.unloaded?.(serving);
    });
  }

  /** A replaced load finishes its in-flight requests, then leaves the pool. */
  private async retire(old: LoadedVersion): Promise<void> {
    await old.drained();
    this.opts.pool.unregister(old.key);
  }

  /** The version a request gets: the given one, or the latest READY one. Hot path. */
  resolve(name: string, version: string | undefined): LoadedVersion {
    return resolveVersion(this.models, name, version);
  }

  /** READY versions per model, ascending. */
  liveVersions(): Record<string, string[]> {
    return readyVersions(this.models);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
    // Loads in flight end now (their hosts are stopped), not at their deadline.
    await this.loader.close();
    await Promise.allSettled([...this.loads]);
  }
}
