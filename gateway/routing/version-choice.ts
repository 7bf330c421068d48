// Which version of a model serves a request: the one in the URL; else the model's split (sticky
// header -> bucket -> version; no key -> weighted draw among versions some usable worker holds);
// else the highest version a usable worker holds. A model no worker lists is 404 only when the
// gateway knows everything its workers serve; while a worker is starting or the model is loading
// it is 503 with Retry-After, so a client retries rather than concludes the model does not exist.
import {
  type GroveError,
  ModelNotFoundError,
  RetryLaterError,
  VersionNotFoundError,
} from '../../shared/errors/grove-error.js';
import type { Rng } from '../policies/policy.js';
import type { SplitRegistry } from '../split/split-registry.js';
import type { WorkerSet } from '../upstream/worker-set.js';

/** Reads one request header (an HTTP header, or gRPC metadata for a non-HTTP caller). */
export type HeaderReader = (name: string) => string | undefined;

export class VersionChooser {
  constructor(
    private readonly workers: WorkerSet,
    private readonly splits: SplitRegistry,
    private readonly rng: Rng,
  ) {}

  /** The error for a model no usable worker lists. */
  unknownModel(model: string): GroveError {
    if (this.workers.anyUsable().length === 0)
      return new RetryLaterError(`no worker is ready yet to serve model '${model}'; retry shortly`);
    if (this.workers.loadingModel(model))
      return new RetryLaterError(
        `model '${model}' is not loaded on any worker yet; retry shortly`,
        'GROVE_ERR_MODEL_UNAVAILABLE',
      );
    if (this.workers.learning())
      return new RetryLaterError(`the gateway is still learning what its workers serve; retry shortly`);
    return new ModelNotFoundError(model);
  }

  /** Checks a model (and version, if given) some worker holds: null, or the error to answer. */
  check(model: string, version: string | undefined): GroveError | null {
    const known = this.workers.versionsOf(model);
    if (!known) return this.unknownModel(model);
    if (version !== undefined && !known.has(version)) return new VersionNotFoundError(model, version);
    return null;
  }

  /** The version a request is served by, or an error. */
  choose(model: string, version: string | undefined, header: HeaderReader): string | GroveError {
    const known = this.workers.versionsOf(model);
    if (!known) return this.unknownModel(model);
    if (version !== undefined) return known.has(version) ? version : new VersionNotFoundError(model, version);
    const split = this.splits.get(model);
    if (split) {
      const key = split.sticky ? header(split.sticky) : undefined;
      const v = split.choose(key, this.rng, (x) => this.workers.hasUsable(model, x));
      if (v !== undefined) return v;
    }
    return (
      this.workers.latestUsable(model) ?? new RetryLaterError(`no healthy worker can serve model '${model}'`)
    );
  }
}
