// prom-client's process and Node.js metrics under their standard names (`process_*`, `nodejs_*`,
// as every Node exporter and the dashboards built on them expect), minus the three gauges promtool
// rejects (`nodejs_active_{handles,requests,resources}_total`: a gauge must not end in `_total`;
// their values are the sums of the per-type gauges without `_total`, which stay), plus the
// `grove_build_info` gauge Prometheus' naming conventions ask of every exporter.
import { collectDefaultMetrics, Gauge, type Registry } from 'prom-client';
import { buildRevision, groveVersion } from '../build-info.js';

const NOT_PROMTOOL_CLEAN = ['active_handles_total', 'active_requests_total', 'active_resources_total'];

export function collectCleanDefaultMetrics(registry: Registry, prefix = ''): void {
  collectDefaultMetrics({ register: registry, prefix });
  for (const name of NOT_PROMTOOL_CLEAN) registry.removeSingleMetric(`${prefix}nodejs_${name}`);
}

/** `grove_build_info{version, revision, component} 1`: which build (and which process kind) answers. */
export function registerBuildInfo(registry: Registry, component: 'gateway' | 'worker' | 'stream'): void {
  new Gauge({
    name: 'grove_build_info',
    help: 'The grove build this process runs (value 1): package version, revision (GROVE_BUILD_REVISION), component',
    labelNames: ['version', 'revision', 'component'],
    registers: [registry],
  }).set({ version: groveVersion, revision: buildRevision, component }, 1);
}
