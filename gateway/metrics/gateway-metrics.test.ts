import { describe, expect, it } from 'vitest';
import { groveVersion } from '../../shared/build-info.js';
import { GatewayMetrics } from './gateway-metrics.js';

describe('gateway metrics follow Prometheus conventions', () => {
  it('exports process_* and nodejs_* under their standard names and grove_build_info', async () => {
    const text = await new GatewayMetrics().registry.metrics();
    expect(text).toMatch(/^process_cpu_seconds_total \d/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d/m);
    expect(text).not.toMatch(/^grove_gateway_process_/m);
    expect(text).toContain(`grove_build_info{version="${groveVersion}",revision="",component="gateway"} 1`);
  });
});
