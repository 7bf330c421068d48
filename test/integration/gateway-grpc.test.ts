// `grove serve --grpc-port 0` with two real workers, called through a client generated from the
// same .proto (@grpc/proto-loader): ModelInfer at the gateway gives the training library's
// numbers and the same answer as REST through the gateway, the A/B split's sticky key is read
// from gRPC metadata, a worker killed with SIGKILL costs no failed gRPC call, and errors arrive
// as gRPC status codes.
import { type Client, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inferenceClient } from '../../shared/protocol/grpc/proto-client.js';
import {
  admin,
  inParallel,
  predict,
  ROW,
  type Serve,
  startServe,
  twoVersionRepository,
} from './gateway-harness.js';
import { closeTo, fixtureRows, postJson, removeRepository } from './worker-harness.js';

type GrpcClient = Client & Record<string, (...a: unknown[]) => unknown>;
let repo: string;
let s: Serve;
let client: GrpcClient;

beforeAll(async () => {
  repo = twoVersionRepository();
  s = await startServe(repo, ['--workers', '2', '--grpc-port', '0']);
  client = inferenceClient(/grove gateway grpc listening on (\S+)/.exec(s.stdout())![1]!) as GrpcClient;
});
afterAll(async () => {
  client?.close();
  expect(await s?.stop()).toBe(0);
  removeRepository(repo);
});

function call<T = any>(
  method: string,
  req: object,
  md = new Metadata(),
): Promise<{ value: T; metadata: Metadata }> {
  return new Promise((resolve, reject) => {
    let head = new Metadata();
    const c = client[method]!(req, md, (err: ServiceError | null, value: T) =>
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

function fp32(rows: (number | null)[][], extra: object = {}): object {
  return {
    model_name: 'churn',
    inputs: [
      {
        name: 'input-0',
        datatype: 'FP32',
        shape: [rows.length, rows[0]!.length],
        contents: { fp32_contents: rows.flat().map((x) => (x === null ? Number.NaN : x)) },
      },
    ],
    ...extra,
  };
}

describe('grove serve --grpc-port', () => {
  it('serves health and metadata', async () => {
    expect((await call('ServerLive', {})).value.live).toBe(true);
    expect((await call('ServerReady', {})).value.ready).toBe(true);
    expect((await call('ServerMetadata', {})).value.name).toBe('grove');
    expect((await call('ModelReady', { name: 'churn', version: '1' })).value.ready).toBe(true);
    const m = (await call('ModelMetadata', { name: 'churn', version: '1' })).value;
    expect(m).toMatchObject({ name: 'churn', versions: ['1'], platform: 'xgboost_json' });
    expect(m.inputs[0]).toMatchObject({ name: 'input-0', datatype: 'FP32', shape: [-1, 20] });
  });

  it("predicts as the training library does, with REST's numbers through the gateway", async () => {
    const { rows, pred } = fixtureRows('xgboost/xgb-binary-100x4');
    const some = rows.slice(0, 40);
    const r = await call('ModelInfer', fp32(some, { model_version: '1', id: 'g-1' }));
    expect(r.value).toMatchObject({ model_name: 'churn', model_version: '1', id: 'g-1' });
    expect(r.metadata.get('x-grove-model-version')).toEqual(['1']);
    const got = r.value.outputs[0].contents.fp64_contents as number[];
    expect(got).toHaveLength(some.length);
    for (let i = 0; i < got.length; i++) expect(closeTo(got[i]!, pred[i]![0]!)).toBe(true);
    const rest = await postJson(`${s.url}/v2/models/churn/versions/1/infer`, {
      inputs: [{ name: 'input-0', datatype: 'FP32', shape: [some.length, 20], data: some }],
    });
    expect(rest.body.outputs[0].data).toEqual(got);
  });

  it("reads the split's sticky key from metadata: each user gets HTTP's version", async () => {
    expect(
      (
        await admin(s, 'PUT', '/admin/models/churn/split', {
          weights: { '1': 50, '2': 50 },
          sticky: 'x-user-id',
        })
      ).status,
    ).toBe(200);
    const seen = new Set<string>();
    for (let u = 0; u < 16; u++) {
      const user = `user-${u}`;
      const http = await predict(s.url, { 'x-user-id': user });
      const md = new Metadata();
      md.set('x-user-id', user);
      const g = await call('ModelInfer', fp32([ROW]), md);
      expect(g.value.model_version).toBe(http.version);
      seen.add(g.value.model_version);
    }
    expect([...seen].sort()).toEqual(['1', '2']);
  });

  it('a worker killed with SIGKILL costs no failed gRPC call', async () => {
    const pids = /grove workers: ([\d ]+)/.exec(s.stdout())![1]!.trim().split(' ').map(Number);
    let answered = 0;
    let killed = false;
    const results = await inParallel(300, 8, async () => {
      const r = await call('ModelInfer', fp32([ROW], { model_version: '1' }));
      if (++answered === 50 && !killed) {
        killed = true;
        process.kill(pids[0]!, 'SIGKILL');
      }
      return r.value.outputs[0].contents.fp64_contents.length as number;
    });
    expect(killed).toBe(true);
    expect(results.every((n) => n === 1)).toBe(true);
  });

  it('answers errors as gRPC status codes', async () => {
    expect(await failure(call('ModelInfer', fp32([[1, 2]])))).toMatchObject({
      code: status.INVALID_ARGUMENT,
    });
    expect(await failure(call('ModelInfer', fp32([ROW], { model_name: 'nope' })))).toMatchObject({
      code: status.NOT_FOUND,
      grove: 'GROVE_ERR_MODEL_NOT_FOUND',
    });
    expect(await failure(call('ModelMetadata', { name: 'churn', version: '9' }))).toMatchObject({
      code: status.NOT_FOUND,
      grove: 'GROVE_ERR_VERSION_NOT_FOUND',
    });
  });
});
