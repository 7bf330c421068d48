// One trace across processes: `grove serve --grpc-port 0` with OTEL_* set exports the gateway's
// spans (service grove-gateway) and its workers' (grove-worker) to a real OTLP/HTTP JSON receiver;
// the client's traceparent is the parent of the gateway's `receive`, and the worker's `receive` is
// a child of the gateway's `forward`, over HTTP and over gRPC.
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inferenceClient } from '../../shared/protocol/grpc/proto-client.js';
import {
  attr,
  type ExportedSpan,
  newTraceparent,
  type OtlpReceiver,
  startOtlpReceiver,
} from '../support/otlp-receiver.js';
import { ROW, type Serve, startServe, twoVersionRepository } from './gateway-harness.js';
import { postJson, removeRepository } from './worker-harness.js';

let receiver: OtlpReceiver;
let repo: string;
let s: Serve;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  repo = twoVersionRepository();
  s = await startServe(repo, ['--workers', '1', '--spares', '0', '--grpc-port', '0'], {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '50',
  });
});
afterAll(async () => {
  expect(await s?.stop()).toBe(0);
  removeRepository(repo);
  await receiver?.close();
});

function chain(
  got: ExportedSpan[],
  parentId: string,
): { gw: ExportedSpan; forward: ExportedSpan; worker: ExportedSpan } {
  const gw = got.find((x) => x.name === 'receive' && x.service === 'grove-gateway')!;
  const forward = got.find((x) => x.name === 'forward')!;
  const worker = got.find((x) => x.name === 'receive' && x.service === 'grove-worker')!;
  expect(gw.parentSpanId).toBe(parentId);
  expect(forward.parentSpanId).toBe(gw.spanId);
  expect(forward.service).toBe('grove-gateway');
  expect(worker.parentSpanId).toBe(forward.spanId);
  return { gw, forward, worker };
}

async function traceOf(traceId: string): Promise<ExportedSpan[]> {
  await receiver.spansOf(traceId, ['receive'], 2); // the gateway's and the worker's
  return receiver.spansOf(traceId, ['receive', 'forward', 'version choice', 'predict']);
}

describe('a trace through grove serve', () => {
  it('HTTP: client -> gateway receive -> forward -> worker receive -> predict', async () => {
    const tp = newTraceparent();
    const r = await postJson(
      `${s.url}/v2/models/churn/versions/1/infer`,
      { inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 20], data: ROW }] },
      { traceparent: tp.header },
    );
    expect(r.status).toBe(200);
    const { gw, worker } = chain(await traceOf(tp.traceId), tp.parentId);
    expect(attr(gw, 'grove.model')).toBe('churn');
    expect(attr(gw, 'grove.model_version')).toBe('1');
    expect(attr(worker, 'grove.rows')).toBe(1);
  });

  it('gRPC: the same chain from metadata', async () => {
    const tp = newTraceparent();
    const client = inferenceClient(
      /grove gateway grpc listening on (\S+)/.exec(s.stdout())![1]!,
    ) as unknown as Record<string, (...a: unknown[]) => void> & { close(): void };
    const md = new Metadata();
    md.set('traceparent', tp.header);
    await new Promise<void>((resolve, reject) =>
      client.ModelInfer!(
        {
          model_name: 'churn',
          model_version: '2',
          inputs: [{ name: 'input-0', datatype: 'FP64', shape: [1, 20], contents: { fp64_contents: ROW } }],
        },
        md,
        (err: ServiceError | null) => (err ? reject(err) : resolve()),
      ),
    );
    client.close();
    const { gw } = chain(await traceOf(tp.traceId), tp.parentId);
    expect(attr(gw, 'rpc.system')).toBe('grpc');
    expect(attr(gw, 'grove.rows')).toBe(1);
    expect(attr(gw, 'grove.model_version')).toBe('2');
  });
});
