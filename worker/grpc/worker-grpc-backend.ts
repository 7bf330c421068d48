// The worker's answers to the Open Inference Protocol's gRPC service (shared/protocol/grpc): the
// same repository, parser, predictor, metrics and spans as its REST routes. A ModelInferRequest
// decodes to the REST body the OIP parser takes (worker/routes/predict-routes.ts `inferOn`), so
// both protocols validate and predict through one path; the answer is FP64 `contents`, or
// raw_output_contents when the request sent raw_input_contents (as tritonclient expects).
import { Metadata } from '@grpc/grpc-js';
import {
  type GroveError,
  ModelNotFoundError,
  TimeoutError,
  VersionNotFoundError,
} from '../../shared/errors/grove-error.js';
import { requestIdOf } from '../../shared/http/request-id.js';
import {
  decodeInferRequest,
  encodeInferResponse,
  encodeResponseHead,
  inferRequestBody,
} from '../../shared/protocol/grpc/infer-codec.js';
import {
  type CallInfo,
  type InferAnswer,
  type InferenceBackend,
  SERVICE_NAME,
} from '../../shared/protocol/grpc/inference-service.js';
import type { ModelMetadata } from '../../shared/protocol/grpc/service-messages.js';
import {
  epochNow,
  epochOf,
  type RequestTrace,
  SpanStatusCode,
  traceIdOf,
} from '../../shared/tracing/tracing.js';
import { OUTPUT_NAME } from '../protocol/tensor-input.js';
import type { LoadedVersion } from '../repository/loaded-version.js';
import type { ModelEntry } from '../repository/model-repository.js';
import { serverMetadata, versionTensors } from '../routes/info-routes.js';
import { inferOn } from '../routes/predict-routes.js';
import type { WorkerContext } from '../worker-context.js';

/** What the worker keeps per call (CallInfo.state). */
interface CallState {
  requestId: string;
  requestIds: undefined;
  trace: RequestTrace | null;
  served: LoadedVersion | null;
}

function first(md: Metadata, key: string): string | undefined {
  const v = md.get(key);
  return v.length > 0 && typeof v[0] === 'string' ? v[0] : undefined;
}

export interface WorkerGrpcBackend extends InferenceBackend {
  /** Calls being answered (the in-flight gauge adds them to HTTP's). */
  inflight(): number;
}

export function workerGrpcBackend(w: WorkerContext): WorkerGrpcBackend {
  // Per served version, built once: the response's model name and version, and the answer's
  // metadata (version and digest; the service writes each call's x-request-id into it as it sends).
  const perVersion = new WeakMap<LoadedVersion, { head: Buffer; md: Metadata }>();
  const versionAnswer = (v: LoadedVersion): { head: Buffer; md: Metadata } => {
    let a = perVersion.get(v);
    if (a === undefined) {
      const md = new Metadata();
      md.set('x-request-id', '');
      md.set('x-grove-model-version', v.version);
      md.set('x-grove-model-sha256', v.sha256);
      a = { head: encodeResponseHead(v.name, v.version), md };
      perVersion.set(v, a);
    }
    return a;
  };
  let inflight = 0;

  const begin = (call: CallInfo): CallState => {
    inflight++;
    const md = call.metadata;
    const requestId = requestIdOf({ 'x-request-id': first(md, 'x-request-id') });
    let trace: RequestTrace | null = null;
    if (w.tracing !== null) {
      trace = w.tracing.startRequest('receive', (k) => first(md, k), epochOf(call.start), {
        'rpc.system': 'grpc',
        'rpc.service': SERVICE_NAME,
        'rpc.method': call.method,
        'grove.request_id': requestId,
      });
    }
    const s: CallState = { requestId, requestIds: undefined, trace, served: null };
    call.state = s;
    return s;
  };

  const entry = (name: string): ModelEntry => {
    const e = w.repository.models.get(name);
    if (e === undefined) throw new ModelNotFoundError(name);
    return e;
  };

  /** The version a metadata or readiness call names ('' = the latest READY one, maybe none). */
  const versionOf = (e: ModelEntry, version: string): LoadedVersion | null => {
    if (version === '') return e.latest;
    const s = e.slots.get(version);
    if (s === undefined || s.state === 'UNLOADING') throw new VersionNotFoundError(e.name, version);
    return s.serving;
  };

  return {
    inflight: () => inflight,
    serverLive(call) {
      begin(call);
      return true;
    },
    serverReady(call) {
      begin(call);
      return w.repository.ready && !w.draining;
    },
    modelReady(name, version, call) {
      begin(call);
      return versionOf(entry(name), version) !== null;
    },
    serverMetadata(call) {
      begin(call);
      return serverMetadata(w);
    },
    modelMetadata(name, version, call): ModelMetadata {
      begin(call);
      const e = entry(name);
      const v = versionOf(e, version);
      if (v === null) return { name, versions: e.readyVersions(), platform: '', inputs: [], outputs: [] };
      const t = versionTensors(v);
      return {
        name,
        versions: version === '' ? e.readyVersions() : [v.version],
        platform: v.model.meta.platform,
        inputs: [t.input],
        outputs: [t.output],
      };
    },
    modelInfer(request, call) {
      const s = begin(call);
      const d = decodeInferRequest(request);
      const v = w.repository.resolve(d.modelName, d.modelVersion === '' ? undefined : d.modelVersion);
      s.served = v;
      if (call.deadline <= Date.now()) throw new TimeoutError('deadline exceeded (grpc-timeout)');
      const { p, width, out } = inferOn(w, v, inferRequestBody(d), s);
      const raw = d.rawInputContents.length > 0;
      const va = versionAnswer(v);
      const answer = (values: Float64Array): InferAnswer => ({
        response: encodeInferResponse(
          va.head,
          d.id,
          [{ name: OUTPUT_NAME, shape: width === 1 ? [p.rows] : [p.rows, width], values }],
          raw,
        ),
        metadata: va.md,
        requestId: s.requestId,
      });
      return out instanceof Promise ? out.then(answer) : answer(out);
    },
    finished(call, error: GroveError | null) {
      const s = call.state as CallState | null;
      if (s === null) return; // failed before it began (a deadline already past)
      inflight--;
      const status = error === null ? 200 : error.statusCode;
      w.metrics.record(s.served, `grpc_${call.method}`, status, (performance.now() - call.start) / 1000);
      if (s.trace !== null) {
        const span = s.trace.span;
        if (s.served !== null) {
          span.setAttribute('grove.model', s.served.name);
          span.setAttribute('grove.model_version', s.served.version);
        }
        if (error !== null) {
          span.setAttribute('grove.error_code', error.code);
          if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
        }
        span.end(epochNow());
      }
      if (error !== null && error.code === 'GROVE_ERR_INTERNAL') {
        w.logger.error(
          {
            event: 'request_failed',
            requestId: s.requestId,
            trace_id: s.trace?.traceId ?? traceIdOf(first(call.metadata, 'traceparent')),
            err: (error.cause as Error | undefined)?.stack ?? error.stack,
          },
          'gRPC call failed',
        );
      }
      if (w.logger.isLevelEnabled('debug')) {
        w.logger.debug(
          {
            event: 'request',
            route: `grpc_${call.method}`,
            status,
            ms: Math.round((performance.now() - call.start) * 100) / 100,
            requestId: s.requestId,
            model: s.served?.name,
            version: s.served?.version,
            trace_id: s.trace?.traceId ?? traceIdOf(first(call.metadata, 'traceparent')),
            span_id: s.trace?.spanId,
          },
          'request',
        );
      }
    },
  };
}
