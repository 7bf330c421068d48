// One model's place in a worker's repository: its config.json (parsed, or the error that kept it
// from being used), its version slots, and the highest READY version, which requests without a
// version get (docs/api.md).
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { LoadedVersion, VersionSlot } from './loaded-version.js';
import { DEFAULT_CONFIG, type ModelConfig, parseModelConfig } from './model-config.js';

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

  /**
   * Takes config.json's text (null: none); a bad one, or one the scan could not read safely
   * (`problem`), keeps the previous config and is logged once.
   */
  applyConfig(text: string | null, logger: Logger, problem: string | null = null): void {
    try {
      if (problem !== null) throw new Error(problem);
      const cfg = parseModelConfig(text);
      this.config = cfg;
      this.configKey = text === null ? '' : '|' + createHash('sha1').update(text).digest('hex');
      if (this.configError !== null)
        logger.info({ event: 'config_fixed', model: this.name }, 'config.json fixed');
      this.configError = null;
    } catch (err) {
      const reason = (err as Error).message;
      if (this.configError !== reason) {
        logger.error(
          { event: 'config_failed', model: this.name, reason },
          'config.json rejected; keeping the previous one',
        );
      }
      this.configError = reason;
    }
  }

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

  /** The version slots in version order. */
  sortedSlots(): VersionSlot[] {
    return [...this.slots.values()].sort((a, b) => Number(a.version) - Number(b.version));
  }

  /** The versions that serve (READY, not unloading), ascending. */
  readyVersions(): string[] {
    return this.sortedSlots()
      .filter((s) => s.serving !== null && s.state !== 'UNLOADING')
      .map((s) => s.version);
  }
}
