// One worker as the gateway sees it: its undici pool (keep-alive, bounded connections, timeouts),
// in-flight count for the policies, health (active checks), passive outlier state, and the model
// versions it holds (from IPC, GET /v2/models, or Consul meta).
import { Pool } from 'undici';
import { MAX_FAST_BODY } from '../../shared/http/fast-front.js';
import type { Pickable } from '../policies/policy.js';
import { DEFAULT_OUTLIER, type OutlierOptions, OutlierState } from './outlier-detector.js';

export interface UpstreamOptions {
  connections: number;
  timeoutMs: number;
  outlier: OutlierOptions;
}

const EWMA_ALPHA = 0.1;

export const DEFAULT_UPSTREAM: UpstreamOptions = {
  connections: 32,
  timeoutMs: 10_000,
  outlier: DEFAULT_OUTLIER,
};

export class UpstreamWorker implements Pickable {
  readonly id: string;
  readonly url: string;
  /** Data connections: POST predict/infer calls, which the worker's fast front answers. */
  readonly pool: Pool;
  /**
   * Control connections: health checks, model lists, fan-out and every other forwarded call. A
   * worker hands a connection that carries any other request to node:http for good
   * (shared/http/fast-front.ts), so such calls never share the data connections. Envoy likewise
   * runs active health checks on connections of their own.
   */
  readonly control: Pool;
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

  callEnded(t: number, ms: number): void {
    const i = this.starts.indexOf(t);
    if (i >= 0) this.starts.splice(i, 1);
    this.ewmaMs = ms > this.ewmaMs ? ms : this.ewmaMs + EWMA_ALPHA * (ms - this.ewmaMs);
  }

  constructor(id: string, url: string, opts: UpstreamOptions = DEFAULT_UPSTREAM, healthy = true) {
    this.id = id;
    this.url = url.replace(/\/+$/, '');
    this.healthy = healthy;
    this.outlier = new OutlierState(opts.outlier);
    this.pool = new Pool(this.url, {
      connections: opts.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      connect: { timeout: Math.min(2000, opts.timeoutMs) },
    });
    this.control = new Pool(this.url, {
      connections: 4,
      keepAliveTimeout: 30_000,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      connect: { timeout: Math.min(2000, opts.timeoutMs) },
    });
  }

  /** The pool for a call: data connections only for what the worker's fast front serves. */
  poolFor(method: string, path: string, bodyBytes: number): Pool {
    if (method !== 'POST' || bodyBytes > MAX_FAST_BODY) return this.control;
    const q = path.indexOf('?');
    const p = q < 0 ? path : path.slice(0, q);
    return p.endsWith('/infer') || p.endsWith(':predict') ? this.pool : this.control;
  }

  usable(now: number): boolean {
    return this.healthy && !this.removed && !this.outlier.isEjected(now);
  }

  holds(model: string, version: string): boolean {
    return this.versions.get(model)?.has(version) === true;
  }

  /** True when the versions changed. */
  setVersions(live: Record<string, readonly string[]>): boolean {
    const next = new Map<string, Set<string>>();
    for (const [m, vs] of Object.entries(live)) if (vs.length) next.set(m, new Set(vs.map(String)));
    let same = next.size === this.versions.size;
    if (same) {
      for (const [m, vs] of next) {
        const cur = this.versions.get(m);
        if (!cur || cur.size !== vs.size || [...vs].some((v) => !cur.has(v))) {
          same = false;
          break;
        }
      }
    }
    this.versions = next;
    return !same;
  }

  versionsRecord(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [m, vs] of this.versions) out[m] = [...vs].sort((a, b) => Number(a) - Number(b));
    return out;
  }

  async close(): Promise<void> {
    this.removed = true;
    await Promise.all([
      this.pool.close().catch(() => this.pool.destroy()),
      this.control.close().catch(() => this.control.destroy()),
    ]);
  }

  destroy(): void {
    this.removed = true;
    void this.pool.destroy().catch(() => {});
    void this.control.destroy().catch(() => {});
  }
}
