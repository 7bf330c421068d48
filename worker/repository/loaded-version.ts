// One model version as the worker holds it: `LoadedVersion` is an immutable, probed, servable model
// (swapped in atomically by replacing the slot's reference); `VersionSlot` is the version's place
// in the repository with its state (LOADING, READY, FAILED, UNLOADING) and the reason of a failure.
// In-flight counting lets a replaced or removed version drain before its pool registration goes.
import type { Model } from '../../shared/runtime/model.js';

export type VersionState = 'LOADING' | 'READY' | 'FAILED' | 'UNLOADING';

export interface LoadedVersionInit {
  name: string;
  version: string;
  dir: string;
  file: string;
  sha256: string;
  fingerprint: string;
  model: Model;
  config: Record<string, unknown>;
  featureNames: string[];
  key: string;
}

export class LoadedVersion {
  readonly name: string;
  readonly version: string;
  readonly dir: string;
  readonly file: string;
  readonly sha256: string;
  readonly fingerprint: string;
  readonly model: Model;
  /** The model's parsed config.json ({} when absent). */
  readonly config: Record<string, unknown>;
  /** config.json `features` when given, else the model's own names. */
  readonly featureNames: string[];
  readonly featureIndex: Map<string, number>;
  readonly numFeatures: number;
  readonly numOutputs: number;
  readonly numRawOutputs: number;
  readonly sparse: boolean;
  /** Key of this exact load in the predict pool's registry. */
  readonly key: string;
  readonly loadedAt: number;
  /** `"model_name":..,"model_version":..` ready to splice into response bodies. */
  readonly jsonHead: string;
  /** Requests holding this version across an await (pool tasks, streamed batches). */
  inflight = 0;
  private drainWaiters: Array<() => void> = [];
  /** Cached prom-client children, keyed by route and status (see metrics/worker-metrics.ts). */
  readonly metricCache = new Map<string, unknown>();

  constructor(init: LoadedVersionInit) {
    this.name = init.name;
    this.version = init.version;
    this.dir = init.dir;
    this.file = init.file;
    this.sha256 = init.sha256;
    this.fingerprint = init.fingerprint;
    this.model = init.model;
    this.config = init.config;
    this.featureNames = init.featureNames;
    this.featureIndex = new Map(init.featureNames.map((n, i) => [n, i]));
    this.numFeatures = init.model.meta.numFeatures;
    this.numOutputs = init.model.meta.outputNames.length;
    this.numRawOutputs = init.model.meta.rawOutputNames.length;
    this.sparse = init.model.meta.sparse;
    this.key = init.key;
    this.loadedAt = Date.now();
    this.jsonHead = `"model_name":${JSON.stringify(init.name)},"model_version":${JSON.stringify(init.version)}`;
  }

  acquire(): void {
    this.inflight++;
  }

  release(): void {
    if (--this.inflight === 0 && this.drainWaiters.length > 0) {
      const w = this.drainWaiters;
      this.drainWaiters = [];
      for (const f of w) f();
    }
  }

  /** Resolves once no request holds this version. */
  drained(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }
}

export class VersionSlot {
  state: VersionState = 'LOADING';
  reason: string | null = null;
  /** What requests get; replaced atomically by a successful (re)load. */
  serving: LoadedVersion | null = null;
  /** Fingerprint of the last file we tried (loaded or failed), so we do not retry an unchanged file. */
  triedFingerprint = '';
  loading = false;
  reloadWanted = false;
  constructor(
    readonly name: string,
    readonly version: string,
    readonly dir: string,
  ) {}
}
