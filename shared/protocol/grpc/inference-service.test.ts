// The service shell with a scripted backend and a generated client: deadlines, cancellation and
// the error-to-status mapping, whatever the backend is (a worker's models, a gateway's forward).
import http2 from 'node:http2';
import { type Client, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BadInputError,
  type GroveError,
  ModelNotFoundError,
  TooManyRowsError,
  UnavailableError,
} from '../../errors/grove-error.js';
import { encodeInferResponse, encodeResponseHead } from './infer-codec.js';
import {
  type CallInfo,
  type GrpcListener,
  type InferenceBackend,
  listenGrpc,
  peerAddress,
} from './inference-service.js';
import { inferenceClient } from './proto-client.js';

let behaviour: (call: CallInfo) => Promise<Buffer> | Buffer = () => Buffer.alloc(0);
let inferCalls = 0;
const finished: Array<{ method: string; code: string | null }> = [];

const backend: InferenceBackend = {
  serverLive: () => true,
  serverReady: () => false,
  modelReady: (name) => {
    if (name !== 'm') throw new ModelNotFoundError(name);
    return true;
  },
  serverMetadata: () => ({ name: 'grove', version: '9.9.9', extensions: [] }),
  modelMetadata: (name) => ({ name, versions: ['1'], platform: 'p', inputs: [], outputs: [] }),
  async modelInfer(_req, call) {
    inferCalls++;
    return { response: await behaviour(call), metadata: null };
  },
  finished: (call, error) => finished.push({ method: call.method, code: error?.code ?? null }),
};

let server: GrpcListener;
let client: Client & Record<string, (...a: unknown[]) => unknown>;

beforeAll(async () => {
  server = await listenGrpc({ host: '127.0.0.1', port: 0, backend, maxMessageBytes: 1024 });
  client = inferenceClient(server.address) as typeof client;
});
afterAll(async () => {
  client.close();
  await server.close(1000);
});

function call<T = any>(
  method: string,
  req: object,
  opts: { deadline?: number } = {},
): Promise<{ value: T; metadata: Metadata }> {
  return new Promise((resolve, reject) => {
    let md = new Metadata();
    const c = client[method]!(req, new Metadata(), opts, (err: ServiceError | null, value: T) =>
      err ? reject(err) : resolve({ value, metadata: md }),
    ) as { on(ev: string, f: (m: Metadata) => void): void };
    c.on('metadata', (m) => (md = m));
  });
}

/** One ModelInfer over plain HTTP/2 with this grpc-timeout; resolves with the trailers. */
async function rawCall(timeout: string): Promise<http2.IncomingHttpHeaders> {
  const session = http2.connect(`http://${server.address}`);
  const req = session.request({
    ':method': 'POST',
    ':path': '/inference.GRPCInferenceService/ModelInfer',
    'content-type': 'application/grpc',
    te: 'trailers',
    'grpc-timeout': timeout,
  });
  const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => {
    req.on('trailers', resolve);
    req.on('response', (h) => {
      if (h['grpc-status'] !== undefined) resolve(h); // a trailers-only answer
    });
  });
  req.end(Buffer.from([0, 0, 0, 0, 0]));
  req.resume();
  const t = await trailers;
  session.close();
  return t;
}

async function failure(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p;
  } catch (e) {
    return e as ServiceError;
  }
  throw new Error('call succeeded');
}

