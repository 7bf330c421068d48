// The live split of every model, and where it is kept: a state file (local and static modes) or
// Consul KV (consul mode, so every gateway agrees). A split can also start from the model's
// config.json (`"split": {"weights": {...}, "sticky": "..."}`); a stored split wins over it.
import { EventEmitter } from 'node:events';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CompiledSplit, parseSplit, type SplitConfig } from './split-config.js';

export interface SplitBackend {
  load(): Promise<Record<string, SplitConfig>>;
  save(model: string, config: SplitConfig | null): Promise<void>;
  /** Calls back with the full set whenever another writer changes it (Consul). */
  watch?(onChange: (all: Record<string, SplitConfig>) => void): void;
  close?(): void;
}

export class SplitRegistry extends EventEmitter {
  private readonly splits = new Map<string, CompiledSplit>();
  private readonly seeds = new Map<string, CompiledSplit>();
  constructor(private readonly backend: SplitBackend | null) {
    super();
  }

  async start(): Promise<void> {
    if (!this.backend) return;
    this.replace(await this.backend.load());
    this.backend.watch?.((all) => this.replace(all));
  }

  get(model: string): CompiledSplit | undefined {
    return this.splits.get(model) ?? this.seeds.get(model);
  }

  all(): Record<string, SplitConfig> {
    const out: Record<string, SplitConfig> = {};
    for (const [m, s] of this.seeds) out[m] = s.config;
    for (const [m, s] of this.splits) out[m] = s.config;
    return out;
  }

  /** Sets (or with null clears) a model's split and persists it. */
  async set(model: string, config: SplitConfig | null): Promise<void> {
    if (this.backend) await this.backend.save(model, config);
    if (config) this.splits.set(model, new CompiledSplit(config));
    else this.splits.delete(model);
    this.emit('change', model);
  }

  /** Default splits from models/{m}/config.json; stored splits take precedence. */
  async seedFromRepository(modelsDir: string): Promise<void> {
    let names: string[];
    try {
      names = await readdir(modelsDir);
    } catch {
      return;
    }
    for (const name of names) {
      if (name.startsWith('.')) continue;
      try {
        const cfg = JSON.parse(await readFile(join(modelsDir, name, 'config.json'), 'utf8')) as {
          split?: unknown;
        };
        if (cfg && typeof cfg === 'object' && cfg.split)
          this.seeds.set(name, new CompiledSplit(parseSplit(cfg.split, null)));
      } catch {
        // no config.json, or no valid split in it: the model serves its latest version
      }
    }
  }

  private replace(all: Record<string, SplitConfig>): void {
    this.splits.clear();
    for (const [m, c] of Object.entries(all)) {
      try {
        this.splits.set(m, new CompiledSplit(parseSplit(c, null)));
      } catch {
        // a malformed stored split is ignored (the model serves its seed or latest version)
      }
    }
    this.emit('change', null);
  }
}

/** Splits in one JSON file, written atomically (temp file + rename). */
export class FileSplitBackend implements SplitBackend {
  private chain: Promise<void> = Promise.resolve();
  constructor(readonly file: string) {}

  async load(): Promise<Record<string, SplitConfig>> {
    try {
      const j = JSON.parse(await readFile(this.file, 'utf8')) as unknown;
      return j && typeof j === 'object' && !Array.isArray(j) ? (j as Record<string, SplitConfig>) : {};
    } catch {
      return {};
    }
  }

  save(model: string, config: SplitConfig | null): Promise<void> {
    this.chain = this.chain.then(async () => {
      const all = await this.load();
      const next: Record<string, SplitConfig> = {};
      for (const [m, c] of Object.entries(all)) if (m !== model) next[m] = c;
      if (config) next[model] = { ...config, weights: { ...config.weights } };
      await mkdir(dirname(this.file), { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(next, null, 2) + '\n');
      await rename(tmp, this.file);
    });
    return this.chain;
  }
}
