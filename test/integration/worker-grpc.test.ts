// A real worker process serving the Open Inference Protocol over gRPC (`--grpc-port 0`), called
// through a client generated from the same .proto by @grpc/proto-loader: health, metadata,
// inference with typed and raw contents against the training library's predictions and the REST
// answer, and every error as its gRPC status code.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Client,
  credentials,
  Metadata,
  makeGenericClientConstructor,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inferenceClient } from '../../shared/protocol/grpc/proto-client.js';
import {
  closeTo,
  fixtureRows,
  makeRepository,
  postJson,
  removeRepository,
  startWorkerProcess,
  type WorkerProcess,
} from './worker-harness.js';

let repo: string;
let w: WorkerProcess;
let client: Client & Record<string, (...a: unknown[]) => unknown>;
let address: string;

beforeAll(async () => {
  repo = makeRepository({
    xgb: { '1': 'xgboost/xgb-binary-100x4', '2': 'lightgbm/lgb-binary-100x4' },
    multi: { '1': 'xgboost/xgb-multiclass' },
  });
  mkdirSync(join(repo, 'broken', '1'), { recursive: true });
  writeFileSync(join(repo, 'broken', '1', 'model.json'), '{"learner": 1}');
  w = await startWorkerProcess(repo, ['--grpc-port', '0', '--max-rows', '500']);
  address = /grove worker grpc listening on (\S+)/.exec(w.stdout())![1]!;
  client = inferenceClient(address) as typeof client;
});

afterAll(async () => {
  client?.close();
  expect(await w.stop()).toBe(0);
  removeRepository(repo);
});

interface Answer<T> {
  value: T;
  metadata: Metadata;
}

function call<T = any>(method: string, req: object, md = new Metadata()): Promise<Answer<T>> {
  return new Promise((resolve, reject) => {
    let head = new Metadata();
    const c = client[method]!(req, md, (err: ServiceError | null, value: T) =>
      err ? reject(err) : resolve({ value, metadata: head }),
    ) as { on(ev: string, f: (m: Metadata) => void): void };
    c.on('metadata', (m) => (head = m));
  });
}

async function failure(p: Promise<unknown>): Promise<{ code: status; grove: unknown; details: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as ServiceError;
    return { code: err.code, grove: err.metadata.get('grove-error-code')[0], details: err.details };
  }
  throw new Error('the call succeeded');
}

function fp32Request(model: string, rows: (number | null)[][], extra: object = {}): object {
  const F = rows[0]!.length;
  return {
    model_name: model,
    inputs: [
      {
        name: 'input-0',
        datatype: 'FP32',
        shape: [rows.length, F],
        contents: { fp32_contents: rows.flat().map((x) => (x === null ? Number.NaN : x)) },
      },
    ],
    ...extra,
  };
}