describe('GRPCInferenceService shell', () => {
  it('answers health and metadata from the backend', async () => {
    expect((await call('ServerLive', {})).value.live).toBe(true);
    expect((await call('ServerReady', {})).value.ready).toBe(false);
    expect((await call('ModelReady', { name: 'm' })).value.ready).toBe(true);
    expect((await call('ServerMetadata', {})).value.version).toBe('9.9.9');
    expect((await call('ModelMetadata', { name: 'x' })).value.versions).toEqual(['1']);
  });

  it('maps grove errors to gRPC codes with the catalogue code in trailing metadata', async () => {
    const cases: Array<[Error, status, string]> = [
      [new BadInputError('bad row'), status.INVALID_ARGUMENT, 'GROVE_ERR_BAD_INPUT'],
      [new ModelNotFoundError('nope'), status.NOT_FOUND, 'GROVE_ERR_MODEL_NOT_FOUND'],
      [new UnavailableError('no worker'), status.UNAVAILABLE, 'GROVE_ERR_UNAVAILABLE'],
      [new TooManyRowsError(10, 5), status.RESOURCE_EXHAUSTED, 'GROVE_ERR_TOO_MANY_ROWS'],
      [new Error('secret at 10.0.0.7'), status.INTERNAL, 'GROVE_ERR_INTERNAL'],
    ];
    for (const [err, code, grove] of cases) {
      behaviour = () => {
        throw err;
      };
      const e = await failure(call('ModelInfer', { model_name: 'm' }));
      expect(e.code).toBe(code);
      expect(e.metadata.get('grove-error-code')).toEqual([grove]);
      if (grove === 'GROVE_ERR_INTERNAL') expect(e.details).toBe('internal error');
      else expect(e.details).toBe(err.message);
    }
    const e = await failure(call('ModelReady', { name: 'other' }));
    expect(e.code).toBe(status.NOT_FOUND);
  });

  it('refuses a message over the size limit with RESOURCE_EXHAUSTED', async () => {
    behaviour = () => Buffer.alloc(0);
    const e = await failure(call('ModelInfer', { model_name: 'm', id: 'x'.repeat(4096) }));
    expect(e.code).toBe(status.RESOURCE_EXHAUSTED);
  });

  it('ends a call at its deadline and tells the backend through its signal', async () => {
    let aborted!: (reason: unknown) => void;
    const abortedWith = new Promise((r) => (aborted = r));
    behaviour = (c) =>
      new Promise<Buffer>(() => {
        c.signal.addEventListener('abort', () => aborted(c.signal.reason), { once: true });
      });
    // A raw HTTP/2 client: it keeps the stream open, so only the server's deadline can end the call.
    const t = await rawCall('300m');
    expect(t['grpc-status']).toBe(String(status.DEADLINE_EXCEEDED));
    expect(((await abortedWith) as GroveError).code).toBe('GROVE_ERR_TIMEOUT');
  });

  it('does not start a call whose grpc-timeout has already run out', async () => {
    const before = inferCalls;
    const t = await rawCall('0n');
    expect(t['grpc-status']).toBe(String(status.DEADLINE_EXCEEDED));
    expect(inferCalls).toBe(before);
  });

  it('aborts the backend signal when the client cancels', async () => {
    let aborted!: (reason: unknown) => void;
    const abortedWith = new Promise((r) => (aborted = r));
    let started!: () => void;
    const isStarted = new Promise<void>((r) => (started = r));
    behaviour = (c) =>
      new Promise<Buffer>(() => {
        c.signal.addEventListener('abort', () => aborted(c.signal.reason), { once: true });
        started();
      });
    const c = client.ModelInfer!({ model_name: 'm' }, () => {}) as { cancel(): void };
    await isStarted;
    c.cancel();
    expect(((await abortedWith) as GroveError).code).toBe('GROVE_ERR_ABORTED');
  });

  it('reports every finished call to the backend', async () => {
    behaviour = () => encodeInferResponse(encodeResponseHead('m', '1'), '', [], false);
    finished.length = 0;
    await call('ModelInfer', { model_name: 'm' });
    expect(finished).toEqual([{ method: 'ModelInfer', code: null }]);
  });
});

describe('peerAddress', () => {
  it("takes the port off grpc-js's peer string, IPv4 and IPv6", () => {
    expect(peerAddress('127.0.0.1:5000')).toBe('127.0.0.1');
    expect(peerAddress('[::1]:5000')).toBe('::1');
    expect(peerAddress('::1')).toBe('::1');
    expect(peerAddress('unknown')).toBe('unknown');
  });
});
