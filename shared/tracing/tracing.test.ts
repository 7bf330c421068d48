import { describe, expect, it } from 'vitest';
import { startTracing, traceIdOf } from './tracing.js';
import { tracingFromEnv } from './tracing-config.js';

describe('tracing configuration from OTEL_* variables', () => {
  it('is off unless an OTLP exporter is asked for, and off when disabled', () => {
    expect(tracingFromEnv({}).on).toBe(false);
    expect(tracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4318' }).on).toBe(true);
    expect(tracingFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://x:4318/v1/traces' }).on).toBe(true);
    expect(tracingFromEnv({ OTEL_TRACES_EXPORTER: 'otlp' }).on).toBe(true);
    expect(tracingFromEnv({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x' }).on).toBe(
      false,
    );
    expect(tracingFromEnv({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' }).on).toBe(false);
  });

  it('picks the protocol and refuses ones it cannot export', () => {
    const json = tracingFromEnv({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    expect(json.on && json.config.protocol).toBe('http/json');
    const dflt = tracingFromEnv({ OTEL_TRACES_EXPORTER: 'otlp' });
    expect(dflt.on && dflt.config.protocol).toBe('http/protobuf');
    const specific = tracingFromEnv({
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
    });
    expect(specific.on && specific.config.protocol).toBe('http/json');
    const grpc = tracingFromEnv({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
    expect(grpc.on).toBe(false);
    expect(!grpc.on && grpc.why).toMatch(/not supported/);
  });

  it('reads the sampler and batch settings', () => {
    const d = tracingFromEnv({
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_BSP_MAX_QUEUE_SIZE: 'junk',
    });
    if (!d.on) throw new Error('expected on');
    expect(d.config.sampler).toEqual({ kind: 'parentbased_traceidratio', ratio: 0.25 });
    expect(d.config.scheduledDelayMillis).toBe(100);
    expect(d.config.maxQueueSize).toBe(2048);
  });

  it('names the service grove-worker (or -gateway, -stream) unless OTEL_SERVICE_NAME says otherwise', async () => {
    const base = { OTEL_TRACES_EXPORTER: 'otlp' };
    const t1 = startTracing({ serviceName: 'grove-worker', env: base });
    const t2 = startTracing({
      serviceName: 'grove-gateway',
      env: { ...base, OTEL_SERVICE_NAME: 'checkout-ml' },
    });
    expect(startTracing({ serviceName: 'grove-stream', env: {} })).toBeNull();
    expect(t1?.serviceName).toBe('grove-worker');
    expect(t2?.serviceName).toBe('checkout-ml');
    await t1?.shutdown();
    await t2?.shutdown();
  });

  it('takes the caller trace from traceparent and ignores a malformed one', () => {
    const t = startTracing({ serviceName: 'grove-worker', env: { OTEL_TRACES_EXPORTER: 'otlp' } })!;
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const rt = t.startRequest('receive', (k) => (k === 'traceparent' ? tp : undefined), Date.now(), {});
    expect(rt.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    const bad = t.startRequest(
      'receive',
      (k) => (k === 'traceparent' ? '00-zz-yy-01' : undefined),
      Date.now(),
      {},
    );
    expect(bad.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(bad.traceId).not.toBe('0af7651916cd43dd8448eb211c80319c');
    const out: Record<string, string> = {};
    t.inject(rt.context, (k, v) => (out[k] = v));
    expect(out.traceparent).toBe(`00-0af7651916cd43dd8448eb211c80319c-${rt.spanId}-01`);
    void t.shutdown();
  });
});

describe('traceIdOf', () => {
  it('reads a W3C traceparent and refuses malformed or all-zero ones', () => {
    const id = '4bf92f3577b34da6a3ce929d0e0e4736';
    expect(traceIdOf(`00-${id}-00f067aa0ba902b7-01`)).toBe(id);
    expect(traceIdOf(`01-${id}-00f067aa0ba902b7-01-extra`)).toBe(id);
    expect(traceIdOf(undefined)).toBeUndefined();
    expect(traceIdOf(['a', 'b'])).toBeUndefined();
    expect(traceIdOf(`00-${id.toUpperCase()}-00f067aa0ba902b7-01`)).toBeUndefined();
    expect(traceIdOf(`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`)).toBeUndefined();
    expect(traceIdOf(`00-${id}-${'0'.repeat(16)}-01`)).toBeUndefined();
    expect(traceIdOf(`00-${id}-00f067aa0ba902b7-01x`)).toBeUndefined();
    expect(traceIdOf(`00-${id.slice(1)}x-00f067aa0ba902b7-01`)).toBeUndefined();
  });
});
