// The stream consumer's own Prometheus series (docs/streaming.md, Metrics), registered next to the
// worker's (rows predicted, model loads, version states, event-loop delay) in one registry: rows
// in and out, dead letters and retries by code, failed publishes, lag (messages waiting in the
// engine, asked at scrape time) and batch latency (from taking a batch to its last
// acknowledgement). Per-result counts are plain series read at scrape time
// (shared/metrics/fast-series.ts, scraped-series.ts), so the hot path does no label hashing.
import { Counter, Histogram, type Registry } from 'prom-client';
import { type CounterSeries, FastCounter } from '../shared/metrics/fast-series.js';
import { scrapedCounter, scrapedGauge } from '../shared/metrics/scraped-series.js';
import type { LoopEvents } from './scoring-loop.js';

export interface StreamMetricsOptions {
  registry: Registry;
  model: string;
  /** Messages waiting in the engine, or null when it cannot say. */
  lag: () => Promise<number | null>;
  /** Results waiting for the engine's store confirmation. */
  inflight: () => number;
}

export class StreamMetrics implements LoopEvents {
  private readonly rowsIn: Counter<'model'>;
  /** grove_stream_rows_out_total: results stored, by the version that scored them. */
  private readonly out: FastCounter;
  private readonly outByVersion = new Map<string, CounterSeries>();
  private duplicateCount = 0;
  private readonly dead: Counter<'model' | 'code'>;
  private readonly retries: Counter<'model' | 'code'>;
  private readonly publishFailures: Counter<'model'>;
  private readonly batchSeconds: Histogram<'model'>;
  private readonly batchRows: Histogram<'model'>;
  private readonly labels: { model: string };

  constructor(o: StreamMetricsOptions) {
    const registers = [o.registry];
    const labelNames = ['model'] as const;
    this.labels = { model: o.model };
    this.rowsIn = new Counter({
      name: 'grove_stream_rows_in_total',
      help: 'Messages received from the input subject',
      labelNames,
      registers,
    });
    this.out = new FastCounter(
      'grove_stream_rows_out_total',
      'Results stored on the output subject (inputs acknowledged), by the version that scored them',
      o.registry,
    );
    scrapedCounter(
      o.registry,
      'grove_stream_duplicates_total',
      "Results the engine's duplicate window dropped (a redelivered input scored again)",
      () => this.duplicateCount,
      this.labels,
    );
    this.dead = new Counter({
      name: 'grove_stream_dead_letters_total',
      help: 'Messages sent to the dead-letter subject, by error code',
      labelNames: ['model', 'code'],
      registers,
    });
    this.retries = new Counter({
      name: 'grove_stream_retries_total',
      help: 'Messages handed back for redelivery (no version could score them), by error code',
      labelNames: ['model', 'code'],
      registers,
    });
    this.publishFailures = new Counter({
      name: 'grove_stream_publish_failures_total',
      help: 'Results or dead letters the engine did not confirm (the input is delivered again)',
      labelNames,
      registers,
    });
    this.batchSeconds = new Histogram({
      name: 'grove_stream_batch_duration_seconds',
      help: 'Time from taking a batch to its last acknowledgement',
      labelNames,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    });
    this.batchRows = new Histogram({
      name: 'grove_stream_batch_rows',
      help: 'Messages per batch',
      labelNames,
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096],
      registers,
    });
    scrapedGauge(
      o.registry,
      'grove_stream_lag_messages',
      'Messages on the input subject not yet delivered to this consumer (asked of the engine at scrape time)',
      () => o.lag().catch(() => null),
      this.labels,
    );
    scrapedGauge(
      o.registry,
      'grove_stream_inflight_messages',
      'Results waiting for the engine to confirm they are stored',
      o.inflight,
      this.labels,
    );
  }

  received(messages: number): void {
    this.rowsIn.inc(this.labels, messages);
  }

  published(version: string, duplicate: boolean): void {
    let s = this.outByVersion.get(version);
    if (s === undefined)
      this.outByVersion.set(version, (s = this.out.series_({ model: this.labels.model, version })));
    s.value++;
    if (duplicate) this.duplicateCount++;
  }

  deadLettered(code: string): void {
    this.dead.inc({ model: this.labels.model, code });
  }

  retried(code: string): void {
    this.retries.inc({ model: this.labels.model, code });
  }

  publishFailed(): void {
    this.publishFailures.inc(this.labels);
  }

  batchDone(messages: number, seconds: number): void {
    this.batchSeconds.observe(this.labels, seconds);
    this.batchRows.observe(this.labels, messages);
  }
}
