// The gateway's gRPC front over fake workers whose answers the test controls, called through a
// client generated from the .proto (@grpc/proto-loader): ModelInfer goes the HTTP forward path
// (same numbers, sticky users from metadata, retry on another worker), and shedding, grpc-timeout,
// no worker and bad input end as RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, UNAVAILABLE and
// INVALID_ARGUMENT.
import { type Client, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { inferenceClient } from '../../shared/protocol/grpc/proto-client.js';
import { type FakeWorker, startFakeWorker } from '../fake-worker.test-helper.js';
import { type Gateway, type GatewayOptions, startGateway } from '../gateway.js';

type GrpcClient = Client & Record<string, (...a: unknown[]) => unknown>;
let gw: Gateway | undefined;
let fakes: FakeWorker[] = [];
let client: GrpcClient | undefined;
afterEach(async () => {
  client?.close();
  client = undefined;
  await gw?.close();
  gw = undefined;
  await Promise.all(fakes.map((f) => f.close()));
  fakes = [];
});

async function setup(workers: number, extra: GatewayOptions = {}): Promise<Gateway> {
  fakes = await Promise.all(Array.from({ length: workers }, () => startFakeWorker({ m: ['1', '2'] })));
  gw = await startGateway({ port: 0, admin: false, grpcPort: 0, healthIntervalMs: 60_000, ...extra });
  for (let i = 0; i < fakes.length; i++) gw.workers.add(`w${i}`, fakes[i]!.url);
  await gw.health.runOnce();
  client = inferenceClient(gw.grpcAddress!) as GrpcClient;
  return gw;
}

function call<T = any>(
  method: string,
  req: object,
  md = new Metadata(),
  opts: object = {},
): Promise<{ value: T; metadata: Metadata }> {
  return new Promise((resolve, reject) => {
    let head = new Metadata();
    const c = client![method]!(req, md, opts, (err: ServiceError | null, value: T) =>
      err ? reject(err) : resolve({ value, metadata: head }),
    ) as { on(ev: string, f: (m: Metadata) => void): void };
    c.on('metadata', (m) => (head = m));
  });
}

async function failure(p: Promise<unknown>): Promise<{ code: status; grove: unknown }> {
  try {
    await p;
  } catch (e) {
    const err = e as ServiceError;
    return { code: err.code, grove: err.metadata?.get('grove-error-code')[0] };
  }
  throw new Error('the call succeeded');
}

function infer(rows: number[][], extra: object = {}): object {
  return {
    model_name: 'm',
    inputs: [
      {
        name: 'input-0',
        datatype: 'FP64',
        shape: [rows.length, rows[0]!.length],
        contents: { fp64_contents: rows.flat() },
      },
    ],
    ...extra,
  };
}

function hold(): () => void {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  for (const f of fakes) f.predictGate = gate;
  return () => {
    for (const f of fakes) f.predictGate = null;
    release();
  };
}

async function received(n: number): Promise<void> {
  const total = () => fakes.reduce((a, f) => a + f.received.length, 0);
  while (total() < n) await new Promise((r) => setImmediate(r));
}

describe('gateway gRPC ModelInfer', () => {
  it('forwards to a worker and encodes its answer, typed and raw', async () => {
    await setup(1);
    const md = new Metadata();
    md.set('x-request-id', 'grpc-1');
    md.set('traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    const r = await call(
      'ModelInfer',
      infer(
        [
          [1, 2],
          [3, 4],
        ],
        { model_version: '1', id: 'q' },
      ),
      md,
    );
    expect(r.value).toMatchObject({ model_name: 'm', model_version: '1', id: 'q' });
    expect(r.value.outputs[0]).toMatchObject({ name: 'predict', datatype: 'FP64', shape: [2] });
    expect(r.value.outputs[0].contents.fp64_contents).toEqual([30, 70]);
    expect(r.metadata.get('x-request-id')).toEqual(['grpc-1']);
    expect(r.metadata.get('x-grove-model-version')).toEqual(['1']);
    expect(r.metadata.get('x-grove-model-sha256')).toEqual(['sha-1']);
    // The worker got a REST infer with the client's trace context and id, no gRPC fields.
    const got = fakes[0]!.received[0]!;
    expect(got.path).toBe('/v2/models/m/versions/1/infer');
    expect(got.headers.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(got.headers['x-request-id']).toBe('grpc-1');
    expect(got.headers['content-type']).toBe('application/json');
    expect(Object.keys(got.headers).some((k) => k.startsWith('grpc-'))).toBe(false);

    const values = Buffer.from(new Float64Array([1, 1, 2, 2]).buffer);
    const raw = await call('ModelInfer', {
      model_name: 'm',
      model_version: '2',
      inputs: [{ name: 'input-0', datatype: 'FP64', shape: [2, 2] }],
      raw_input_contents: [values],
    });
    const out = raw.value.raw_output_contents[0] as Buffer;
    expect([...new Float64Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.length))]).toEqual([
      200, 400,
    ]);
  });

  it("reads the split's sticky key from metadata, as HTTP reads the header", async () => {
    const g = await setup(1);
    await g.splits.set('m', { weights: { '1': 50, '2': 50 }, sticky: 'x-user-id' });
    const seen = new Set<string>();
    for (let u = 0; u < 24; u++) {
      const md = new Metadata();
      md.set('x-user-id', `user-${u}`);
      const want = g.forwarder.route('m', undefined, `user-${u}`);
      if (!('worker' in want)) throw want;
      for (let k = 0; k < 2; k++) {
        const r = await call('ModelInfer', infer([[1]]), md);
        expect(r.value.model_version).toBe(want.version);
      }
      seen.add(want.version);
    }
    expect([...seen].sort()).toEqual(['1', '2']);
  });

  it('retries a failed worker on another one and ejects it', async () => {
    const g = await setup(2, { policy: 'round-robin' });
    fakes[0]!.status = 503;
    for (let i = 0; i < 12; i++) {
      const r = await call('ModelInfer', infer([[i]], { model_version: '1' }));
      expect(r.value.outputs[0].contents.fp64_contents).toEqual([i * 10]);
    }
    expect(g.workers.get('w0')!.outlier.isEjected(g.workers.now())).toBe(true);
  });
});

