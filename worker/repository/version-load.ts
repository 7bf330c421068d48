// Loads one version's model file for the repository: through the bounded, isolated loader
// (shared/runtime/isolation: a load host process, a thread with heap limits and a deadline), then
// the checks that need the repository (the file did not change while it was read, config.json's
// feature names fit, a row of zeros predicts finite numbers). The reason a load failed is kept
// twice: whole for the log, and without any text quoted from the file for public routes.
import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { withoutFileText } from '../../shared/errors/file-text.js';
import { GroveError } from '../../shared/errors/grove-error.js';
import type { ModelLoader } from '../../shared/runtime/isolation/model-loader.js';
import { probe, servedFeatureNames } from './load-checks.js';
import { LoadedVersion } from './loaded-version.js';
import type { ModelEntry } from './model-entry.js';
import type { ScannedVersion } from './scan-repository.js';

/** A load failure: `reason` is safe to serve publicly, `detail` (the full message) is for logs. */
export interface LoadFailure {
  reason: string;
  detail: string;
  code: string;
}

export function loadFailure(err: unknown, fileName: string | null): LoadFailure {
  const e = err instanceof GroveError ? err : null;
  const detail = e ? e.message : `internal error: ${(err as Error)?.message ?? String(err)}`;
  const reason = e ? withoutFileText(e.message) : 'internal error (the worker log has the detail)';
  return {
    reason: fileName ? `${fileName}: ${reason}` : reason,
    detail,
    code: e?.code ?? 'GROVE_ERR_INTERNAL',
  };
}

/** The loaded, probed version, or null when the file changed while it was loaded (load it again). */
export async function loadScannedVersion(
  loader: ModelLoader,
  entry: ModelEntry,
  version: string,
  v: ScannedVersion,
  key: string,
): Promise<{ loaded: LoadedVersion; buffer: SharedArrayBuffer } | null> {
  // v.file is the resolved path (scan-repository.ts): a link put in its place since is not followed.
  const loaded = await loader.load(v.file!, { fileName: v.fileName! });
  // A file rewritten while we read it is reloaded, never served half-way.
  const now = await stat(v.file!).catch(() => null);
  if (now === null || `${now.size}:${now.mtimeMs}:${now.ino}` !== v.fingerprint) return null;
  const featureNames = servedFeatureNames(entry.config, loaded.model);
  probe(loaded.model);
  const lv = new LoadedVersion({
    name: entry.name,
    version,
    dir: v.dir,
    file: v.file!,
    sha256: loaded.sha256,
    fingerprint: v.fingerprint,
    model: loaded.model,
    config: entry.config.raw,
    featureNames,
    key,
  });
  return { loaded: lv, buffer: loaded.buffer };
}

export function logLoaded(
  logger: Logger,
  v: LoadedVersion,
  replaced: LoadedVersion | null,
  ms: number,
): void {
  const m = v.model.meta;
  logger.info(
    {
      event: replaced ? 'model_swapped' : 'model_loaded',
      model: v.name,
      version: v.version,
      sha256: v.sha256,
      previousSha256: replaced?.sha256,
      platform: m.platform,
      features: m.numFeatures,
      outputs: m.outputNames.length,
      ms: Math.round(ms),
    },
    replaced ? 'model version swapped' : 'model version loaded',
  );
}
