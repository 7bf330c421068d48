// One worker as the gateway sees it: its data connections for predictions (data-pool.ts), a
// keep-alive agent for everything else (metadata, fan-out, streamed batches) and one for health
// checks (never queued behind traffic, as Envoy runs active health checks on connections of their
// own), in-flight counts for the policies, health, passive outlier state, and the model versions it
// holds (from IPC, GET /v2/models, or Consul meta).
import { Agent } from 'node:http';
import { MAX_FAST_BODY } from '../../shared/http/fast-front.js';
import type { Pickable } from '../policies/policy.js';
import { DataPool, type DataPoolOptions, DEFAULT_DATA_POOL } from './data-pool.js';
import { DEFAULT_OUTLIER, type OutlierOptions, OutlierState } from './outlier-detector.js';

export interface UpstreamOptions {
  timeoutMs: number;
  outlier: OutlierOptions;
  pool: DataPoolOptions;
}

const EWMA_ALPHA = 0.1;

export const DEFAULT_UPSTREAM: UpstreamOptions = {
  timeoutMs: 10_000,
  outlier: DEFAULT_OUTLIER,
  pool: DEFAULT_DATA_POOL,
};

export class UpstreamWorker implements Pickable {
  readonly id: string;
  /**
   * What answers call this worker (x-grove-worker) and /admin/workers lists beside its URL: `w1`,
   * `w2`... in the order this gateway learned of them. Answers name no internal address.
   */
  readonly name: string;
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Data connections: POST predict/infer calls, which the worker's fast front answers. */
  readonly data: DataPool;
  /**
   * Bodiless GETs (metadata, readiness, TF Serving status): written and framed like predictions,
   * on connections of their own, because the worker serves these through node:http, which takes a
   * connection over for good once such a request arrives on it (docs/architecture.md).
   */
  readonly meta: DataPool;
  /**
   * Every other call (a worker hands a connection that carries any other request to node:http for
   * good, shared/http/fast-front.ts, so such calls never share the data connections).
   */
  readonly agent: Agent;
  /** Health checks only. */
  readonly healthAgent: Agent;
  pid: number | undefined;
  /** Upstream calls in flight (what the policies compare). */
  outstanding = 0;
  /** Rows in those calls. */
  outstandingRows = 0;
  healthy: boolean;
  removed = false;
  readonly outlier: OutlierState;
  /** model -> live versions. */
  versions = new Map<string, Set<string>>();
  /** Models the worker lists with no version ready yet (loading): 503, not 404. */
  loadingModels = new Set<string>();
  /** The worker's versions have been learned at least once (readiness waits for it). */
  known = false;
  requests = 0;
  failures = 0;
  /** Peak-EWMA answer time (ms): jumps up to a slower sample at once, decays by ALPHA per answer. */
  ewmaMs = 1;
  /** Start times (performance.now()) of the calls in flight, oldest first. */
  private readonly starts: number[] = [];

  /**
   * What p2c weighs calls by: the EWMA, or the age of the oldest call still in flight if that is
   * longer. A stalled worker's answers arrive late or never, so an EWMA fed by answers alone would
   * keep rating it fast while calls pile up on it; the oldest call's age rates it slow at once.
   */
  get latencyMs(): number {
    const s = this.starts;
    if (s.length === 0) return this.ewmaMs;
    const age = performance.now() - s[0]!;
    return age > this.ewmaMs ? age : this.ewmaMs;
  }

  callStarted(t: number): void {
    this.starts.push(t);
  }

  /** A call started at `t` ended after `ms` (negative: it was never sent, so it says nothing of latency). */
  callEnded(t: number, ms: number): void {
    const i = this.starts.indexOf(t);
    if (i >= 0) this.starts.splice(i, 1);
    if (ms < 0) return;
    this.ewmaMs = ms > this.ewmaMs ? ms : this.ewmaMs + EWMA_ALPHA * (ms - this.ewmaMs);
  }

  constructor(id: string, url: string, opts: UpstreamOptions = DEFAULT_UPSTREAM, healthy = true, name = id) {
    this.id = id;
    this.name = name;
    this.url = url.replace(/\/+$/, '');
    const u = new URL(this.url);
    this.host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    this.port = Number(u.port || 80);
    this.healthy = healthy;
    this.outlier = new OutlierState(opts.outlier);
    this.data = new DataPool(this.host, this.port, { ...opts.pool, timeoutMs: opts.timeoutMs });
    this.meta = new DataPool(this.host, this.port, {
      ...opts.pool,
      maxConnections: Math.min(opts.pool.maxConnections, 8),
      timeoutMs: opts.timeoutMs,
    });
    // noDelay: a request or answer written in two parts must not wait for the peer's delayed ACK.
    this.agent = new Agent({ keepAlive: true, maxSockets: 64, keepAliveMsecs: 30_000, noDelay: true });
    this.healthAgent = new Agent({ keepAlive: true, maxSockets: 2, noDelay: true });
  }

  /** Whether a call goes on the data connections: what the worker's fast front serves. */
  usesData(method: string, path: string, bodyBytes: number): boolean {
    if (method !== 'POST' || bodyBytes > MAX_FAST_BODY) return false;
    const q = path.indexOf('?');
    const p = q < 0 ? path : path.slice(0, q);
    return p.endsWith('/infer') || p.endsWith(':predict');
  }

  usable(now: number): boolean {
    return this.healthy && !this.removed && !this.outlier.isEjected(now);
  }

  holds(model: string, version: string): boolean {
    return this.versions.get(model)?.has(version) === true;
  }

  /** True when the versions changed. Models listed without versions are loading. */
  setVersions(live: Record<string, readonly string[]>): boolean {
    const next = new Map<string, Set<string>>();
    const loading = new Set<string>();
    for (const [m, vs] of Object.entries(live)) {
      if (vs.length) next.set(m, new Set(vs.map(String)));
      else loading.add(m);
    }
    let same = this.known && next.size === this.versions.size && loading.size === this.loadingModels.size;
    if (same) {
      for (const [m, vs] of next) {
        const cur = this.versions.get(m);
        if (!cur || cur.size !== vs.size || [...vs].some((v) => !cur.has(v))) {
          same = false;
          break;
        }
      }
      for (const m of loading) if (!this.loadingModels.has(m)) same = false;
    }
    this.versions = next;
    this.loadingModels = loading;
    this.known = true;
    return !same;
  }

  versionsRecord(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [m, vs] of this.versions) out[m] = [...vs].sort((a, b) => Number(a) - Number(b));
    return out;
  }

  /** Leaves routing: calls in flight finish; idle connections close. */
  async close(): Promise<void> {
    this.removed = true;
    this.healthAgent.destroy();
    for (const list of Object.values(this.agent.freeSockets)) for (const s of list ?? []) s.destroy();
    await Promise.all([this.data.close(), this.meta.close()]);
  }

  destroy(): void {
    this.removed = true;
    this.data.destroy();
    this.meta.destroy();
    this.agent.destroy();
    this.healthAgent.destroy();
  }
}