describe('gateway gRPC errors', () => {
  it('sheds past --max-inflight with RESOURCE_EXHAUSTED', async () => {
    const g = await setup(1, { maxInflight: 1 });
    const release = hold();
    const first = call('ModelInfer', infer([[1]]));
    await received(1);
    expect(await failure(call('ModelInfer', infer([[2]])))).toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
    });
    release();
    expect((await first).value.outputs[0].contents.fp64_contents).toEqual([100]);
    expect(g.admission.inflight).toBe(0);
  });

  it('honours grpc-timeout: DEADLINE_EXCEEDED and the admission slot released', async () => {
    const g = await setup(1);
    const release = hold();
    const late = await failure(
      call('ModelInfer', infer([[1]]), new Metadata(), { deadline: Date.now() + 300 }),
    );
    expect(late.code).toBe(status.DEADLINE_EXCEEDED);
    // The gateway ends the call itself (its deadline timer or the cancellation), freeing the slot.
    while (g.admission.inflight > 0) await new Promise((r) => setImmediate(r));
    release();
  });

  it('INVALID_ARGUMENT for a malformed request, NOT_FOUND for an unknown model or version', async () => {
    await setup(1);
    const bad = {
      model_name: 'm',
      inputs: [{ name: 'x', datatype: 'FP64', shape: [1, 1], contents: { fp32_contents: [1] } }],
    };
    expect(await failure(call('ModelInfer', bad))).toMatchObject({
      code: status.INVALID_ARGUMENT,
      grove: 'GROVE_ERR_BAD_DATATYPE',
    });
    expect(await failure(call('ModelInfer', infer([[1]], { model_name: 'nope' })))).toMatchObject({
      code: status.NOT_FOUND,
      grove: 'GROVE_ERR_MODEL_NOT_FOUND',
    });
    expect(await failure(call('ModelInfer', infer([[1]], { model_version: '7' })))).toMatchObject({
      code: status.NOT_FOUND,
      grove: 'GROVE_ERR_VERSION_NOT_FOUND',
    });
    expect(fakes[0]!.received).toHaveLength(0);
  });

  it('UNAVAILABLE when no worker can answer', async () => {
    const g = await setup(1);
    g.workers.remove('w0');
    expect(await failure(call('ModelInfer', infer([[1]])))).toMatchObject({ code: status.UNAVAILABLE });
  });
});

describe('gateway gRPC health and metadata', () => {
  it('answers liveness, readiness and model readiness itself; metadata from a worker', async () => {
    await setup(1);
    expect((await call('ServerLive', {})).value.live).toBe(true);
    expect((await call('ServerReady', {})).value.ready).toBe(true);
    expect((await call('ModelReady', { name: 'm', version: '2' })).value.ready).toBe(true);
    expect(await failure(call('ModelReady', { name: 'nope' }))).toMatchObject({ code: status.NOT_FOUND });
    expect(await failure(call('ModelReady', { name: 'm', version: '5' }))).toMatchObject({
      code: status.NOT_FOUND,
    });
  });
});
