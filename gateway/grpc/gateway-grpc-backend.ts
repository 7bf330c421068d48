// The gateway's answers to the Open Inference Protocol's gRPC service (shared/protocol/grpc). A
// ModelInfer becomes the REST infer body it is equivalent to (infer-codec.ts `inferRequestBody`)
// and runs through the same Forwarder as an HTTP request: admission and shedding, the split and
// its sticky key (read from the gRPC metadata key the split names, as HTTP reads the header),
// coalescing, the worker policy, retries and ejection. The worker's JSON answer is encoded back as
// a ModelInferResponse. Metadata calls go to one worker holding the model (or any worker), with
// the same retry rules; liveness and readiness are the gateway's own (gateway/README.md).
import type { IncomingHttpHeaders } from 'node:http';
import { Metadata } from '@grpc/grpc-js';
import { GroveError, ModelNotFoundError, VersionNotFoundError } from '../../shared/errors/grove-error.js';
import type { Reply } from '../../shared/http/reply.js';
import { requestIdOf } from '../../shared/http/request-id.js';
import {
  decodeInferRequest,
  encodeInferResponse,
  encodeResponseHead,
  type InferOutputTensor,
  inferRequestBody,
} from '../../shared/protocol/grpc/infer-codec.js';
import type {
  CallInfo,
  InferAnswer,
  InferenceBackend,
} from '../../shared/protocol/grpc/inference-service.js';
import type { ModelMetadata, ServerMetadata } from '../../shared/protocol/grpc/service-messages.js';
import type { Forwarder } from '../forward/forwarder.js';
import type { CallTarget, UpstreamCaller } from '../forward/upstream-call.js';
import type { WorkerSet } from '../upstream/worker-set.js';

/** gRPC's own fields and binary values never become HTTP headers for a worker. */
function headersOf(md: Metadata): IncomingHttpHeaders {
  const h: IncomingHttpHeaders = {};
  const m = md.getMap();
  for (const k in m) {
    if (k.startsWith('grpc-') || k.endsWith('-bin') || k.startsWith(':')) continue;
    if (k === 'content-type' || k === 'user-agent' || k === 'te' || k === 'content-length') continue;
    const v = m[k];
    if (typeof v === 'string') h[k] = v;
  }
  h['content-type'] = 'application/json';
  return h;
}

/** Collects the forward path's answer (status, flat headers, body) as a promise. */
class GrpcReply implements Reply {
  done = false;
  private resolve!: (a: { status: number; headers: string[]; body: string | Buffer }) => void;
  readonly answer = new Promise<{ status: number; headers: string[]; body: string | Buffer }>(
    (r) => (this.resolve = r),
  );
  send(status: number, headers: string[], body: string | Buffer): void {
    if (this.done) return;
    this.done = true;
    this.resolve({ status, headers, body });
  }
}

function errorOf(status: number, body: string | Buffer): GroveError {
  try {
    const e = JSON.parse(body.toString()) as { error?: unknown; code?: unknown };
    if (typeof e.error === 'string') return GroveError.fromWire(e.error, e.code);
  } catch {
    // not JSON: fall through
  }
  return new GroveError(
    `the worker answered HTTP ${status}`,
    status >= 500 ? 'GROVE_ERR_UPSTREAM' : 'GROVE_ERR_INTERNAL',
  );
}

interface RestOutput {
  name?: unknown;
  shape?: unknown;
  data?: unknown;
}

/** A worker's REST infer answer's outputs as FP64 tensors (null stands for NaN, as grove writes it). */
function outputsOf(answer: { outputs?: unknown }): InferOutputTensor[] {
  const outs = Array.isArray(answer.outputs) ? (answer.outputs as RestOutput[]) : [];
  return outs.map((o) => {
    const data = Array.isArray(o.data) ? (o.data as unknown[]) : [];
    const values = new Float64Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const x = data[i];
      values[i] = typeof x === 'number' ? x : typeof x === 'boolean' ? Number(x) : Number.NaN;
    }
    const shape = Array.isArray(o.shape) ? (o.shape as number[]) : [values.length];
    return { name: typeof o.name === 'string' ? o.name : '', shape, values };
  });
}

const ANSWER_METADATA = ['x-grove-model-version', 'x-grove-model-sha256'];

