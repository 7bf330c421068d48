// The live model repository of one worker (DESIGN.md, Model repository). It scans the folder,
// loads every version the policy keeps live on the pool (off the event loop), probes it, and swaps
// it in atomically; a failed load leaves whatever was serving in place and reports the reason; a
// removed version stops taking new requests, drains, then unloads. fs.watch (recursive) triggers a
// debounced rescan, and a periodic rescan catches what watchers miss. A file still being written
// is not loaded until its mtime has settled, and a file that changed during its load is reloaded.
import { createHash } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import {
  ModelFormatError,
  ModelNotFoundError,
  UnavailableError,
  VersionNotFoundError,
} from '../../shared/errors/grove-error.js';
import { modelFromBuffer } from '../../shared/runtime/load.js';
import type { Model } from '../../shared/runtime/model.js';
import type { PredictPool } from '../pool/predict-pool.js';
import { LoadedVersion, VersionSlot } from './loaded-version.js';
import { DEFAULT_CONFIG, type ModelConfig, parseModelConfig } from './model-config.js';
import { type ScannedModel, type ScannedVersion, scanRepository } from './scan-repository.js';
import { scanSingleModel } from './scan-single-model.js';
import { liveByPolicy } from './version-policy.js';

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
  events?: Partial<RepositoryEvents>;
  /** Single-model mode: `root` holds one model file, served as this name, version 1 (scan-single-model.ts). */
  singleModel?: string;
}

export class ModelEntry {
  config: ModelConfig = DEFAULT_CONFIG;
  configError: string | null = null;
  /** Identifies the config.json text in use (part of each version's load fingerprint). */
  configKey = '';
  readonly slots = new Map<string, VersionSlot>();
  /** Highest READY version: what requests without a version get. */
  latest: LoadedVersion | null = null;
  constructor(
    readonly name: string,
    public dir: string,
  ) {}

  recomputeLatest(): void {
    let best: LoadedVersion | null = null;
    for (const s of this.slots.values()) {
      if (
        s.serving !== null &&
        s.state !== 'UNLOADING' &&
        (best === null || Number(s.version) > Number(best.version))
      ) {
        best = s.serving;
      }
    }
    this.latest = best;
  }
}

let loadSeq = 0;

