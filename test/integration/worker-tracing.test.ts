// OpenTelemetry from a real worker to a real OTLP/HTTP receiver (a node:http server decoding the
// JSON export, OTEL_EXPORTER_OTLP_PROTOCOL=http/json): the caller's W3C traceparent is the parent
// of the worker's `receive` span over HTTP and gRPC, `queue` and `predict` are its children with
// model, version and row count, the resource names grove-worker, and log lines carry trace_id
// (with tracing off too, when the caller sent a traceparent).
import { type Client, Metadata, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inferenceClient } from '../../shared/protocol/grpc/proto-client.js';
import { attr, newTraceparent, type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver.js';
import {
  fixtureRows,
  makeRepository,
  postJson,
  removeRepository,
  startWorkerProcess,
  type WorkerProcess,
} from './worker-harness.js';

let receiver: OtlpReceiver;
let repo: string;
let w: WorkerProcess;
const spansOf = (traceId: string, names: string[]) => receiver.spansOf(traceId, names);
const traceparent = newTraceparent;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  repo = makeRepository({ churn: { '1': 'xgboost/xgb-binary-100x4' } });
  w = await startWorkerProcess(repo, ['--grpc-port', '0', '--log-level', 'debug', '--no-monitor'], {
    ...process.env,
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '50',
  });
});

afterAll(async () => {
  expect(await w.stop()).toBe(0);
  removeRepository(repo);
  await receiver.close();
});

describe('OpenTelemetry traces from a worker', () => {
  it('continues the caller trace over HTTP: receive, then predict, with model, version and rows', async () => {
    const tp = traceparent();
    const row = fixtureRows('xgboost/xgb-binary-100x4').rows[0]!;
    const r = await postJson(
      `${w.url}/v2/models/churn/infer`,
      { inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 20], data: row }] },
      { traceparent: tp.header, tracestate: 'vendor=abc' },
    );
    expect(r.status).toBe(200);
    const got = await spansOf(tp.traceId, ['receive', 'predict']);
    const receive = got.find((s) => s.name === 'receive')!;
    const predict = got.find((s) => s.name === 'predict')!;
    expect(receive.parentSpanId).toBe(tp.parentId);
    expect(receive.kind).toBe(2); // SPAN_KIND_SERVER
    expect(receive.service).toBe('grove-worker');
    expect(attr(receive, 'grove.model')).toBe('churn');
    expect(attr(receive, 'grove.model_version')).toBe('1');
    expect(attr(receive, 'grove.rows')).toBe(1);
    expect(attr(receive, 'http.response.status_code')).toBe(200);
    expect(predict.parentSpanId).toBe(receive.spanId);
    expect(attr(predict, 'grove.rows')).toBe(1);
    expect(attr(predict, 'grove.model')).toBe('churn');
  });

  it('puts a queue span before predict for a request run on the pool', async () => {
    const tp = traceparent();
    const rows = fixtureRows('xgboost/xgb-binary-100x4').rows.slice(0, 300);
    const r = await postJson(
      `${w.url}/v2/models/churn/infer`,
      { inputs: [{ name: 'input-0', datatype: 'FP32', shape: [300, 20], data: rows }] },
      { traceparent: tp.header },
    );
    expect(r.status).toBe(200);
    const got = await spansOf(tp.traceId, ['receive', 'queue', 'predict']);
    const receive = got.find((s) => s.name === 'receive')!;
    for (const name of ['queue', 'predict']) {
      const s = got.find((x) => x.name === name)!;
      expect(s.parentSpanId).toBe(receive.spanId);
      expect(attr(s, 'grove.rows')).toBe(300);
    }
  });

  it('continues the caller trace over gRPC from the traceparent metadata', async () => {
    const address = /grove worker grpc listening on (\S+)/.exec(w.stdout())![1]!;
    const client = inferenceClient(address) as Client & {
      ModelInfer(r: object, md: Metadata, cb: (e: ServiceError | null) => void): void;
    };
    const tp = traceparent();
    const md = new Metadata();
    md.set('traceparent', tp.header);
    const row = fixtureRows('xgboost/xgb-binary-100x4').rows[0]!.map((x) => x ?? Number.NaN);
    await new Promise<void>((resolve, reject) =>
      client.ModelInfer(
        {
          model_name: 'churn',
          inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 20], contents: { fp32_contents: row } }],
        },
        md,
        (err) => (err ? reject(err) : resolve()),
      ),
    );
    client.close();
    const got = await spansOf(tp.traceId, ['receive', 'predict']);
    const receive = got.find((s) => s.name === 'receive')!;
    expect(receive.parentSpanId).toBe(tp.parentId);
    expect(attr(receive, 'rpc.system')).toBe('grpc');
    expect(attr(receive, 'rpc.method')).toBe('ModelInfer');
    expect(attr(receive, 'grove.model')).toBe('churn');
    expect(got.find((s) => s.name === 'predict')!.parentSpanId).toBe(receive.spanId);
  });

  it('writes the trace id into the request log line', async () => {
    const tp = traceparent();
    await fetch(`${w.url}/v2/models/churn`, { headers: { traceparent: tp.header } });
    for (;;) {
      // Listen before looking, so a line that lands in between is not missed.
      const more = new Promise<void>((r) => w.child.stderr!.once('data', () => r()));
      const line = w
        .stderr()
        .split('\n')
        .find((l) => l.includes(tp.traceId));
      if (line !== undefined) {
        const rec = JSON.parse(line) as Record<string, unknown>;
        expect(rec.event).toBe('request');
        expect(rec.trace_id).toBe(tp.traceId);
        break;
      }
      await more;
    }
  });
});

