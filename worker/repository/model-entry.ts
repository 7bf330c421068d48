// One model of the repository as the worker holds it: its config.json (parsed, and the reason
// of a rejected one), its version slots, and the latest READY version (what requests without a
// version get).
import type { LoadedVersion, VersionSlot } from './loaded-version.js';
import { DEFAULT_CONFIG, type ModelConfig } from './model-config.js';

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
