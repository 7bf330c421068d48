// Which version of the model scores a row (docs/streaming.md, Versions): the pinned --version; else
// the split in the model's config.json (`"split": {"weights": {...}, "sticky": ...}`), decided by
// the gateway's own split logic (gateway/split: the same weights give the same shares, and the
// same sticky key the same version, as over HTTP); else the latest READY version. The split is
// re-read whenever the repository reloads config.json. Randomness is injected for exact tests.
import type { Logger } from 'pino';
import type { Rng } from '../gateway/policies/policy.js';
import { CompiledSplit, parseSplit } from '../gateway/split/split-config.js';
import type { LoadedVersion } from '../worker/repository/loaded-version.js';
import type { ModelRepository } from '../worker/repository/model-repository.js';

export interface VersionRouterOptions {
  repository: Pick<ModelRepository, 'resolve' | 'models'>;
  model: string;
  /** Pin every row to this version. */
  version?: string;
  /** Row field (or header) holding the sticky key; defaults to the split's own sticky name. */
  stickyField?: string;
  rng?: Rng;
  logger?: Logger;
}

export class VersionRouter {
  private compiled: CompiledSplit | null = null;
  private compiledFrom: unknown;
  private readonly rng: Rng;
  private readonly usable = (version: string): boolean => {
    const s = this.o.repository.models.get(this.o.model)?.slots.get(version);
    return s !== undefined && s.serving !== null && s.state !== 'UNLOADING';
  };

  constructor(private readonly o: VersionRouterOptions) {
    this.rng = o.rng ?? Math.random;
  }

  /** The row field (or message header) a sticky split hashes, if any. */
  stickyName(): string | undefined {
    if (this.o.stickyField !== undefined) return this.o.stickyField;
    return this.o.version === undefined ? this.split()?.sticky : undefined;
  }

  /** The version for a row; throws (unavailable, not found) when none can serve. */
  pick(stickyKey: string | undefined): LoadedVersion {
    const { repository, model, version } = this.o;
    if (version !== undefined) return repository.resolve(model, version);
    const split = this.split();
    if (split !== null) {
      const v = split.choose(stickyKey, this.rng, this.usable);
      if (v !== undefined) return repository.resolve(model, v);
    }
    return repository.resolve(model, undefined);
  }

  /** The model's split, compiled once per config.json the repository loaded. */
  private split(): CompiledSplit | null {
    const raw = this.o.repository.models.get(this.o.model)?.config.raw.split;
    if (raw === this.compiledFrom) return this.compiled;
    this.compiledFrom = raw;
    this.compiled = null;
    if (raw === undefined || raw === null) return null;
    try {
      this.compiled = new CompiledSplit(parseSplit(raw, null));
    } catch (err) {
      this.o.logger?.warn(
        { event: 'stream_split_ignored', model: this.o.model, err: (err as Error).message },
        'config.json split is invalid; rows go to the latest version',
      );
    }
    return this.compiled;
  }
}
