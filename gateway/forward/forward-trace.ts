// The gateway's OpenTelemetry spans on the prediction path (docs/tracing.md): `receive` (server
// span, child of the client's traceparent) from arrival to answer, `version choice` around the
// split, and `forward` (client span) around the upstream call, whose context replaces the
// client's traceparent on the way to the worker, so the worker's spans are children of the
// gateway's. A coalesced call's `forward` span carries a link to every client request it serves.
// Built only when tracing is on (shared/tracing); the forward path checks one null otherwise.
import { type Link, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import {
  type Attributes,
  epochNow,
  epochOf,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracing,
} from '../../shared/tracing/tracing.js';
import type { ClientCall } from './client-call.js';

/** Removes the client's trace context fields from flat upstream headers (the gateway writes its own). */
function withoutTraceContext(headers: string[]): string[] {
  let found = false;
  for (let i = 0; i < headers.length; i += 2)
    if (headers[i] === 'traceparent' || headers[i] === 'tracestate') found = true;
  if (!found) return headers;
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const k = headers[i]!;
    if (k !== 'traceparent' && k !== 'tracestate') out.push(k, headers[i + 1]!);
  }
  return out;
}

export class ForwardTracer {
  constructor(readonly tracing: Tracing) {}

  /** Starts the client request's `receive` span (call.trace). */
  receive(
    call: ClientCall,
    get: (key: string) => string | undefined,
    model: string,
    verb: string,
    rows: number | undefined,
    grpc: boolean,
  ): void {
    const attributes: Attributes = {
      'grove.model': model,
      'grove.route': verb,
      'grove.request_id': call.requestId,
    };
    if (rows !== undefined) attributes['grove.rows'] = rows;
    if (grpc) {
      attributes['rpc.system'] = 'grpc';
      attributes['rpc.service'] = 'inference.GRPCInferenceService';
      attributes['rpc.method'] = 'ModelInfer';
    }
    call.trace = this.tracing.startRequest('receive', get, epochOf(call.start), attributes);
  }

  /** The `version choice` span over [start, now] (start: performance.now()). */
  chose(call: ClientCall, start: number, version: string | null): void {
    const t = call.trace;
    if (t === null) return;
    const attributes: Attributes = { 'grove.model': call.model };
    if (version !== null) attributes['grove.model_version'] = version;
    t.child('version choice', epochOf(start), epochNow(), attributes);
  }

  /**
   * Starts a `forward` span for an upstream call serving `calls` (several when coalesced) and
   * writes its traceparent into `headers`, which it returns.
   */
  forward(
    calls: readonly (ClientCall | null)[],
    model: string,
    version: string,
    rows: number | undefined,
    headers: string[],
  ): { span: Span; headers: string[] } {
    const traced = calls.filter((c): c is ClientCall => c !== null && c.trace !== null);
    const attributes: Attributes = { 'grove.model': model, 'grove.model_version': version };
    if (rows !== undefined) attributes['grove.rows'] = rows;
    const parent = traced[0]?.trace?.context ?? ROOT_CONTEXT;
    const links: Link[] = [];
    if (calls.length > 1) {
      attributes['grove.coalesced_requests'] = calls.length;
      for (const c of traced) links.push({ context: c.trace!.span.spanContext() });
    }
    const span = this.tracing.tracer.startSpan(
      'forward',
      { kind: SpanKind.CLIENT, startTime: epochNow(), attributes, links },
      parent,
    );
    const out = withoutTraceContext(headers);
    this.tracing.inject(trace.setSpan(parent, span), (k, v) => out.push(k, v));
    return { span, headers: out };
  }

  /** Ends a `forward` span with the worker's status (0: no answer). */
  forwarded(span: Span, status: number, errorMessage: string | null): void {
    if (status > 0) span.setAttribute('http.response.status_code', status);
    if (errorMessage !== null || status >= 500)
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage ?? `HTTP ${status}` });
    span.end(epochNow());
  }

  /** Ends the client request's `receive` span. */
  finish(call: ClientCall, status: number, version: string, coalesced: boolean): void {
    const t = call.trace;
    if (t === null) return;
    const span = t.span;
    if (version !== '') span.setAttribute('grove.model_version', version);
    span.setAttribute('http.response.status_code', status);
    if (coalesced) span.setAttribute('grove.coalesced', true);
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end(epochNow());
  }
}