export function gatewayGrpcBackend(
  forwarder: Forwarder,
  caller: UpstreamCaller,
  workers: WorkerSet,
): InferenceBackend {
  const heads = new Map<string, Buffer>();
  const headOf = (name: string, version: string): Buffer => {
    const key = `${name}\u0000${version}`;
    let h = heads.get(key);
    if (h === undefined) {
      h = encodeResponseHead(name, version);
      if (heads.size < 10_000) heads.set(key, h);
    }
    return h;
  };

  /** A GET to one worker (retried elsewhere as any upstream call), its 200 JSON or its error. */
  const getJson = (target: CallTarget, path: string, call: CallInfo): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const requestId = requestIdOf({ 'x-request-id': call.metadata.get('x-request-id')[0] as string });
      caller.call(
        {
          target,
          method: 'GET',
          path,
          headers: ['x-request-id', requestId],
          body: null,
          weight: 1,
          abandoned: null,
        },
        (err, a) => {
          if (err !== null) reject(err);
          else if (a!.status !== 200) reject(errorOf(a!.status, a!.body));
          else {
            try {
              resolve(JSON.parse(a!.body.toString()));
            } catch {
              reject(errorOf(502, ''));
            }
          }
        },
      );
    });

  return {
    serverLive: () => true,
    serverReady: () => workers.ready(),
    modelReady(name, version) {
      const err = forwarder.versions.check(name, version === '' ? undefined : version);
      if (err instanceof ModelNotFoundError || err instanceof VersionNotFoundError) throw err;
      if (err !== null) return false;
      return version === '' ? workers.latestUsable(name) !== undefined : workers.hasUsable(name, version);
    },
    async serverMetadata(call) {
      return (await getJson({ model: null, version: null }, '/v2', call)) as ServerMetadata;
    },
    async modelMetadata(name, version, call) {
      const err = forwarder.versions.check(name, version === '' ? undefined : version);
      if (err !== null) throw err;
      const m = encodeURIComponent(name);
      const path =
        version === '' ? `/v2/models/${m}` : `/v2/models/${m}/versions/${encodeURIComponent(version)}`;
      return (await getJson(
        { model: name, version: version === '' ? null : version },
        path,
        call,
      )) as ModelMetadata;
    },
    modelInfer(request, call): Promise<InferAnswer> {
      const d = decodeInferRequest(request);
      // Validates contents against datatypes and raw_input_contents against inputs before anything is sent.
      const b = inferRequestBody(d);
      // Only the members the request has: a plain `{id, inputs}` body can join a coalesced lane
      // with HTTP clients' rows (forward/predict-codec.ts).
      const rest: Record<string, unknown> = {};
      if (b.id !== undefined) rest.id = b.id;
      if (Object.keys(b.parameters).length > 0) rest.parameters = b.parameters;
      if (b.outputs !== undefined) rest.outputs = b.outputs;
      rest.inputs = b.inputs;
      const body = Buffer.from(JSON.stringify(rest));
      const headers = headersOf(call.metadata);
      if (Number.isFinite(call.deadline)) {
        // grpc-timeout becomes the forward path's own deadline (x-grove-deadline-ms): it drops the
        // request wherever it still waits and answers DEADLINE_EXCEEDED.
        const left = Math.max(1, Math.ceil(call.deadline - Date.now()));
        const asked = Number(headers['x-grove-deadline-ms']);
        if (!(asked >= 1 && asked < left)) headers['x-grove-deadline-ms'] = String(Math.min(left, 3_600_000));
      }
      const requestId = requestIdOf(headers);
      const reply = new GrpcReply();
      const c = forwarder.open(reply, requestId, call.peer, headers);
      if (c !== null) {
        // A cancelled call (or one past its grpc-timeout) ends at once: its admission slot is freed
        // and a copy still queued for a worker is dropped (the forward path's `abandoned`).
        call.signal.addEventListener('abort', () => forwarder.fail(c, call.signal.reason), { once: true });
        forwarder.predict(
          {
            verb: 'infer',
            model: d.modelName,
            version: d.modelVersion === '' ? undefined : d.modelVersion,
            query: '',
            headers,
            body,
            peer: call.peer,
            secure: false,
            grpc: true,
            ...(d.inputs[0]?.shape[0] === undefined ? {} : { rows: d.inputs[0].shape[0] }),
          },
          c,
        );
      }
      const raw = d.rawInputContents.length > 0;
      return reply.answer.then(({ status, headers: h, body: text }) => {
        if (status !== 200) throw errorOf(status, text);
        const md = new Metadata();
        md.set('x-request-id', requestId);
        for (let i = 0; i < h.length; i += 2) if (ANSWER_METADATA.includes(h[i]!)) md.set(h[i]!, h[i + 1]!);
        const a = JSON.parse(text.toString()) as {
          model_name?: unknown;
          model_version?: unknown;
          outputs?: unknown;
        };
        const name = typeof a.model_name === 'string' ? a.model_name : d.modelName;
        const version = typeof a.model_version === 'string' ? a.model_version : '';
        return {
          response: encodeInferResponse(headOf(name, version), d.id, outputsOf(a), raw),
          metadata: md,
        };
      });
    },
  };
}
