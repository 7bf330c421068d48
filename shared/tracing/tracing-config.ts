// Which tracing a process runs, read from the OpenTelemetry SDK's standard environment variables
// (opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables): tracing is off
// unless an OTLP exporter is asked for (OTEL_TRACES_EXPORTER=otlp, or an OTLP endpoint is set),
// and off whenever OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none. The exporters read the
// endpoint, headers, timeout and compression variables themselves.

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export type SamplerConfig =
  | { kind: 'always_on' | 'always_off' | 'parentbased_always_on' | 'parentbased_always_off' }
  | { kind: 'traceidratio' | 'parentbased_traceidratio'; ratio: number };

export interface TracingConfig {
  protocol: OtlpProtocol;
  sampler: SamplerConfig;
  /** BatchSpanProcessor settings (OTEL_BSP_*). */
  scheduledDelayMillis: number;
  exportTimeoutMillis: number;
  maxQueueSize: number;
  maxExportBatchSize: number;
}

export type TracingDecision = { on: true; config: TracingConfig } | { on: false; why: string | null };

function num(env: NodeJS.ProcessEnv, name: string, dflt: number): number {
  const v = env[name];
  if (v === undefined || v.trim() === '') return dflt;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : dflt;
}

function sampler(env: NodeJS.ProcessEnv): SamplerConfig {
  const kind = (env.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on').trim().toLowerCase();
  if (kind === 'traceidratio' || kind === 'parentbased_traceidratio') {
    const r = Number(env.OTEL_TRACES_SAMPLER_ARG ?? '1');
    return { kind, ratio: Number.isFinite(r) && r >= 0 && r <= 1 ? r : 1 };
  }
  if (
    kind === 'always_on' ||
    kind === 'always_off' ||
    kind === 'parentbased_always_on' ||
    kind === 'parentbased_always_off'
  ) {
    return { kind };
  }
  return { kind: 'parentbased_always_on' };
}

export function tracingFromEnv(env: NodeJS.ProcessEnv = process.env): TracingDecision {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return { on: false, why: null };
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  const endpoint = Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT);
  if (exporters.length > 0 && !exporters.includes('otlp')) {
    return exporters.includes('none')
      ? { on: false, why: null }
      : {
          on: false,
          why: `OTEL_TRACES_EXPORTER=${exporters.join(',')}: grove exports traces over OTLP only`,
        };
  }
  if (exporters.length === 0 && !endpoint) return { on: false, why: null };
  const protocol = (
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ??
    env.OTEL_EXPORTER_OTLP_PROTOCOL ??
    'http/protobuf'
  )
    .trim()
    .toLowerCase();
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
    return {
      on: false,
      why: `OTLP protocol '${protocol.slice(0, 20)}' is not supported: use http/protobuf or http/json`,
    };
  }
  return {
    on: true,
    config: {
      protocol,
      sampler: sampler(env),
      scheduledDelayMillis: num(env, 'OTEL_BSP_SCHEDULE_DELAY', 5000),
      exportTimeoutMillis: num(env, 'OTEL_BSP_EXPORT_TIMEOUT', 30_000),
      maxQueueSize: Math.max(1, num(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 2048)),
      maxExportBatchSize: Math.max(1, num(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512)),
    },
  };
}
