// DNS discovery (`grove gateway --discover dns:HOST:PORT`, docs/kubernetes.md): every address of
// HOST (all A and AAAA records) is one worker on PORT. Meant for a Kubernetes headless Service,
// whose name resolves to the addresses of its ready pods, but any DNS name works. Like Envoy's
// STRICT_DNS clusters, HOST is re-resolved every `intervalMs`, and sooner when a worker of this
// source turns unhealthy (a pod that went away is dropped without waiting for the interval); new
// addresses are added, vanished ones are removed from routing while their in-flight calls finish
// (WorkerSet.remove drains). A failed lookup (timeout, SERVFAIL, no server) changes nothing and is
// retried with backoff; a family that failed keeps its addresses while the other is updated. An
// answer with no records (NXDOMAIN, NODATA) is an answer: the name has no ready pods.
// The resolver and the clock are injected, so the unit tests are exact.
import { lookup, Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { UpstreamWorker } from '../upstream/upstream-worker.js';
import type { WorkerSet } from '../upstream/worker-set.js';

export interface DnsResolver {
  resolve4(host: string): Promise<string[]>;
  resolve6(host: string): Promise<string[]>;
}

/** Runs `fn` after `ms`; the returned function cancels it. */
export type Schedule = (fn: () => void, ms: number) => () => void;

export interface DnsTarget {
  host: string;
  port: number;
}

export interface DnsDiscoveryOptions {
  resolver?: DnsResolver;
  schedule?: Schedule;
  now?: () => number;
  /** Re-resolution period (default 5000 ms: CoreDNS serves cluster records with a 5 s TTL). */
  intervalMs?: number;
  /** First retry after a failed lookup; doubles up to intervalMs. */
  retryMs?: number;
  /** Re-resolutions triggered by an unhealthy worker are at least this far apart. */
  minGapMs?: number;
  /** Addresses beyond this many are ignored (a hostile or broken answer must not open 10 000 pools). */
  maxWorkers?: number;
  /** Called for each worker this source adds (the gateway health-checks it at once). */
  onAdded?: (w: UpstreamWorker) => void;
  log?: (msg: string) => void;
}

const NO_RECORDS = new Set(['ENODATA', 'ENOTFOUND']);
const PREFIX = 'dns-';

/** `dns:HOST:PORT` -> target; null when it is not one. */
export function parseDnsTarget(spec: string): DnsTarget | null {
  const m = /^dns:([A-Za-z0-9_.-]{1,253}):([0-9]{1,5})$/.exec(spec);
  if (!m) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1]!, port };
}

/**
 * The system's resolver (getaddrinfo: /etc/hosts, then DNS with resolv.conf's search domains, so a
 * Service's short name works in any namespace), or, given `servers` ("IP", "IP:PORT",
 * "[IPv6]:PORT"), plain DNS queries to those (c-ares applies no search domains: give a full name).
 */
export function systemResolver(servers: string[] = []): DnsResolver {
  if (servers.length === 0) {
    const family = (f: 4 | 6) => async (host: string) =>
      (await lookup(host, { family: f, all: true })).map((a) => a.address);
    return { resolve4: family(4), resolve6: family(6) };
  }
  const r = new Resolver({ timeout: 2000, tries: 2 });
  r.setServers(servers);
  return r;
}

export const defaultSchedule: Schedule = (fn, ms) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
};

type Family = { ok: true; addrs: string[] } | { ok: false; err: string };

async function queryFamily(f: () => Promise<string[]>): Promise<Family> {
  try {
    return { ok: true, addrs: await f() };
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (NO_RECORDS.has(code)) return { ok: true, addrs: [] };
    return { ok: false, err: code || (err as Error).message };
  }
}

export class DnsDiscovery {
  private readonly resolver: DnsResolver;
  private readonly schedule: Schedule;
  private readonly now: () => number;
  private readonly intervalMs: number;
  private readonly retryMs: number;
  private readonly minGapMs: number;
  private readonly maxWorkers: number;
  private cancel: (() => void) | null = null;
  private nextAt = Infinity;
  private running: Promise<void> | null = null;
  private stopped = false;
  private lastStart = -Infinity;
  /** Consecutive failed lookups (both families failed). */
  failures = 0;
  private readonly onChange = () => this.checkHealth();

