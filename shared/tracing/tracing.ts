// OpenTelemetry tracing for every grove process (worker, gateway, stream consumer): one place that
// reads the standard OTEL_* variables (tracing-config.ts), builds the SDK's tracer provider with
// an OTLP/HTTP exporter (protobuf or JSON), accepts W3C trace context (traceparent, tracestate)
// from HTTP headers or gRPC metadata, and writes it for outgoing calls. When tracing is off,
// `startTracing` returns null and callers skip every tracing step behind one null check: nothing
// is parsed, allocated or exported per request.
//
// Spans are made with explicit start and end times (epoch milliseconds, performance.timeOrigin +
// performance.now()), so a request's spans can be written when their times are known, with no
// async context propagation on the hot path.
import {
  type Attributes,
  type Context,
  context as contextApi,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { Logger } from 'pino';
import { groveVersion } from '../build-info.js';
import { type SamplerConfig, type TracingConfig, tracingFromEnv } from './tracing-config.js';

export type { Attributes, Span };
export { SpanKind, SpanStatusCode };

/** Epoch milliseconds with sub-millisecond precision, comparable across threads. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * The trace id of a W3C traceparent header (`00-<32 hex>-<16 hex>-<2 hex>`), or undefined when it
 * is absent or malformed: what a log line carries when tracing is off but the caller sent a trace
 * context (www.w3.org/TR/trace-context/#traceparent-header). Called only when a line is written.
 */
export function traceIdOf(traceparent: string | string[] | undefined): string | undefined {
  if (typeof traceparent !== 'string' || traceparent.length < 55 || traceparent.length > 512)
    return undefined;
  return TRACEPARENT.test(traceparent) ? traceparent.slice(3, 35) : undefined;
}

// Version 00's fields; a later version may append fields after the flags. An all-zero id is invalid.
const TRACEPARENT = /^[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}(-|$)/;

/** A performance.now() reading as epoch milliseconds. */
export function epochOf(perfNow: number): number {
  return performance.timeOrigin + perfNow;
}

function makeSampler(s: SamplerConfig): Sampler {
  switch (s.kind) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(s.ratio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(s.ratio) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

const propagator = new W3CTraceContextPropagator();

const getFromFunction: TextMapGetter<(key: string) => string | undefined> = {
  get: (carrier, key) => carrier(key),
  keys: () => ['traceparent', 'tracestate'],
};

const setOnFunction: TextMapSetter<(key: string, value: string) => void> = {
  set: (carrier, key, value) => carrier(key, value),
};

export class Tracing {
  readonly tracer: Tracer;

  constructor(
    private readonly provider: TracerProvider,
    readonly serviceName: string,
  ) {
    this.tracer = provider.getTracer('grove', groveVersion);
  }

  /** The caller's trace context from `traceparent`/`tracestate` (a malformed one is ignored). */
  extract(get: (key: string) => string | undefined): Context {
    return propagator.extract(ROOT_CONTEXT, get, getFromFunction);
  }

  /** Writes `traceparent` (and `tracestate`) for the span in `ctx` through `set`. */
  inject(ctx: Context, set: (key: string, value: string) => void): void {
    propagator.inject(ctx, set, setOnFunction);
  }

  /** Starts a request's server span, a child of the caller's context. */
  startRequest(
    name: string,
    get: (key: string) => string | undefined,
    startEpochMs: number,
    attributes: Attributes,
  ): RequestTrace {
    const parent = this.extract(get);
    const span = this.tracer.startSpan(
      name,
      { kind: SpanKind.SERVER, startTime: startEpochMs, attributes },
      parent,
    );
    return new RequestTrace(this, span, trace.setSpan(parent, span));
  }

  /** Sends what is buffered and stops exporting. */
  async shutdown(): Promise<void> {
    await this.provider.shutdown();
  }
}

/** One request's spans: the server span and its children. */
export class RequestTrace {
  constructor(
    readonly tracing: Tracing,
    readonly span: Span,
    readonly context: Context,
  ) {}

  get traceId(): string {
    return this.span.spanContext().traceId;
  }

  get spanId(): string {
    return this.span.spanContext().spanId;
  }

  /** A finished child span over [startEpochMs, endEpochMs]. */
  child(name: string, startEpochMs: number, endEpochMs: number, attributes?: Attributes): void {
    const s = this.tracing.tracer.startSpan(
      name,
      { kind: SpanKind.INTERNAL, startTime: startEpochMs, attributes },
      this.context,
    );
    s.end(endEpochMs);
  }

  /** Runs `f` with this request's context active (for code that reads the active context). */
  with<T>(f: () => T): T {
    return contextApi.with(this.context, f);
  }
}

export interface StartTracingOptions {
  /** service.name unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES names one. */
  serviceName: 'grove-gateway' | 'grove-worker' | 'grove-stream';
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

function buildProvider(
  config: TracingConfig,
  serviceName: string,
  env: NodeJS.ProcessEnv,
): { provider: TracerProvider; name: string } {
  const exporter = config.protocol === 'http/json' ? new JsonExporter() : new ProtobufExporter();
  const processor = new BatchSpanProcessor({
    exporter,
    scheduledDelayMillis: config.scheduledDelayMillis,
    exportTimeoutMillis: config.exportTimeoutMillis,
    maxQueueSize: config.maxQueueSize,
    maxExportBatchSize: Math.min(config.maxExportBatchSize, config.maxQueueSize),
  });
  // envDetector reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES from process.env; a caller
  // passing its own env (tests) gets those two applied here instead.
  let resource = resourceFromAttributes({ 'service.name': serviceName, 'service.version': groveVersion });
  if (env === process.env) resource = resource.merge(detectResources({ detectors: [envDetector] }));
  else if (env.OTEL_SERVICE_NAME) {
    resource = resource.merge(resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME }));
  }
  const provider = new TracerProvider({
    resource,
    sampler: makeSampler(config.sampler),
    spanProcessors: [processor],
  });
  return { provider, name: String(resource.attributes['service.name'] ?? serviceName) };
}

/** Tracing as the environment asks for it, or null when it is off. */
export function startTracing(opts: StartTracingOptions): Tracing | null {
  const env = opts.env ?? process.env;
  const d = tracingFromEnv(env);
  if (!d.on) {
    if (d.why !== null) opts.logger?.warn({ event: 'tracing_off', reason: d.why }, `tracing off: ${d.why}`);
    return null;
  }
  const { provider, name } = buildProvider(d.config, opts.serviceName, env);
  opts.logger?.info(
    { event: 'tracing_on', service: name, protocol: d.config.protocol, sampler: d.config.sampler.kind },
    'exporting traces over OTLP',
  );
  return new Tracing(provider, name);
}
