// The gateway's own Prometheus metrics (prom-client, its own registry, served on the public
// /metrics): per model version requests by status code, latency, retries, ejections, shadow
// differences, requests shed by admission control, and the size of coalesced upstream calls.
// The per-request series are shared/metrics/fast-series.ts ones, cached per model version: the hot
// path does one Map lookup and a few additions, not prom-client's label hashing.

import client from 'prom-client';
import { collectCleanDefaultMetrics, registerBuildInfo } from '../../shared/metrics/default-metrics.js';
import {
  type CounterSeries,
  FastCounter,
  FastHistogram,
  type HistogramSeries,
} from '../../shared/metrics/fast-series.js';
import { scrapedGauge } from '../../shared/metrics/scraped-series.js';
import type { WorkerSet } from '../upstream/worker-set.js';
import { clusterExposition } from './cluster-metrics.js';

export class GatewayMetrics {
  readonly registry = new client.Registry();
  private readonly requests = new FastCounter(
    'grove_gateway_requests_total',
    'Client requests answered by the gateway, by model, version and HTTP status',
    this.registry,
  );
  private readonly latency = new FastHistogram(
    'grove_gateway_request_duration_seconds',
    'Client request latency through the gateway, by model and version',
    [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    this.registry,
  );
  readonly retries = new client.Counter({
    name: 'grove_gateway_retries_total',
    help: 'Upstream calls retried on another worker, by model and version',
    labelNames: ['model', 'version'],
    registers: [this.registry],
  });
  readonly retryBudgetExhausted = new client.Counter({
    name: 'grove_gateway_retry_budget_exhausted_total',
    help: 'Retries refused because the retry budget was used up',
    registers: [this.registry],
  });
  readonly ejections = new client.Counter({
    name: 'grove_gateway_ejections_total',
    help: 'Workers ejected by passive outlier detection',
    labelNames: ['worker'],
    registers: [this.registry],
  });
  readonly shadowRequests = new client.Counter({
    name: 'grove_gateway_shadow_requests_total',
    help: 'Rows mirrored to a shadow version, by outcome',
    labelNames: ['model', 'version', 'shadow_version', 'outcome'],
    registers: [this.registry],
  });
  readonly shadowDiff = new client.Histogram({
    name: 'grove_gateway_shadow_prediction_diff',
    help: 'Max absolute prediction difference between the served version and its shadow, per request',
    labelNames: ['model', 'version', 'shadow_version'],
    buckets: [0, 1e-9, 1e-6, 1e-4, 1e-3, 0.01, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  readonly shed = new client.Counter({
    name: 'grove_gateway_shed_total',
    help: 'Requests refused by admission control (over_share: 429, overloaded: 503)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly batchRows = new client.Histogram({
    name: 'grove_gateway_upstream_batch_rows',
    help: 'Rows per coalesced upstream call',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [this.registry],
  });

  private readonly children = new Map<string, { lat: HistogramSeries; codes: Map<number, CounterSeries> }>();

  /** When set, /metrics also serves every worker's series (cluster-metrics.ts). */
  private cluster: WorkerSet | null = null;

  constructor() {
    // Standard names (process_*, nodejs_*): the job and instance labels tell a gateway from a worker.
    collectCleanDefaultMetrics(this.registry);
    registerBuildInfo(this.registry, 'gateway');
  }

  /** Exports admission control's state (read at scrape time). */
  watchAdmission(a: { inflight: number; maxInflight: number }): void {
    scrapedGauge(
      this.registry,
      'grove_gateway_inflight_requests',
      'Client requests admitted and not yet answered',
      () => a.inflight,
    );
    scrapedGauge(
      this.registry,
      'grove_gateway_max_inflight_requests',
      'The --max-inflight limit (0: none)',
      () => a.maxInflight,
    );
  }

  /** Serve the workers' series too: `grove serve`, whose workers nobody else can find to scrape. */
  includeWorkers(workers: WorkerSet): void {
    this.cluster = workers;
  }

  /** The /metrics text: the gateway's series, and its workers' when included. */
  async text(): Promise<string> {
    const own = await this.registry.metrics();
    return this.cluster === null ? own : clusterExposition(own, this.cluster);
  }

  observe(model: string, version: string, status: number, seconds: number): void {
    const key = `${model}\u0000${version}`;
    let c = this.children.get(key);
    if (!c) {
      c = { lat: this.latency.series_({ model, version }), codes: new Map() };
      this.children.set(key, c);
    }
    let counter = c.codes.get(status);
    if (!counter) {
      counter = this.requests.series_({ model, version, code: String(status) });
      c.codes.set(status, counter);
    }
    counter.value++;
    this.latency.observe(c.lat, seconds);
  }
}
