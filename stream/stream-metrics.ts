// The stream consumer's own Prometheus series (docs/streaming.md, Metrics), registered next to the
// worker's (rows predicted, model loads, version states, event-loop delay) in one registry: rows
// in and out, dead letters and retries by code, failed publishes, lag (messages waiting in the
// engine, asked at scrape time) and batch latency (from taking a batch to its last
// acknowledgement). Per-result counts are plain numbers the counters read at scrape time, so the
// hot path does no label hashing.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
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
  /** Results stored, by version (read by grove_stream_rows_out_total at scrape time). */
  private readonly out = new Map<string, number>();
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
    const self = this;
    new Counter({
      name: 'grove_stream_rows_out_total',
      help: 'Results stored on the output subject (inputs acknowledged), by the version that scored them',
      labelNames: ['model', 'version'],
      registers,
      collect() {
        this.reset();
        for (const [version, n] of self.out) this.inc({ model: o.model, version }, n);
      },
    });
    new Counter({
      name: 'grove_stream_duplicates_total',
      help: "Results the engine's duplicate window dropped (a redelivered input scored again)",
      labelNames,
      registers,
      collect() {
        this.reset();
        this.inc({ model: o.model }, self.duplicateCount);
      },
    });
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
    const labels = this.labels;
    new Gauge({
      name: 'grove_stream_lag_messages',
      help: 'Messages on the input subject not yet delivered to this consumer (asked of the engine at scrape time)',
      labelNames,
      registers,
      async collect() {
        this.reset();
        const n = await o.lag().catch(() => null);
        if (n !== null) this.set(labels, n);
      },
    });
    new Gauge({
      name: 'grove_stream_inflight_messages',
      help: 'Results waiting for the engine to confirm they are stored',
      labelNames,
      registers,
      collect() {
        this.set(labels, o.inflight());
      },
    });
  }

  received(messages: number): void {
    this.rowsIn.inc(this.labels, messages);
  }

  published(version: string, duplicate: boolean): void {
    const out = this.out;
    out.set(version, (out.get(version) ?? 0) + 1);
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
