// The worker's Prometheus metrics (prom-client, one Registry per worker so several workers can live
// in one test process). Request counters and latency by model, version, route and status code,
// as Triton's nv_inference_* family splits them; rows predicted; loads and failures; in-flight
// requests; event-loop delay (the cost a big batch would put on one-row requests); one gauge per
// version state. Children are cached per version and status so the hot path does not hash labels.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Registry } from 'prom-client';
import { collectCleanDefaultMetrics, registerBuildInfo } from '../../shared/metrics/default-metrics.js';
import {
  type CounterSeries,
  FastCounter,
  FastHistogram,
  type HistogramSeries,
} from '../../shared/metrics/fast-series.js';
import { scrapedGauge } from '../../shared/metrics/scraped-series.js';
import type { LoadedVersion } from '../repository/loaded-version.js';
import type { ModelRepository } from '../repository/model-repository.js';

const STATES = ['LOADING', 'READY', 'FAILED', 'UNLOADING'] as const;

interface Children {
  count: CounterSeries;
  latency: HistogramSeries;
}

export class WorkerMetrics {
  readonly registry = new Registry();
  readonly requests: FastCounter;
  readonly latency: FastHistogram;
  readonly rows: FastCounter;
  readonly loads: Counter<'model' | 'version'>;
  readonly loadFailures: Counter<'model' | 'version'>;
  /** Requests being served (read at scrape time). */
  inflightNow: () => number = () => 0;
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });
  private readonly plain = new Map<string, Children>();

  constructor(repository: () => ModelRepository | null) {
    const registers = [this.registry];
    collectCleanDefaultMetrics(this.registry);
    registerBuildInfo(this.registry, 'worker');
    this.requests = new FastCounter(
      'grove_worker_requests_total',
      'HTTP requests answered, by model, version, route and status code',
      this.registry,
    );
    this.latency = new FastHistogram(
      'grove_worker_request_duration_seconds',
      'Time from request arrival to the end of the response, by model, version, route and status code',
      [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      this.registry,
    );
    this.rows = new FastCounter(
      'grove_worker_rows_predicted_total',
      'Rows predicted, by model and version',
      this.registry,
    );
    this.loads = new Counter({
      name: 'grove_worker_model_loads_total',
      help: 'Model versions loaded (including swaps of a rewritten file)',
      labelNames: ['model', 'version'],
      registers,
    });
    this.loadFailures = new Counter({
      name: 'grove_worker_model_load_failures_total',
      help: 'Model version loads that failed (parse, probe or config errors)',
      labelNames: ['model', 'version'],
      registers,
    });
    scrapedGauge(this.registry, 'grove_worker_inflight_requests', 'Requests being served', () =>
      this.inflightNow(),
    );
    this.loopDelay.enable();
    const loop = this.loopDelay;
    new Gauge({
      name: 'grove_worker_event_loop_delay_seconds',
      // A gauge per percentile, labelled `percentile`: promtool reserves `quantile` for summaries.
      help: 'Event-loop delay percentiles since the last scrape',
      labelNames: ['percentile'],
      registers,
      collect() {
        this.set({ percentile: '50' }, loop.percentile(50) / 1e9);
        this.set({ percentile: '99' }, loop.percentile(99) / 1e9);
        this.set({ percentile: '100' }, loop.max / 1e9);
        loop.reset();
      },
    });
    new Gauge({
      name: 'grove_worker_model_version_state',
      help: 'One per model version and state: 1 for the state the version is in, else 0',
      labelNames: ['model', 'version', 'state'],
      registers,
      collect() {
        this.reset();
        const repo = repository();
        if (!repo) return;
        for (const [name, entry] of repo.models) {
          for (const slot of entry.slots.values()) {
            for (const s of STATES)
              this.set({ model: name, version: slot.version, state: s }, slot.state === s ? 1 : 0);
          }
        }
      },
    });
    new Gauge({
      name: 'grove_worker_model_version_info',
      help: 'The model file each serving version came from (value 1)',
      labelNames: ['model', 'version', 'sha256', 'platform'],
      registers,
      collect() {
        this.reset();
        const repo = repository();
        if (!repo) return;
        for (const [name, entry] of repo.models) {
          for (const slot of entry.slots.values()) {
            const v = slot.serving;
            if (v)
              this.set(
                { model: name, version: slot.version, sha256: v.sha256, platform: v.model.meta.platform },
                1,
              );
          }
        }
      },
    });
  }

  /** Counts one finished request; `v` is the version that served it, if any. */
  record(v: LoadedVersion | null, route: string, status: number, seconds: number): void {
    const key = route + ':' + status;
    let c: Children | undefined;
    if (v !== null) {
      c = v.metricCache.get(key) as Children | undefined;
      if (c === undefined) {
        c = this.children(v.name, v.version, route, status);
        v.metricCache.set(key, c);
      }
    } else {
      c = this.plain.get(key);
      if (c === undefined) {
        c = this.children('', '', route, status);
        if (this.plain.size < 1000) this.plain.set(key, c);
      }
    }
    c.count.value++;
    this.latency.observe(c.latency, seconds);
  }

  private children(model: string, version: string, route: string, status: number): Children {
    const code = String(status);
    const labels = { model, version, route, code };
    return { count: this.requests.series_(labels), latency: this.latency.series_(labels) };
  }

  close(): void {
    this.loopDelay.disable();
    this.registry.clear();
  }
}
