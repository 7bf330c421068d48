// Consul discovery (docs/architecture.md, Routing 4; docs/multi-host.md): watches the passing
// `grove-worker` instances with a blocking query on /v1/health/service/grove-worker?passing and
// reads each one's live versions from its meta. Split weights live in Consul KV under
// grove/splits/<model>, watched the same way, so every gateway agrees. When Consul is unreachable
// nothing is dropped: the last known workers and weights stay in force while the watch retries
// (consul-watch.ts). API shapes: developer.hashicorp.com/consul/api-docs/health and /api-docs/kv.
import type { ConsulClient } from '../../shared/consul/consul-client.js';
import { consulError } from '../../shared/consul/consul-settings.js';
import {
  CONSUL_CALL_TIMEOUT_MS,
  decodeVersionsMeta,
  WORKER_SERVICE,
} from '../../shared/consul/worker-registration.js';
import type { SplitConfig } from '../split/split-config.js';
import type { SplitBackend } from '../split/split-registry.js';
import type { WorkerSet } from '../upstream/worker-set.js';
import { ConsulWatch, type ConsulWatchOptions } from './consul-watch.js';

interface HealthEntry {
  Node?: { Address?: string };
  Service?: { ID?: string; Address?: string; Port?: number; Meta?: Record<string, string> | null };
}

export class ConsulDiscovery {
  readonly watch: ConsulWatch<HealthEntry[]>;
  constructor(
    consul: ConsulClient,
    private readonly workers: WorkerSet,
    opts: ConsulWatchOptions = {},
  ) {
    this.watch = new ConsulWatch<HealthEntry[]>(
      consul,
      `health/service/${WORKER_SERVICE}`,
      (o) => consul.health.service(o as never),
      { service: WORKER_SERVICE, passing: true },
      (entries) => this.apply(entries),
      opts,
    );
  }

  start(): void {
    this.watch.start();
  }

  stop(): void {
    this.watch.stop();
  }

  private apply(entries: HealthEntry[] | undefined): void {
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

interface KvEntry {
  Key?: string;
  Value?: string | null;
}

/** Split weights in Consul KV: grove/splits/<model> = the split JSON. */
export class ConsulSplitBackend implements SplitBackend {
  kvWatch: ConsulWatch<KvEntry[] | KvEntry> | null = null;
  constructor(
    private readonly consul: ConsulClient,
    private readonly opts: ConsulWatchOptions = {},
  ) {}

  async load(): Promise<Record<string, SplitConfig>> {
    try {
      const entries = await this.consul.kv.get({ key: KV_PREFIX, recurse: true, timeout: 5000 } as never);
      return parseKv(entries as unknown as KvEntry[] | undefined);
    } catch {
      return {}; // the watch fills splits in once Consul answers
    }
  }

  async save(model: string, config: SplitConfig | null): Promise<void> {
    const key = `${KV_PREFIX}${encodeURIComponent(model)}`;
    try {
      if (config) {
        const value = JSON.stringify({ ...config, weights: { ...config.weights } });
        await this.consul.kv.set({ key, value, timeout: CONSUL_CALL_TIMEOUT_MS } as never);
      } else await this.consul.kv.del({ key, timeout: CONSUL_CALL_TIMEOUT_MS } as never);
    } catch (err) {
      throw consulError(`kv ${config ? 'put' : 'delete'} ${key}`, err);
    }
  }

  watch(onChange: (all: Record<string, SplitConfig>) => void): void {
    this.kvWatch = new ConsulWatch<KvEntry[] | KvEntry>(
      this.consul,
      `kv/${KV_PREFIX}`,
      (o) => this.consul.kv.get(o as never),
      { key: KV_PREFIX, recurse: true },
      (entries) => onChange(parseKv(entries)),
      this.opts,
    );
    this.kvWatch.start();
  }

  close(): void {
    this.kvWatch?.stop();
  }
}

/** The splits under the prefix (none when the prefix has no keys: Consul answers 404). */
function parseKv(entries: KvEntry[] | KvEntry | undefined | null): Record<string, SplitConfig> {
  const out: Record<string, SplitConfig> = {};
  const list = Array.isArray(entries) ? entries : entries ? [entries] : [];
  for (const e of list) {
    if (!e?.Key?.startsWith(KV_PREFIX) || !e.Value) continue;
    try {
      out[decodeURIComponent(e.Key.slice(KV_PREFIX.length))] = JSON.parse(e.Value);
    } catch {
      // not a split: ignored
    }
  }
  return out;
}