/** The first log line of `w` that mentions `text`, once it has been written. */
async function logLineWith(wp: WorkerProcess, text: string): Promise<Record<string, unknown>> {
  for (;;) {
    // Listen before looking, so a line that lands in between is not missed.
    const more = new Promise<void>((r) => wp.child.stderr!.once('data', () => r()));
    const line = wp
      .stderr()
      .split('\n')
      .find((l) => l.includes(text));
    if (line !== undefined) return JSON.parse(line) as Record<string, unknown>;
    await more;
  }
}

describe('log lines with tracing off', () => {
  let off: WorkerProcess;
  beforeAll(async () => {
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('OTEL_')) delete env[k];
    off = await startWorkerProcess(repo, ['--grpc-port', '0', '--log-level', 'debug', '--no-monitor'], env);
  });
  afterAll(async () => {
    expect(await off.stop()).toBe(0);
  });

  it('carry the trace id of the traceparent that came in, over HTTP and gRPC', async () => {
    const tp = traceparent();
    const row = fixtureRows('xgboost/xgb-binary-100x4').rows[0]!;
    const r = await postJson(
      `${off.url}/v2/models/churn/infer`,
      { inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 20], data: row }] },
      { traceparent: tp.header, 'x-request-id': 'off-http' },
    );
    expect(r.status).toBe(200);
    const http = await logLineWith(off, '"off-http"');
    expect(http).toMatchObject({ event: 'request', trace_id: tp.traceId });
    expect(http.span_id).toBeUndefined();

    const address = /grove worker grpc listening on (\S+)/.exec(off.stdout())![1]!;
    const client = inferenceClient(address) as Client & {
      ModelInfer(r: object, md: Metadata, cb: (e: ServiceError | null) => void): void;
    };
    const md = new Metadata();
    md.set('traceparent', tp.header);
    md.set('x-request-id', 'off-grpc');
    await new Promise<void>((resolve, reject) =>
      client.ModelInfer(
        {
          model_name: 'churn',
          inputs: [
            {
              name: 'input-0',
              datatype: 'FP32',
              shape: [1, 20],
              contents: { fp32_contents: row.map((x) => x ?? Number.NaN) },
            },
          ],
        },
        md,
        (err) => (err ? reject(err) : resolve()),
      ),
    );
    client.close();
    const grpc = await logLineWith(off, '"off-grpc"');
    expect(grpc).toMatchObject({ event: 'request', route: 'grpc_ModelInfer', trace_id: tp.traceId });
  });
});
