// Series whose value is read when Prometheus scrapes, from a number the code keeps anyway (a
// tally, a queue's length, a limit): the request path does nothing for them and hashes no labels.
// prom-client calls `collect()` before it renders a metric (lib/gauge.js, lib/counter.js); each
// series resets there, so a read that has no answer (null) leaves no stale sample behind.
import { Counter, Gauge, type Registry } from 'prom-client';

type Labels = Record<string, string>;
type Read = () => number | null | Promise<number | null>;

/** A gauge set to `read()` at every scrape (no sample while it reads null). */
export function scrapedGauge(
  registry: Registry,
  name: string,
  help: string,
  read: Read,
  labels: Labels = {},
): void {
  new Gauge({
    name,
    help,
    labelNames: Object.keys(labels),
    registers: [registry],
    async collect() {
      this.reset();
      const v = await read();
      if (v !== null) this.set(labels, v);
    },
  });
}

/** A counter whose total is `read()` (a tally that only grows), taken at every scrape. */
export function scrapedCounter(
  registry: Registry,
  name: string,
  help: string,
  read: () => number,
  labels: Labels = {},
): void {
  new Counter({
    name,
    help,
    labelNames: Object.keys(labels),
    registers: [registry],
    collect() {
      this.reset();
      this.inc(labels, read());
    },
  });
}
