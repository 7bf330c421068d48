// Active health checks (gateway/README.md, Request path; Envoy active health checking): every interval each
// worker's GET /v2/health/ready decides `healthy`; optionally GET /v2/models refreshes its versions
// (static and Consul modes; local workers report versions over IPC). Also decays outlier
// multipliers. Checks use connections of their own (UpstreamWorker.healthAgent), so a worker
// whose other connections are busy or stuck is still checked.
import { controlRequest } from './control-client.js';
import type { UpstreamWorker } from './upstream-worker.js';
import type { WorkerSet } from './worker-set.js';

export interface HealthCheckOptions {
  intervalMs: number;
  timeoutMs: number;
  pollVersions: boolean;
  /** Consecutive failed checks before a worker is marked unhealthy (Envoy unhealthy_threshold). */
  unhealthyThreshold: number;
}

export class HealthChecker {
  private timer: NodeJS.Timeout | undefined;
  private readonly fails = new WeakMap<UpstreamWorker, number>();
  private running = false;

  constructor(
    private readonly set: WorkerSet,
    private readonly opts: HealthCheckOptions,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.runOnce(), this.opts.intervalMs);
    this.timer.unref();
    void this.runOnce();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async runOnce(): Promise<void> {
    if (this.running) return;
    this.running = true;
    // Latency estimates of workers that get no traffic never update: shrink each one's excess over
    // the best worker's by 30% every interval, so a worker that was slow once is tried again after
    // a few seconds (and, if it is still slow, its first answer raises the estimate again: peak
    // EWMA). Faster decay means more probe batches stuck on a worker that is still slow.
    let best = Infinity;
    for (const w of this.set.all) best = Math.min(best, w.ewmaMs);
    for (const w of this.set.all) w.ewmaMs = best + (w.ewmaMs - best) * 0.7;
    try {
      await Promise.all(this.set.all.map((w) => this.check(w)));
    } finally {
      this.running = false;
    }
  }

  async check(w: UpstreamWorker): Promise<void> {
    const now = this.set.now();
    w.outlier.tick(now);
    let ok = false;
    try {
      const get = (path: string) =>
        controlRequest(w.healthAgent, w.host, w.port, {
          method: 'GET',
          path,
          timeoutMs: this.opts.timeoutMs,
          maxBytes: 16 * 1024 * 1024,
        });
      const res = await get('/v2/health/ready');
      ok = res.status === 200;
      if (ok && this.opts.pollVersions) {
        const m = await get('/v2/models');
        if (m.status === 200) {
          const body = JSON.parse(m.body.toString('utf8')) as {
            models?: { name?: unknown; versions?: unknown }[];
          };
          const live: Record<string, string[]> = {};
          for (const e of body.models ?? []) {
            if (typeof e?.name === 'string' && Array.isArray(e.versions))
              live[e.name] = e.versions.map(String);
          }
          this.set.setVersions(w.id, live);
        }
      }
    } catch {
      ok = false;
    }
    if (w.removed) return;
    const fails = ok ? 0 : (this.fails.get(w) ?? 0) + 1;
    this.fails.set(w, fails);
    const healthy = ok || fails < this.opts.unhealthyThreshold;
    if (healthy !== w.healthy) {
      w.healthy = healthy;
      this.set.changed();
    }
  }
}