export class ModelRepository {
  readonly models = new Map<string, ModelEntry>();
  private readonly opts: Required<Omit<ModelRepositoryOptions, 'events' | 'singleModel'>> & {
    events: Partial<RepositoryEvents>;
    singleModel?: string;
  };
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private scanning: Promise<void> | null = null;
  private scanAgain = false;
  private closed = false;
  private readonly loads = new Set<Promise<void>>();
  private readonly changeListeners: Array<() => void> = [];
  private started = false;
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
      events: {},
      ...opts,
    } as typeof this.opts;
  }

  async start(): Promise<void> {
    await this.rescan();
    // Initial loads are awaited so `ready` means every loadable version is READY (or FAILED).
    while (this.loads.size > 0) await Promise.allSettled([...this.loads]);
    this.started = true;
    try {
      this.watcher = watch(this.opts.root, { recursive: true }, () => this.scheduleRescan());
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
          const single = this.opts.singleModel;
          this.apply(
            await (single === undefined
              ? scanRepository(this.opts.root)
              : scanSingleModel(this.opts.root, single)),
          );
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
      this.applyConfig(entry, sm.configText);
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

  /** The versions of a scanned model that should serve: its policy's, none while held. */
  liveVersionsOf(entry: ModelEntry, sm: ScannedModel): Set<string> {
    if (this.held.has(sm.name)) return new Set();
    const present = sm.versions.filter((v) => v.file !== null || v.problem !== null);
    return new Set(
      liveByPolicy(
        entry.config.policy,
        present.map((v) => v.version),
      ).map(String),
    );
  }

  /** Resolves once no load is running (loads started meanwhile included). */
  async idle(): Promise<void> {
    while (this.loads.size > 0) await Promise.allSettled([...this.loads]);
  }

  /** Stops serving every version of a model (each drains first); see `held`. */
  unloadAll(entry: ModelEntry): void {
    for (const slot of entry.slots.values()) this.unload(entry, slot);
  }

  private applyConfig(entry: ModelEntry, text: string | null): void {
    try {
      const cfg = parseModelConfig(text);
      entry.config = cfg;
      entry.configKey = text === null ? '' : '|' + createHash('sha1').update(text).digest('hex');
      if (entry.configError !== null)
        this.opts.logger.info({ event: 'config_fixed', model: entry.name }, 'config.json fixed');
      entry.configError = null;
    } catch (err) {
      const reason = (err as Error).message;
      if (entry.configError !== reason) {
        this.opts.logger.error(
          { event: 'config_failed', model: entry.name, reason },
          'config.json rejected; keeping the previous one',
        );
      }
      entry.configError = reason;
    }
  }

  private applyVersion(entry: ModelEntry, v: ScannedVersion): void {
    const key = String(v.version);
    let slot = entry.slots.get(key);
    if (!slot) entry.slots.set(key, (slot = new VersionSlot(entry.name, key, v.dir)));
    if (v.problem !== null) {
      if (slot.triedFingerprint !== 'problem:' + v.problem) {
        slot.triedFingerprint = 'problem:' + v.problem;
        this.fail(slot, v.problem);
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
    let model: Model | null = null;
    try {
      const { buffer, sha256 } = await this.opts.pool.load(v.file!, v.fileName!);
      // A file rewritten while we read it is reloaded, never served half-way.
      const now = await stat(v.file!).catch(() => null);
      if (now === null || `${now.size}:${now.mtimeMs}:${now.ino}` !== v.fingerprint) {
        slot.triedFingerprint = '';
        this.scheduleRescan(this.opts.settleMs);
        return;
      }
      model = modelFromBuffer(buffer);
      const featureNames = this.featureNames(entry, model);
      probe(model);
      const loaded = new LoadedVersion({
        name: entry.name,
        version: slot.version,
        dir: v.dir,
        file: v.file!,
        sha256,
        fingerprint: v.fingerprint,
        model,
        config: entry.config.raw,
        featureNames,
        key: `${entry.name}/${slot.version}/${++loadSeq}`,
      });
      if (this.closed || !entry.slots.has(slot.version) || slot.state === 'UNLOADING') return;
      this.opts.pool.register(loaded.key, buffer, featureNames);
      const replaced = slot.serving;
      slot.serving = loaded; // the atomic swap: the next request sees the new version
      slot.state = 'READY';
      slot.reason = null;
      entry.recomputeLatest();
      const ms = Math.round(performance.now() - t0);
      const m = model.meta;
      this.opts.logger.info(
        {
          event: replaced ? 'model_swapped' : 'model_loaded',
          model: entry.name,
          version: slot.version,
          sha256,
          previousSha256: replaced?.sha256,
          platform: m.platform,
          features: m.numFeatures,
          outputs: m.outputNames.length,
          ms,
        },
        replaced ? 'model version swapped' : 'model version loaded',
      );
      this.opts.events.loaded?.(loaded, replaced);
      this.changed();
      if (replaced) void this.retire(replaced);
    } catch (err) {
      this.fail(slot, (err as Error).message);
    } finally {
      slot.loading = false;
      if (slot.reloadWanted) {
        slot.reloadWanted = false;
        this.scheduleRescan(0);
      }
    }
  }

  private featureNames(entry: ModelEntry, model: Model): string[] {
    const f = entry.config.features;
    if (f === null || model.meta.sparse) return model.meta.featureNames;
    if (f.length !== model.meta.numFeatures) {
      throw new ModelFormatError(
        `config.json "features" names ${f.length} features; the model takes ${model.meta.numFeatures}`,
        'GROVE_ERR_BAD_CONFIG',
      );
    }
    return f;
  }

  private fail(slot: VersionSlot, reason: string): void {
    if (slot.serving !== null) {
      slot.reason = `reload failed, still serving sha256 ${slot.serving.sha256.slice(0, 12)}: ${reason}`;
    } else {
      slot.state = 'FAILED';
      slot.reason = reason;
    }
    this.opts.logger.error(
      {
        event: 'model_load_failed',
        model: slot.name,
        version: slot.version,
        reason,
        stillServing: slot.serving !== null,
      },
      'model version failed to load',
    );
    this.opts.events.failed?.(slot.name, slot.version, reason);
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
    const entry = this.models.get(name);
    if (entry === undefined) throw new ModelNotFoundError(name);
    if (version === undefined) {
      if (entry.latest !== null) return entry.latest;
      throw new UnavailableError(`model '${name}' has no READY version`, 'GROVE_ERR_MODEL_UNAVAILABLE');
    }
    const slot = entry.slots.get(version);
    if (slot === undefined || slot.state === 'UNLOADING') throw new VersionNotFoundError(name, version);
    if (slot.serving !== null) return slot.serving;
    throw new UnavailableError(
      `model '${name}' version ${version} is ${slot.state}${slot.reason ? `: ${slot.reason}` : ''}`,
      'GROVE_ERR_VERSION_UNAVAILABLE',
    );
  }

  /** READY versions per model, ascending. */
  liveVersions(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [name, entry] of this.models) {
      const vs: string[] = [];
      for (const s of entry.slots.values())
        if (s.serving !== null && s.state !== 'UNLOADING') vs.push(s.version);
      if (vs.length > 0) out[name] = vs.sort((a, b) => Number(a) - Number(b));
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
    await Promise.allSettled([...this.loads]);
  }
}

/** The probe DESIGN.md asks for: a row of zeros predicts finite numbers. */
function probe(model: Model): void {
  const m = model.meta;
  const out = new Float64Array(m.outputNames.length);
  if (m.sparse) model.predictNamed([{}], out);
  else model.predictOne(new Float64Array(m.numFeatures), out);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i]!)) {
      throw new ModelFormatError(
        `probe row predicted a non-finite value (${out[i]}) for output ${m.outputNames[i]}`,
        'GROVE_ERR_PROBE',
      );
    }
  }
}
