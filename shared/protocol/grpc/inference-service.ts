// The Open Inference Protocol's gRPC service (inference.GRPCInferenceService) on @grpc/grpc-js,
// parameterised by a backend: a worker answers from its own models, a gateway by forwarding. The
// service owns what every grove gRPC server shares: the method table (messages stay Buffers:
// the backend decodes what it needs, a forwarder nothing), grpc-timeout (a call whose deadline
// has passed is not started; the backend gets an AbortSignal for the rest), errors as gRPC
// status codes with the catalogue code in trailing metadata, and graceful shutdown.
import {
  type Metadata,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServiceDefinition,
  type sendUnaryData,
  status,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { GroveError, TimeoutError, toGroveError } from '../../errors/grove-error.js';
import { grpcErrorOf } from './grpc-status.js';
import {
  decodeModelRef,
  encodeBool,
  encodeModelMetadata,
  encodeServerMetadata,
  type ModelMetadata,
  type ServerMetadata,
} from './service-messages.js';

export const SERVICE_NAME = 'inference.GRPCInferenceService';
export const METHODS = [
  'ServerLive',
  'ServerReady',
  'ModelReady',
  'ServerMetadata',
  'ModelMetadata',
  'ModelInfer',
] as const;
export type MethodName = (typeof METHODS)[number];

const identity = (b: Buffer): Buffer => b;

/** The method table with Buffer messages: (de)serialisation is the backend's, on its own terms. */
export const INFERENCE_SERVICE: ServiceDefinition = Object.fromEntries(
  METHODS.map((name) => [
    name,
    {
      path: `/${SERVICE_NAME}/${name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
      originalName: name,
    },
  ]),
);

/** What a backend learns of a call besides its message. */
export interface CallInfo {
  readonly method: MethodName;
  readonly metadata: Metadata;
  /** The client's address without its port ('' when unknown): a gateway's per-client share. */
  readonly peer: string;
  /** performance.now() when the call arrived. */
  readonly start: number;
  /** Epoch milliseconds of the client's deadline (grpc-timeout); Infinity without one. */
  readonly deadline: number;
  /** Aborted when the deadline passes or the client cancels (created on first use). */
  readonly signal: AbortSignal;
  /** The backend's own per-call state (request id, spans, the served version), null until set. */
  state: unknown;
}

export interface InferAnswer {
  /** The encoded ModelInferResponse. */
  response: Buffer;
  /** Initial metadata to send with it (the served version, the request id), or null. */
  metadata: Metadata | null;
  /**
   * When set, written into `metadata` as x-request-id just before it is sent: `metadata` may then
   * be one object shared by every call answered by a version (grpc-js reads it synchronously).
   */
  requestId?: string;
}

export interface InferenceBackend {
  serverLive(call: CallInfo): boolean;
  serverReady(call: CallInfo): boolean;
  /** Throws a not-found GroveError for an unknown model or version. */
  modelReady(name: string, version: string, call: CallInfo): boolean | Promise<boolean>;
  serverMetadata(call: CallInfo): ServerMetadata | Promise<ServerMetadata>;
  modelMetadata(name: string, version: string, call: CallInfo): ModelMetadata | Promise<ModelMetadata>;
  /** `request` is the ModelInferRequest as received. */
  modelInfer(request: Buffer, call: CallInfo): InferAnswer | Promise<InferAnswer>;
  /** Called once per call when its answer (or error) is sent: metrics, logs, spans. */
  finished?(call: CallInfo, error: GroveError | null): void;
}

class GrpcCall implements CallInfo {
  readonly start = performance.now();
  readonly deadline: number;
  state: unknown = null;
  private controller: AbortController | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly method: MethodName,
    private readonly call: ServerUnaryCall<Buffer, Buffer>,
  ) {
    const d = call.getDeadline();
    this.deadline = d instanceof Date ? d.getTime() : d;
  }

  get metadata(): Metadata {
    return this.call.metadata;
  }

  get peer(): string {
    return peerAddress(this.call.getPeer());
  }

  get signal(): AbortSignal {
    if (this.controller === null) {
      const c = new AbortController();
      this.controller = c;
      // grpc-js ends a call at its deadline itself and reports that as a cancellation too.
      this.call.once('cancelled', () =>
        c.abort(
          Date.now() >= this.deadline
            ? new TimeoutError('deadline exceeded (grpc-timeout)')
            : new GroveError('the client cancelled the call', 'GROVE_ERR_ABORTED'),
        ),
      );
      if (Number.isFinite(this.deadline)) {
        this.timer = setTimeout(
          () => c.abort(new TimeoutError('deadline exceeded (grpc-timeout)')),
          Math.max(0, this.deadline - Date.now()),
        );
      }
    }
    return this.controller.signal;
  }

  done(): void {
    if (this.timer !== null) clearTimeout(this.timer);
  }
}

/** `host:port` or `[v6]:port` (grpc-js getPeer) -> the address alone. */
export function peerAddress(p: string): string {
  if (p.startsWith('[')) {
    const end = p.indexOf(']');
    return end < 0 ? p : p.slice(1, end);
  }
  const colon = p.lastIndexOf(':');
  return colon < 0 || p.indexOf(':') !== colon ? p : p.slice(0, colon);
}

type Work = (request: Buffer, call: GrpcCall) => Buffer | InferAnswer | Promise<Buffer | InferAnswer>;

export function createInferenceHandlers(backend: InferenceBackend): UntypedServiceImplementation {
  const handler =
    (method: MethodName, work: Work) =>
    (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void => {
      const info = new GrpcCall(method, call);
      const fail = (err: unknown): void => {
        info.done();
        const e = grpcErrorOf(err);
        backend.finished?.(info, toGroveError(err));
        callback(e);
      };
      const ok = (answer: Buffer | InferAnswer): void => {
        info.done();
        backend.finished?.(info, null);
        if (Buffer.isBuffer(answer)) callback(null, answer);
        else {
          const md = answer.metadata;
          if (md !== null) {
            if (answer.requestId !== undefined) md.set('x-request-id', answer.requestId);
            call.sendMetadata(md);
          }
          callback(null, answer.response);
        }
      };
      if (info.deadline <= Date.now()) {
        fail(new TimeoutError('deadline exceeded before the call started (grpc-timeout)'));
        return;
      }
      let r: ReturnType<Work>;
      try {
        r = work(call.request, info);
      } catch (err) {
        fail(err);
        return;
      }
      if (r instanceof Promise) r.then(ok, fail);
      else ok(r);
    };
  const modelRef = (f: (name: string, version: string, call: GrpcCall) => Buffer | Promise<Buffer>): Work => {
    return (req, call) => {
      const { name, version } = decodeModelRef(req);
      return f(name, version, call);
    };
  };
  const then = <T>(x: T | Promise<T>, f: (v: T) => Buffer): Buffer | Promise<Buffer> =>
    x instanceof Promise ? x.then(f) : f(x);
  return {
    ServerLive: handler('ServerLive', (_r, c) => encodeBool(backend.serverLive(c))),
    ServerReady: handler('ServerReady', (_r, c) => encodeBool(backend.serverReady(c))),
    ModelReady: handler(
      'ModelReady',
      modelRef((n, v, c) => then(backend.modelReady(n, v, c), encodeBool)),
    ),
    ServerMetadata: handler('ServerMetadata', (_r, c) =>
      then(backend.serverMetadata(c), encodeServerMetadata),
    ),
    ModelMetadata: handler(
      'ModelMetadata',
      modelRef((n, v, c) => then(backend.modelMetadata(n, v, c), encodeModelMetadata)),
    ),
    ModelInfer: handler('ModelInfer', (r, c) => backend.modelInfer(r, c)),
  };
}

export interface GrpcListenOptions {
  host: string;
  port: number;
  backend: InferenceBackend;
  /** Largest request message accepted (RESOURCE_EXHAUSTED above it). */
  maxMessageBytes: number;
}

export interface GrpcListener {
  port: number;
  /** `host:port` as a gRPC client dials it. */
  address: string;
  /** Stops accepting calls, lets in-flight calls finish for up to `graceMs`, then cuts the rest. */
  close(graceMs: number): Promise<void>;
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function listenGrpc(opts: GrpcListenOptions): Promise<GrpcListener> {
  const server = new Server({
    'grpc.max_receive_message_length': opts.maxMessageBytes,
    'grpc.max_send_message_length': -1,
    // Channelz keeps per-call bookkeeping for an admin service grove does not serve.
    'grpc.enable_channelz': 0,
  });
  server.addService(INFERENCE_SERVICE, createInferenceHandlers(opts.backend));
  return new Promise((resolve, reject) => {
    server.bindAsync(hostPort(opts.host, opts.port), ServerCredentials.createInsecure(), (err, port) => {
      if (err) {
        reject(err);
        return;
      }
      const dialHost = opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host === '::' ? '::1' : opts.host;
      let closing: Promise<void> | null = null;
      resolve({
        port,
        address: hostPort(dialHost, port),
        close(graceMs) {
          closing ??= new Promise<void>((done) => {
            const force = setTimeout(() => server.forceShutdown(), graceMs);
            server.tryShutdown(() => {
              clearTimeout(force);
              done();
            });
          });
          return closing;
        },
      });
    });
  });
}

/** For clients and tests: a status code's name (`status[code]`). */
export function statusName(code: number): string {
  return status[code] ?? String(code);
}
