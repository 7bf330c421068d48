import { describe, expect, it } from 'vitest';
import { mergeExpositions, parseExposition, withLabel } from './cluster-metrics.js';

const GATEWAY = `# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 1.5
# HELP grove_build_info The grove build
# TYPE grove_build_info gauge
grove_build_info{version="0.1.0",revision="",component="gateway"} 1
# HELP grove_gateway_requests_total Client requests
# TYPE grove_gateway_requests_total counter
grove_gateway_requests_total{model="churn",version="1",code="200"} 7
`;

const WORKER = `# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 0.25
# HELP grove_build_info The grove build
# TYPE grove_build_info gauge
grove_build_info{version="0.1.0",revision="",component="worker"} 1
# HELP grove_worker_request_duration_seconds Request latency
# TYPE grove_worker_request_duration_seconds histogram
grove_worker_request_duration_seconds_bucket{le="0.001",model="churn"} 3
grove_worker_request_duration_seconds_bucket{le="+Inf",model="churn"} 4
grove_worker_request_duration_seconds_sum{model="churn"} 0.01
grove_worker_request_duration_seconds_count{model="churn"} 4
# HELP grove_monitor_psi PSI
# TYPE grove_monitor_psi gauge
grove_monitor_psi{model="churn",version="1",feature="f0"} 0.03
`;

describe('cluster metrics', () => {
  it('adds the worker label to a sample with or without labels', () => {
    expect(withLabel('a{b="c"} 1', 'worker', 'local-0')).toBe('a{worker="local-0",b="c"} 1');
    expect(withLabel('a 1', 'worker', 'w"1')).toBe('a{worker="w\\"1"} 1');
    expect(withLabel('a{} 2', 'worker', 'x')).toBe('a{worker="x"} 2');
  });

  it('writes each family once: the gateway series as they are, each worker series labelled', () => {
    const text = mergeExpositions(GATEWAY, [
      { worker: 'local-0', text: WORKER },
      { worker: 'local-1', text: WORKER.replace('0.25', '0.5') },
      { worker: 'local-2', text: null },
    ]);
    const families = parseExposition(text);
    // Every HELP and TYPE once, and every sample right under its own family.
    expect(text.match(/^# TYPE process_cpu_seconds_total /gm)).toHaveLength(1);
    expect(families.get('process_cpu_seconds_total')!.samples).toEqual([
      'process_cpu_seconds_total 1.5',
      'process_cpu_seconds_total{worker="local-0"} 0.25',
      'process_cpu_seconds_total{worker="local-1"} 0.5',
    ]);
    expect(families.get('grove_build_info')!.samples).toEqual([
      'grove_build_info{version="0.1.0",revision="",component="gateway"} 1',
      'grove_build_info{worker="local-0",version="0.1.0",revision="",component="worker"} 1',
      'grove_build_info{worker="local-1",version="0.1.0",revision="",component="worker"} 1',
    ]);
    expect(families.get('grove_worker_request_duration_seconds')!.samples).toHaveLength(8);
    expect(text).toContain('grove_worker_request_duration_seconds_count{worker="local-1",model="churn"} 4');
    expect(text).toContain('grove_monitor_psi{worker="local-0",model="churn",version="1",feature="f0"} 0.03');
    expect(families.get('grove_gateway_worker_metrics_up')!.samples).toEqual([
      'grove_gateway_worker_metrics_up{worker="local-0"} 1',
      'grove_gateway_worker_metrics_up{worker="local-1"} 1',
      'grove_gateway_worker_metrics_up{worker="local-2"} 0',
    ]);
    const lines = text.trim().split('\n');
    const seen = new Set<string>();
    let family = '';
    for (const l of lines) {
      const m = /^# TYPE (\S+)/.exec(l);
      if (m) {
        expect(seen.has(m[1]!)).toBe(false);
        seen.add(m[1]!);
        family = m[1]!;
      } else if (!l.startsWith('#')) expect(l.startsWith(family)).toBe(true);
    }
  });

  it('without workers the gateway text is unchanged in content', () => {
    expect(parseExposition(mergeExpositions(GATEWAY, []))).toEqual(parseExposition(GATEWAY));
  });
});
