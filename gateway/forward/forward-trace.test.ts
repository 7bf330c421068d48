// The gateway's spans, exported with the OpenTelemetry SDK over OTLP/HTTP JSON to a real receiver
// the test runs: `receive` continues the client's traceparent (HTTP header or gRPC metadata),
// `version choice` and `forward` are its children, the worker gets the `forward` span's context,
// and a coalesced call's `forward` span links every client request it carried.
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inferenceClient } from '../../shared/protocol/grpc/proto-client.js';
import { startTracing, type Tracing } from '../../shared/tracing/tracing.js';
import {
  attr,
  type ExportedSpan,
  newTraceparent,
  type OtlpReceiver,
  startOtlpReceiver,
} from '../../test/support/otlp-receiver.js';
import { type FakeWorker, startFakeWorker } from '../fake-worker.test-helper.js';
import { type Gateway, startGateway } from '../gateway.js';

let receiver: OtlpReceiver;
let tracing: Tracing;
let fake: FakeWorker;
let gw: Gateway;
const saved = { ...process.env };

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  // The SDK's exporter reads its endpoint from process.env (this file's own process).
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
  process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
  process.env.OTEL_BSP_SCHEDULE_DELAY = '20';
  tracing = startTracing({ serviceName: 'grove-gateway' })!;
  fake = await startFakeWorker({ m: ['1', '2'] });
  gw = await startGateway({
    port: 0,
    admin: false,
    grpcPort: 0,
    healthIntervalMs: 60_000,
    coalescePerWorker: 1,
    tracing,
  });
  gw.workers.add('w0', fake.url);
  await gw.health.runOnce();
});

afterAll(async () => {
  await gw?.close();
  await fake?.close();
  await tracing?.shutdown();
  await receiver?.close();
  process.env = saved;
});

function infer(traceparent: string, row: number[], extra: Record<string, string> = {}): Promise<Response> {
  return fetch(`${gw.url}/v2/models/m/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', traceparent, ...extra },
    body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP64', shape: [1, row.length], data: row }] }),
  });
}

function parentIdSent(i: number): string {
  return String(fake.received[i]!.headers.traceparent).split('-')[2]!;
}

function one(spans: ExportedSpan[], name: string): ExportedSpan {
  const s = spans.filter((x) => x.name === name);
  expect(s).toHaveLength(1);
  return s[0]!;
}

describe('gateway spans', () => {
  it('HTTP: receive continues the client trace; version choice and forward are its children', async () => {
    const tp = newTraceparent();
    const r = await infer(tp.header, [1, 2], { tracestate: 'vendor=abc' });
    expect(r.status).toBe(200);
    const got = await receiver.spansOf(tp.traceId, ['receive', 'version choice', 'forward']);
    const receive = one(got, 'receive');
    const choice = one(got, 'version choice');
    const forward = one(got, 'forward');
    expect(receive).toMatchObject({ parentSpanId: tp.parentId, kind: 2, service: 'grove-gateway' });
    expect(attr(receive, 'grove.model')).toBe('m');
    expect(attr(receive, 'grove.model_version')).toBe('2');
    expect(attr(receive, 'http.response.status_code')).toBe(200);
    expect(choice.parentSpanId).toBe(receive.spanId);
    expect(attr(choice, 'grove.model_version')).toBe('2');
    expect(forward).toMatchObject({ parentSpanId: receive.spanId, kind: 3 });
    expect(attr(forward, 'grove.model_version')).toBe('2');
    // The worker continues the gateway's forward span, in the client's trace, with its tracestate.
    const sent = fake.received.at(-1)!.headers;
    expect(sent.traceparent).toBe(`00-${tp.traceId}-${forward.spanId}-01`);
    expect(sent.tracestate).toBe('vendor=abc');
  });

  it('gRPC: the trace context comes from metadata; rows and rpc attributes on receive', async () => {
    const tp = newTraceparent();
    const client = inferenceClient(gw.grpcAddress!) as unknown as Record<
      string,
      (...a: unknown[]) => void
    > & {
      close(): void;
    };
    const md = new Metadata();
    md.set('traceparent', tp.header);
    await new Promise<void>((resolve, reject) =>
      client.ModelInfer!(
        {
          model_name: 'm',
          model_version: '1',
          inputs: [{ name: 'x', datatype: 'FP64', shape: [3, 1], contents: { fp64_contents: [1, 2, 3] } }],
        },
        md,
        (err: ServiceError | null) => (err ? reject(err) : resolve()),
      ),
    );
    client.close();
    const got = await receiver.spansOf(tp.traceId, ['receive', 'forward']);
    const receive = one(got, 'receive');
    expect(receive.parentSpanId).toBe(tp.parentId);
    expect(attr(receive, 'rpc.system')).toBe('grpc');
    expect(attr(receive, 'rpc.method')).toBe('ModelInfer');
    expect(attr(receive, 'grove.rows')).toBe(3);
    expect(attr(receive, 'grove.model_version')).toBe('1');
    const forward = one(got, 'forward');
    expect(parentIdSent(fake.received.length - 1)).toBe(forward.spanId);
  });

  it('a coalesced call links every client request it carries', async () => {
    let release!: () => void;
    fake.predictGate = new Promise<void>((r) => (release = r));
    const before = fake.received.length;
    const first = infer(newTraceparent().header, [0]);
    while (fake.received.length === before) await new Promise((r) => setImmediate(r));
    // One call in flight holds the version's only slot (--coalesce-per-worker 1): these wait and merge.
    const tps = [newTraceparent(), newTraceparent(), newTraceparent()];
    const waiting = tps.map((tp, i) => infer(tp.header, [i + 1]));
    while (gw.admission.inflight < 4) await new Promise((r) => setImmediate(r));
    fake.predictGate = null;
    release();
    for (const r of await Promise.all([first, ...waiting])) expect(r.status).toBe(200);
    expect(fake.calls.at(-1)).toBe(3);
    const receives = await Promise.all(tps.map((tp) => receiver.spansOf(tp.traceId, ['receive'])));
    const ids = receives.map((s) => one(s, 'receive').spanId).sort();
    const merged = await receiver.spansOf(tps[0]!.traceId, ['forward']);
    const forward = one(merged, 'forward');
    expect(attr(forward, 'grove.coalesced_requests')).toBe(3);
    expect(attr(forward, 'grove.rows')).toBe(3);
    expect(forward.links!.map((l) => l.spanId).sort()).toEqual(ids);
    expect(parentIdSent(fake.received.length - 1)).toBe(forward.spanId);
    for (const s of receives) expect(attr(one(s, 'receive'), 'grove.coalesced')).toBe(true);
  });
});
