// Consul discovery (docs/architecture.md, Routing 4; docs/multi-host.md): watches the passing `grove-worker` instances with
// blocking queries (GET /v1/health/service/grove-worker?passing=true&index=N&wait=30s; the answer's
// X-Consul-Index is the next N) and reads each one's live versions from its meta. Split weights
// live in Consul KV under grove/splits/<model>, watched the same way, so every gateway agrees.
// When Consul is unreachable nothing is dropped: the last known workers and weights stay in force
// and the watch retries with exponential backoff.
// API shapes: developer.hashicorp.com/consul/api-docs/health#list-service-instances-for-service,
// /api-docs/kv, /api-docs/features/blocking (reset the index if it goes backwards).
import { consulRequest } from '../../shared/consul/consul-http.js';
import { decodeVersionsMeta, WORKER_SERVICE } from '../../shared/consul/worker-registration.js';
import type { SplitConfig } from '../split/split-config.js';
import type { SplitBackend } from '../split/split-registry.js';
import type { WorkerSet } from '../upstream/worker-set.js';

const WAIT = '30s';

interface HealthEntry {
  Node?: { Address?: string };
  Service?: { ID?: string; Address?: string; Port?: number; Meta?: Record<string, string> | null };
}

/** A blocking-query loop over one Consul path, calling `onData` with each new body. */
export class BlockingWatch {
  private index = 0;
  private stopped = false;
  private abort: AbortController | null = null;
  failures = 0;

  constructor(
    private readonly consul: string,
    private readonly path: string,
    private readonly onData: (status: number, body: string) => void,
    private readonly opts: { waitMs?: number; log?: (m: string) => void; maxBackoffMs?: number } = {},
  ) {}

  start(): void {
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const sep = this.path.includes('?') ? '&' : '?';
      const wait = this.opts.waitMs ? `${Math.ceil(this.opts.waitMs / 1000)}s` : WAIT;
      this.abort = new AbortController();
      try {
        const a = await consulRequest(
          this.consul,
          'GET',
          `${this.path}${sep}index=${this.index}&wait=${wait}`,
          undefined,
          {
            timeoutMs: (this.opts.waitMs ?? 30_000) + 15_000,
            signal: this.abort.signal,
          },
        );
        if (this.stopped) return;
        if (this.failures > 0) this.opts.log?.(`consul ${this.path}: reachable again`);
        this.failures = 0;
        // Consul's rules: an index that goes backwards means start over (index 0: answer at once);
        // an index below 1 is taken as 1, so a misbehaving answer cannot turn this into a busy loop.
        const idx = a.index < 1 ? 1 : a.index;
        const changed = idx !== this.index;
        this.index = idx < this.index ? 0 : idx;
        if (changed) this.onData(a.status, a.body);
      } catch (err) {
        if (this.stopped) return;
        this.failures++;
        const delay = Math.min(this.opts.maxBackoffMs ?? 10_000, 100 * 2 ** Math.min(this.failures - 1, 10));
        if (this.failures === 1)
          this.opts.log?.(
            `consul ${this.path}: ${(err as Error).message}; keeping the last known state, retrying`,
          );
        await new Promise((r) => setTimeout(r, delay).unref());
      }
    }
  }
}

export class ConsulDiscovery {
  private readonly watch: BlockingWatch;
  constructor(
    consul: string,
    private readonly workers: WorkerSet,
    opts: { waitMs?: number; log?: (m: string) => void } = {},
  ) {
    this.watch = new BlockingWatch(
      consul,
      `/v1/health/service/${WORKER_SERVICE}?passing=true`,
      (status, body) => this.apply(status, body),
      opts,
    );
  }

  start(): void {
    this.watch.start();
  }

  stop(): void {
    this.watch.stop();
  }

  private apply(status: number, body: string): void {
    if (status !== 200) return;
    let entries: HealthEntry[];
    try {
      entries = JSON.parse(body) as HealthEntry[];
    } catch {
      return;
    }
    if (!Array.isArray(entries)) return;
    const seen = new Set<string>();
    for (const e of entries) {
      const s = e?.Service;
      if (!s?.ID || !s.Port) continue;
      const addr = s.Address || e.Node?.Address;
      if (!addr) continue;
      const id = `consul-${s.ID}`;
      seen.add(id);
      this.workers.add(id, `http://${addr.includes(':') ? `[${addr}]` : addr}:${s.Port}`);
      this.workers.setVersions(id, decodeVersionsMeta(s.Meta ?? {}));
    }
    for (const w of this.workers.all)
      if (w.id.startsWith('consul-') && !seen.has(w.id)) this.workers.remove(w.id);
  }
}

const KV_PREFIX = 'grove/splits/';

/** Split weights in Consul KV: grove/splits/<model> = the split JSON. */
export class ConsulSplitBackend implements SplitBackend {
  private kvWatch: BlockingWatch | null = null;
  constructor(
    private readonly consul: string,
    private readonly opts: { waitMs?: number; log?: (m: string) => void } = {},
  ) {}

  async load(): Promise<Record<string, SplitConfig>> {
    try {
      const a = await consulRequest(this.consul, 'GET', `/v1/kv/${KV_PREFIX}?recurse=true`, undefined, {
        timeoutMs: 5000,
      });
      return parseKv(a.status, a.body) ?? {};
    } catch {
      return {}; // the watch fills splits in once Consul answers
    }
  }

  async save(model: string, config: SplitConfig | null): Promise<void> {
    const key = `/v1/kv/${KV_PREFIX}${encodeURIComponent(model)}`;
    if (config)
      await consulRequest(
        this.consul,
        'PUT',
        key,
        JSON.stringify({ ...config, weights: { ...config.weights } }),
      );
    else await consulRequest(this.consul, 'DELETE', key);
  }

  watch(onChange: (all: Record<string, SplitConfig>) => void): void {
    this.kvWatch = new BlockingWatch(
      this.consul,
      `/v1/kv/${KV_PREFIX}?recurse=true`,
      (status, body) => {
        const all = parseKv(status, body);
        if (all) onChange(all);
      },
      this.opts,
    );
    this.kvWatch.start();
  }

  close(): void {
    this.kvWatch?.stop();
  }
}

function parseKv(status: number, body: string): Record<string, SplitConfig> | null {
  if (status === 404) return {};
  if (status !== 200) return null;
  let entries: { Key?: string; Value?: string | null }[];
  try {
    entries = JSON.parse(body);
  } catch {
    return null;
  }
  const out: Record<string, SplitConfig> = {};
  for (const e of Array.isArray(entries) ? entries : []) {
    if (!e?.Key?.startsWith(KV_PREFIX) || !e.Value) continue;
    try {
      out[decodeURIComponent(e.Key.slice(KV_PREFIX.length))] = JSON.parse(
        Buffer.from(e.Value, 'base64').toString('utf8'),
      );
    } catch {
      // not a split: ignored
    }
  }
  return out;
}