describe('gRPC health and metadata', () => {
  it('answers ServerLive, ServerReady and ServerMetadata', async () => {
    expect((await call('ServerLive', {})).value.live).toBe(true);
    expect((await call('ServerReady', {})).value.ready).toBe(true);
    const meta = (await call('ServerMetadata', {})).value;
    expect(meta.name).toBe('grove');
    expect(meta.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(meta.extensions).toContain('binary_tensor_data');
  });

  it('answers ModelReady: ready, not ready (failed load), unknown model or version', async () => {
    expect((await call('ModelReady', { name: 'xgb' })).value.ready).toBe(true);
    expect((await call('ModelReady', { name: 'xgb', version: '2' })).value.ready).toBe(true);
    expect((await call('ModelReady', { name: 'broken' })).value.ready).toBe(false);
    expect(await failure(call('ModelReady', { name: 'nope' }))).toMatchObject({
      code: status.NOT_FOUND,
      grove: 'GROVE_ERR_MODEL_NOT_FOUND',
    });
    expect(await failure(call('ModelReady', { name: 'xgb', version: '9' }))).toMatchObject({
      code: status.NOT_FOUND,
      grove: 'GROVE_ERR_VERSION_NOT_FOUND',
    });
  });

  it('answers ModelMetadata with the versions, platform and tensors', async () => {
    const m = (await call('ModelMetadata', { name: 'xgb' })).value;
    expect(m.name).toBe('xgb');
    expect(m.versions).toEqual(['1', '2']);
    expect(m.platform).toBe('lightgbm_text'); // the latest version is the LightGBM file
    expect(m.inputs).toEqual([{ name: 'input-0', datatype: 'FP64', shape: [-1, 20] }]);
    expect(m.outputs).toEqual([{ name: 'output-0', datatype: 'FP64', shape: [-1] }]);
    const v1 = (await call('ModelMetadata', { name: 'xgb', version: '1' })).value;
    expect(v1.versions).toEqual(['1']);
    expect(v1.platform).toBe('xgboost_json');
    expect(v1.inputs[0].datatype).toBe('FP32');
    const multi = (await call('ModelMetadata', { name: 'multi' })).value;
    expect(multi.outputs[0].shape).toEqual([-1, 3]);
  });
});

describe('gRPC ModelInfer', () => {
  it('predicts as the training library does, with the same numbers as REST', async () => {
    // 300 rows: above the worker's inline threshold (256), so this runs on the pool.
    const rows = fixtureRows('xgboost/xgb-binary-100x4').rows.slice(0, 300);
    const pred = fixtureRows('xgboost/xgb-binary-100x4').pred;
    const r = await call('ModelInfer', fp32Request('xgb', rows, { model_version: '1', id: 'batch-7' }));
    expect(r.value.model_name).toBe('xgb');
    expect(r.value.model_version).toBe('1');
    expect(r.value.id).toBe('batch-7');
    expect(r.metadata.get('x-grove-model-version')).toEqual(['1']);
    expect(String(r.metadata.get('x-grove-model-sha256')[0])).toMatch(/^[0-9a-f]{64}$/);
    const out = r.value.outputs[0];
    expect([out.name, out.datatype, out.shape]).toEqual(['output-0', 'FP64', [rows.length]]);
    const got = out.contents.fp64_contents as number[];
    for (let i = 0; i < got.length; i++) expect(closeTo(got[i]!, pred[i]![0]!)).toBe(true);
    const rest = await postJson(`${w.url}/v2/models/xgb/versions/1/infer`, {
      inputs: [{ name: 'input-0', datatype: 'FP32', shape: [rows.length, 20], data: rows }],
    });
    expect(rest.body.outputs[0].data).toEqual(got);
  });

  it('answers each call with its own x-request-id, however many of a version are in flight', async () => {
    // Pool-sized (300 rows) and inline (1 row) calls of one version at once: their answers come
    // back interleaved, each with the request id it was sent with (or a fresh one).
    const all = fixtureRows('xgboost/xgb-binary-100x4').rows;
    const calls = Array.from({ length: 24 }, (_, i) => {
      const md = new Metadata();
      if (i % 3 !== 2) md.set('x-request-id', `req-${i}`);
      const rows = i % 2 === 0 ? all.slice(0, 300) : all.slice(i, i + 1);
      return call('ModelInfer', fp32Request('xgb', rows, { model_version: '1' }), md);
    });
    const answers = await Promise.all(calls);
    const fresh = new Set<string>();
    answers.forEach((a, i) => {
      const id = String(a.metadata.get('x-request-id')[0]);
      if (i % 3 !== 2) expect(id).toBe(`req-${i}`);
      else {
        expect(id).not.toMatch(/^req-/);
        fresh.add(id);
      }
      expect(a.metadata.get('x-grove-model-version')).toEqual(['1']);
    });
    expect(fresh.size).toBe(8);
  });

  it('takes raw_input_contents and answers raw_output_contents ([N, K] for a multiclass model)', async () => {
    const { pred } = fixtureRows('xgboost/xgb-multiclass');
    const rows = fixtureRows('xgboost/xgb-multiclass').rows.slice(0, 100);
    const F = rows[0]!.length;
    const bytes = Buffer.from(new Float64Array(rows.flat().map((x) => (x === null ? Number.NaN : x))).buffer);
    const r = await call('ModelInfer', {
      model_name: 'multi',
      inputs: [{ name: 'input-0', datatype: 'FP64', shape: [rows.length, F] }],
      raw_input_contents: [bytes],
    });
    const out = r.value.outputs[0];
    expect(out.shape).toEqual([rows.length, 3]);
    expect(out.contents).toBeNull();
    const raw = r.value.raw_output_contents[0] as Buffer;
    const values = new Float64Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
    expect(values.length).toBe(rows.length * 3);
    for (let i = 0; i < rows.length; i++) {
      for (let k = 0; k < 3; k++) expect(closeTo(values[i * 3 + k]!, pred[i]![k]!)).toBe(true);
    }
  });

  it('takes named feature columns and the raw parameter, as REST does', async () => {
    const { header, rows } = fixtureRows('xgboost/xgb-binary-100x4');
    const row = rows[0]!;
    const inputs = header.map((name, j) => ({
      name,
      datatype: 'FP64',
      shape: [1],
      contents: { fp64_contents: [row[j] === null ? Number.NaN : row[j]] },
    }));
    const columns = await call('ModelInfer', { model_name: 'xgb', model_version: '1', inputs });
    const whole = await call('ModelInfer', fp32Request('xgb', [row], { model_version: '1' }));
    expect(columns.value.outputs[0].contents.fp64_contents[0]).toBeCloseTo(
      whole.value.outputs[0].contents.fp64_contents[0],
      6,
    );
    const margin = await call(
      'ModelInfer',
      fp32Request('xgb', [row], { model_version: '1', parameters: { raw: { bool_param: true } } }),
    );
    const p = whole.value.outputs[0].contents.fp64_contents[0] as number;
    const m = margin.value.outputs[0].contents.fp64_contents[0] as number;
    expect(closeTo(1 / (1 + Math.exp(-m)), p)).toBe(true);
  });

  it('answers bad input INVALID_ARGUMENT, unknown models NOT_FOUND, limits RESOURCE_EXHAUSTED, no READY version UNAVAILABLE', async () => {
    const row = fixtureRows('xgboost/xgb-binary-100x4').rows[0]!;
    expect(await failure(call('ModelInfer', fp32Request('xgb', [row.slice(0, 5)])))).toMatchObject({
      code: status.INVALID_ARGUMENT,
      grove: 'GROVE_ERR_FEATURE_COUNT',
    });
    const wrongField = {
      model_name: 'xgb',
      inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 20], contents: { int_contents: [1] } }],
    };
    expect(await failure(call('ModelInfer', wrongField))).toMatchObject({
      code: status.INVALID_ARGUMENT,
      grove: 'GROVE_ERR_BAD_DATATYPE',
    });
    expect(await failure(call('ModelInfer', fp32Request('nope', [row])))).toMatchObject({
      code: status.NOT_FOUND,
      grove: 'GROVE_ERR_MODEL_NOT_FOUND',
    });
    expect(
      await failure(call('ModelInfer', fp32Request('xgb', [row], { model_version: '7' }))),
    ).toMatchObject({
      code: status.NOT_FOUND,
      grove: 'GROVE_ERR_VERSION_NOT_FOUND',
    });
    const many = Array.from({ length: 501 }, () => row);
    expect(await failure(call('ModelInfer', fp32Request('xgb', many)))).toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      grove: 'GROVE_ERR_TOO_MANY_ROWS',
    });
    expect(await failure(call('ModelInfer', fp32Request('broken', [row])))).toMatchObject({
      code: status.UNAVAILABLE,
      grove: 'GROVE_ERR_MODEL_UNAVAILABLE',
    });
  });

  it('answers a malformed protobuf message INVALID_ARGUMENT and keeps serving', async () => {
    const id = (b: Buffer) => b;
    const Raw = makeGenericClientConstructor(
      {
        ModelInfer: {
          path: '/inference.GRPCInferenceService/ModelInfer',
          requestStream: false,
          responseStream: false,
          requestSerialize: id,
          requestDeserialize: id,
          responseSerialize: id,
          responseDeserialize: id,
        },
      },
      'Raw',
    );
    const raw = new Raw(address, credentials.createInsecure()) as unknown as Client & {
      ModelInfer(b: Buffer, cb: (e: ServiceError | null) => void): void;
    };
    for (const bytes of [Buffer.from([0x0a, 0x7f, 0x78]), Buffer.alloc(11, 0xff)]) {
      const e = await new Promise<ServiceError>((resolve, reject) =>
        raw.ModelInfer(bytes, (err) => (err ? resolve(err) : reject(new Error('accepted')))),
      );
      expect(e.code).toBe(status.INVALID_ARGUMENT);
      expect(e.metadata.get('grove-error-code')[0]).toBe('GROVE_ERR_BAD_PROTOBUF');
    }
    raw.close();
    expect((await call('ServerLive', {})).value.live).toBe(true);
  });

  it('counts gRPC calls in the worker metrics, next to process_*, nodejs_* and grove_build_info', async () => {
    const text = await (await fetch(`${w.url}/metrics`)).text();
    expect(text).toMatch(/^process_cpu_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    expect(text).toMatch(
      /^grove_build_info\{version="\d+\.\d+\.\d+[^"]*",revision="[^"]*",component="worker"\} 1$/m,
    );
    expect(text).toMatch(
      /grove_worker_requests_total\{[^}]*route="grpc_ModelInfer"[^}]*code="200"[^}]*\} [1-9]/,
    );
    expect(text).toMatch(
      /grove_worker_requests_total\{[^}]*route="grpc_ModelInfer"[^}]*code="400"[^}]*\} [1-9]/,
    );
  });
});