  constructor(
    private readonly target: DnsTarget,
    private readonly workers: WorkerSet,
    private readonly opts: DnsDiscoveryOptions = {},
  ) {
    this.resolver = opts.resolver ?? systemResolver();
    this.schedule = opts.schedule ?? defaultSchedule;
    this.now = opts.now ?? Date.now;
    this.intervalMs = opts.intervalMs ?? 5000;
    this.retryMs = Math.min(opts.retryMs ?? 250, this.intervalMs);
    this.minGapMs = opts.minGapMs ?? 1000;
    this.maxWorkers = opts.maxWorkers ?? 512;
  }

  /** Resolves once, then keeps re-resolving; the promise settles after the first pass. */
  start(): Promise<void> {
    this.workers.on('change', this.onChange);
    return this.refresh();
  }

  stop(): void {
    this.stopped = true;
    this.workers.off('change', this.onChange);
    this.cancel?.();
    this.cancel = null;
  }

  /** One resolution now (joins one in flight), then the next is scheduled. */
  refresh(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.running ??= this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private idOf(addr: string): string {
    return `${PREFIX}${addr.includes(':') ? `[${addr}]` : addr}:${this.target.port}`;
  }

  private async pass(): Promise<void> {
    this.cancel?.();
    this.cancel = null;
    this.nextAt = Infinity;
    this.lastStart = this.now();
    const host = this.target.host;
    const [v4, v6] = await Promise.all([
      queryFamily(() => this.resolver.resolve4(host)),
      queryFamily(() => this.resolver.resolve6(host)),
    ]);
    if (this.stopped) return;
    let next: number;
    if (!v4.ok && !v6.ok) {
      this.failures++;
      if (this.failures === 1)
        this.opts.log?.(`dns ${host}: lookup failed (${v4.err}); keeping the last known workers, retrying`);
      next = Math.min(this.intervalMs, this.retryMs * 2 ** Math.min(this.failures - 1, 20));
    } else {
      if (this.failures > 0) this.opts.log?.(`dns ${host}: resolving again`);
      this.failures = 0;
      this.apply(v4, v6);
      next = this.intervalMs;
    }
    this.later(next);
  }

  private later(ms: number): void {
    this.cancel?.();
    this.nextAt = this.now() + ms;
    this.cancel = this.schedule(() => void this.refresh(), ms);
  }

  private apply(v4: Family, v6: Family): void {
    const want = new Map<string, string>(); // id -> url
    const keepFamily = (family: 4 | 6) => {
      // This family's lookup failed: its current workers stay as they are.
      for (const w of this.workers.all) {
        if (!w.id.startsWith(PREFIX)) continue;
        if ((w.id.startsWith(`${PREFIX}[`) ? 6 : 4) === family) want.set(w.id, w.url);
      }
    };
    if (!v4.ok) keepFamily(4);
    if (!v6.ok) keepFamily(6);
    const addrs = [...(v4.ok ? v4.addrs : []), ...(v6.ok ? v6.addrs : [])];
    for (const a of addrs) {
      const family = isIP(a);
      if (family === 0) continue;
      if (want.size >= this.maxWorkers) {
        this.opts.log?.(`dns ${this.target.host}: more than ${this.maxWorkers} addresses; ignoring the rest`);
        break;
      }
      const host = family === 6 ? `[${a}]` : a;
      want.set(this.idOf(a), `http://${host}:${this.target.port}`);
    }
    if (want.size === 0 && this.workers.all.some((w) => w.id.startsWith(PREFIX)))
      this.opts.log?.(`dns ${this.target.host}: no addresses; no workers from this name`);
    for (const w of this.workers.all)
      if (w.id.startsWith(PREFIX) && !want.has(w.id)) this.workers.remove(w.id);
    for (const [id, url] of want) {
      if (this.workers.get(id)) continue;
      // Added first: `onAdded?.(add())` would skip the add when there is no callback.
      const w = this.workers.add(id, url);
      this.opts.onAdded?.(w);
    }
  }

  /** A worker of this source turned unhealthy: its pod may be gone, so look again soon. */
  private checkHealth(): void {
    if (this.stopped || this.running) return;
    if (!this.workers.all.some((w) => w.id.startsWith(PREFIX) && !w.healthy)) return;
    const wait = this.lastStart + this.minGapMs - this.now();
    if (wait <= 0) {
      void this.refresh();
      return;
    }
    if (this.now() + wait < this.nextAt) this.later(wait);
  }
}
