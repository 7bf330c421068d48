// Counters and a histogram for the request path that cost a few additions per request: each
// labelled series is a plain object the caller keeps (cached per model version), and prom-client
// only sees them at scrape time through its custom-metric contract (`name`, `help`, `type`,
// `get()`; see prom-client lib/registry.js). prom-client's own children hash their label set on
// every inc/observe, which showed up in the worker's profile.
import type { Registry } from 'prom-client';

type Labels = Record<string, string>;

export interface CounterSeries {
  labels: Labels;
  value: number;
}

export interface HistogramSeries {
  labels: Labels;
  count: number;
  sum: number;
  /** Non-cumulative counts per bucket; the last slot is +Inf. */
  buckets: Float64Array;
}

interface MetricValue {
  labels: Labels;
  value: number;
  metricName?: string;
}

function key(labels: Labels): string {
  let k = '';
  for (const n in labels) k += labels[n] + '\u0001';
  return k;
}

export class FastCounter {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, CounterSeries>();
  constructor(
    readonly name: string,
    readonly help: string,
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  /** The series for these labels (created once; keep it and add to `.value`). */
  series_(labels: Labels): CounterSeries {
    const k = key(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { labels, value: 0 }));
    return s;
  }

  async get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: MetricValue[];
  }> {
    const values: MetricValue[] = [];
    for (const s of this.series.values()) values.push({ labels: s.labels, value: s.value });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.series.clear();
  }
}

export class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, HistogramSeries>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly upperBounds: number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  series_(labels: Labels): HistogramSeries {
    const k = key(labels);
    let s = this.series.get(k);
    if (!s)
      this.series.set(
        k,
        (s = { labels, count: 0, sum: 0, buckets: new Float64Array(this.upperBounds.length + 1) }),
      );
    return s;
  }

  observe(s: HistogramSeries, v: number): void {
    s.count++;
    s.sum += v;
    const b = this.upperBounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    s.buckets[i]!++;
  }

  async get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: MetricValue[];
  }> {
    const values: MetricValue[] = [];
    const b = this.upperBounds;
    for (const s of this.series.values()) {
      let cum = 0;
      for (let i = 0; i <= b.length; i++) {
        cum += s.buckets[i]!;
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { le: i < b.length ? String(b[i]) : '+Inf', ...s.labels },
          value: cum,
        });
      }
      values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.series.clear();
  }
}
