// prom-client's process and Node.js metrics, minus the three gauges promtool rejects
// (`nodejs_active_{handles,requests,resources}_total`: a gauge must not end in `_total`). Their
// values are the sums of the per-type gauges of the same names without `_total`, which stay.
import { collectDefaultMetrics, type Registry } from 'prom-client';

const NOT_PROMTOOL_CLEAN = ['active_handles_total', 'active_requests_total', 'active_resources_total'];

export function collectCleanDefaultMetrics(registry: Registry, prefix = ''): void {
  collectDefaultMetrics({ register: registry, prefix });
  for (const name of NOT_PROMTOOL_CLEAN) registry.removeSingleMetric(`${prefix}nodejs_${name}`);
}
