// Explicit model control (Triton's model repository extension, extension_model_repository.md) on
// top of the polling repository: load a model now and answer once each of its versions is READY
// or FAILED, or unload it and answer once its versions have drained. Both go through the
// repository's ordinary scan, load, probe and swap; nothing here loads a file itself.
import { ModelNotFoundError, TimeoutError } from '../../shared/errors/grove-error.js';
import type { ModelEntry, ModelRepository } from './model-repository.js';
import { type ScannedModel, scanRepository } from './scan-repository.js';

/** Whether every live version of a scanned model has been tried with the files it has now. */
function settled(repo: ModelRepository, entry: ModelEntry, sm: ScannedModel): boolean {
  const live = repo.liveVersionsOf(entry, sm);
  for (const v of sm.versions) {
    const key = String(v.version);
    if (!live.has(key) || (v.file === null && v.problem === null)) continue;
    const slot = entry.slots.get(key);
    if (slot === undefined || slot.loading) return false;
    const want = v.problem !== null ? 'problem:' + v.problem : v.fingerprint + entry.configKey;
    if (slot.triedFingerprint !== want) return false;
  }
  return true;
}

/** Loads (or reloads) a model now; resolves with its entry once every version it keeps was tried. */
export async function loadModel(
  repo: ModelRepository,
  root: string,
  name: string,
  timeoutMs: number,
  settleMs: number,
): Promise<ModelEntry> {
  repo.held.delete(name);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await repo.rescan();
    await repo.idle();
    const sm = (await scanRepository(root)).find((m) => m.name === name);
    const entry = repo.models.get(name);
    if (sm === undefined || entry === undefined) throw new ModelNotFoundError(name);
    if (settled(repo, entry, sm)) return entry;
    if (Date.now() > deadline) {
      throw new TimeoutError(`model '${name}' did not finish loading in ${timeoutMs} ms`);
    }
    // A file younger than the settle time waits for a later scan (it may still be being written).
    await new Promise((r) => setTimeout(r, Math.min(100, settleMs + 20)));
  }
}

/** Takes a model out of service (its files stay) and resolves once its versions have drained. */
export async function unloadModel(repo: ModelRepository, name: string, timeoutMs: number): Promise<void> {
  const entry = repo.models.get(name);
  if (entry === undefined) throw new ModelNotFoundError(name);
  repo.held.add(name);
  const serving = [...entry.slots.values()].flatMap((s) => (s.serving === null ? [] : [s.serving]));
  repo.unloadAll(entry);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.all(serving.map((v) => v.drained())),
      new Promise((_, reject) => {
        timer = setTimeout(
          () =>
            reject(new TimeoutError(`model '${name}' still had requests in flight after ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
