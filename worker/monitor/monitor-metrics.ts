// The monitor's Prometheus series (docs/monitoring.md): grove_monitor_missing_ratio,
// grove_monitor_psi, grove_monitor_out_of_range_ratio {model, version, feature} (feature
// `__prediction__` for the output) and grove_monitor_alarm {model, version, feature, kind} = 1
// while firing, else 0 (kind `influence` for versions with contribution tracking, whose
// grove_monitor_mean_abs_contribution {model, version, feature} is the window's mean
// |contribution|). Values are computed at scrape time (prom-client `collect`), so requests never
// pay for them; series of unloaded versions disappear because every scrape rebuilds them.
import { Counter, Gauge, type Registry } from 'prom-client';
import { ALARM_KINDS } from '../../shared/monitor/alarm-rules.js';
import type { MonitorHub } from './monitor-hub.js';
import type { MonitorSnapshot, VersionMonitor } from './version-monitor.js';

export interface MonitorMetrics {
  webhookSent: Counter<'outcome'>;
}

export function registerMonitorMetrics(registry: Registry, hub: MonitorHub): MonitorMetrics {
  // The gauges' collect callbacks share one snapshot per version while no row arrives (a snapshot
  // is reused only if the version's row total is unchanged, so a scrape never reads stale counts).
  const snaps = new WeakMap<VersionMonitor, { total: number; snap: MonitorSnapshot }>();
  const current = () =>
    hub.monitors().map((m) => {
      let c = snaps.get(m);
      if (!c || c.total !== m.totalRows) {
        c = { total: m.totalRows, snap: m.snapshot() };
        snaps.set(m, c);
      }
      hub.evaluate(m);
      return { m, snap: c.snap };
    });
  const labels = ['model', 'version', 'feature'] as const;
  const ratioGauge = (
    name: string,
    help: string,
    pick: (s: MonitorSnapshot['stats'][number]) => number | null,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: labels,
      registers: [registry],
      collect() {
        this.reset();
        for (const { m, snap } of current()) {
          for (const s of snap.stats) {
            const v = pick(s);
            if (v !== null && Number.isFinite(v))
              this.set({ model: m.model, version: m.version, feature: s.name }, v);
          }
        }
      },
    });
  ratioGauge(
    'grove_monitor_missing_ratio',
    'Share of rows in the monitor window with the feature missing.',
    (s) => s.missing_ratio,
  );
  ratioGauge(
    'grove_monitor_psi',
    'Population stability index of the feature over the monitor window against the training profile.',
    (s) => s.psi,
  );
  ratioGauge(
    'grove_monitor_out_of_range_ratio',
    'Share of present values in the monitor window outside the training range or unseen categories.',
    (s) => s.out_of_range_ratio,
  );
  ratioGauge(
    'grove_monitor_nonfinite_ratio',
    'Share of rows in the monitor window with an infinite feature value.',
    (s) => s.nonfinite_ratio,
  );
  new Gauge({
    name: 'grove_monitor_alarm',
    help: 'Monitor alarm state: 1 while firing, else 0.',
    labelNames: ['model', 'version', 'feature', 'kind'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { m } of current()) {
        m.names.forEach((feature, c) => {
          for (const kind of ALARM_KINDS)
            this.set({ model: m.model, version: m.version, feature, kind }, m.isFiring(c, kind) ? 1 : 0);
        });
        const tracker = hub.tracker(m);
        if (tracker)
          m.names.slice(0, -1).forEach((feature, f) => {
            this.set(
              { model: m.model, version: m.version, feature, kind: 'influence' },
              tracker.isFiring(f) ? 1 : 0,
            );
          });
      }
    },
  });
  new Gauge({
    name: 'grove_monitor_mean_abs_contribution',
    help: 'Mean |contribution| of the feature over the sampled rows in the contribution window (monitor.contributions).',
    labelNames: labels,
    registers: [registry],
    collect() {
      this.reset();
      for (const { m } of current()) {
        const tracker = hub.tracker(m);
        if (!tracker || tracker.response().rows === 0) continue;
        const means = tracker.means();
        for (let f = 0; f < means.length; f++)
          this.set({ model: m.model, version: m.version, feature: m.names[f]! }, means[f]!);
      }
    },
  });
  new Gauge({
    name: 'grove_monitor_window_rows',
    help: 'Rows currently in the monitor window.',
    labelNames: ['model', 'version'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { m, snap } of current()) this.set({ model: m.model, version: m.version }, snap.rows);
    },
  });
  const webhookSent = new Counter({
    name: 'grove_monitor_webhook_notifications_total',
    help: 'Alarm notifications for the alert webhook by outcome (sent, dropped_queue_full, dropped_retries_exhausted).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  return { webhookSent };
}
