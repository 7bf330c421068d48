// The request side of a worker's repository: which loaded version serves a request (the one asked
// for, or the latest READY one) and the READY versions per model. A model or version that cannot
// serve is a 404 when it does not exist and a 503 naming why when it exists but is not READY
// (docs/api.md, Errors).
import {
  ModelNotFoundError,
  UnavailableError,
  VersionNotFoundError,
} from '../../shared/errors/grove-error.js';
import { failedReason } from './failed-models.js';
import type { LoadedVersion } from './loaded-version.js';
import type { ModelEntry } from './model-entry.js';

/** The version a request gets: `version`, or the latest READY one. Hot path. */
export function resolveVersion(
  models: ReadonlyMap<string, ModelEntry>,
  name: string,
  version: string | undefined,
): LoadedVersion {
  const entry = models.get(name);
  if (entry === undefined) throw new ModelNotFoundError(name);
  if (version === undefined) {
    if (entry.latest !== null) return entry.latest;
    const why = failedReason(entry);
    throw new UnavailableError(
      `model '${name}' has no READY version${why === null ? '' : ` (${why})`}`,
      'GROVE_ERR_MODEL_UNAVAILABLE',
    );
  }
  const slot = entry.slots.get(version);
  if (slot === undefined || slot.state === 'UNLOADING') throw new VersionNotFoundError(name, version);
  if (slot.serving !== null) return slot.serving;
  throw new UnavailableError(
    `model '${name}' version ${version} is ${slot.state}${slot.reason ? `: ${slot.reason}` : ''}`,
    'GROVE_ERR_VERSION_UNAVAILABLE',
  );
}

/** READY versions per model, ascending; models with none are left out. */
export function readyVersions(models: ReadonlyMap<string, ModelEntry>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, entry] of models) {
    const vs = entry.readyVersions();
    if (vs.length > 0) out[name] = vs;
  }
  return out;
}
