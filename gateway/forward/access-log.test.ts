// The gateway's log lines carry the trace a request belongs to: the debug access line of every
// request (the client's traceparent's trace id with tracing off; the gateway's own trace, the one
// the worker is told, with tracing on) and the upstream-failure line of a call that failed.
import { Writable } from 'node:stream';
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inferenceClient } from '../../shared/protocol/grpc/proto-client.js';
import { startTracing, type Tracing, traceIdOf } from '../../shared/tracing/tracing.js';
import { newTraceparent, type OtlpReceiver, startOtlpReceiver } from '../../test/support/otlp-receiver.js';
import { type FakeWorker, startFakeWorker } from '../fake-worker.test-helper.js';
import { type Gateway, startGateway } from '../gateway.js';

type Line = Record<string, unknown>;

/** A pino destination that keeps the lines and wakes whoever waits for one. */
function lineSink(): { stream: Writable; next(match: (l: Line) => boolean): Promise<Line> } {
  const lines: Line[] = [];
  let waiters: Array<() => void> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const text of chunk.toString('utf8').split('\n')) if (text !== '') lines.push(JSON.parse(text));
      const w = waiters;
      waiters = [];
      for (const f of w) f();
      done();
    },
  });
  const next = async (match: (l: Line) => boolean): Promise<Line> => {
    for (;;) {
      const found = lines.find(match);
      if (found !== undefined) return found;
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  return { stream, next };
}

function infer(url: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${url}/v2/models/m/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP64', shape: [1, 2], data: [1, 2] }] }),
  });
}

describe('gateway log lines carry trace_id', () => {
  let fake: FakeWorker;
  let receiver: OtlpReceiver;
  let tracing: Tracing;
  const off = lineSink();
  const on = lineSink();
  let gwOff: Gateway;
  let gwOn: Gateway;
  const saved = { ...process.env };

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
    tracing = startTracing({ serviceName: 'grove-gateway' })!;
    fake = await startFakeWorker({ m: ['1'] });
    const common = { port: 0, admin: false, healthIntervalMs: 60_000 } as const;
    gwOff = await startGateway({ ...common, grpcPort: 0, logger: pino({ level: 'debug' }, off.stream) });
    gwOn = await startGateway({ ...common, tracing, logger: pino({ level: 'debug' }, on.stream) });
    for (const gw of [gwOff, gwOn]) {
      gw.workers.add('w0', fake.url);
      await gw.health.runOnce();
    }
  });

  afterAll(async () => {
    await gwOff?.close();
    await gwOn?.close();
    await fake?.close();
    await tracing?.shutdown();
    await receiver?.close();
    process.env = saved;
  });

  it('tracing off: the access line carries the trace id of the traceparent that came in', async () => {
    const tp = newTraceparent();
    const r = await infer(gwOff.url, { traceparent: tp.header, 'x-request-id': 'req-off' });
    expect(r.status).toBe(200);
    const line = await off.next((l) => l.event === 'request' && l.requestId === 'req-off');
    expect(line).toMatchObject({ trace_id: tp.traceId, model: 'm', version: '1', status: 200 });
    expect(line.span_id).toBeUndefined();
  });

  it('tracing off, gRPC: the access line carries the trace id of the traceparent metadata', async () => {
    const tp = newTraceparent();
    const client = inferenceClient(gwOff.grpcAddress!) as unknown as {
      ModelInfer(r: object, md: Metadata, cb: (e: ServiceError | null) => void): void;
      close(): void;
    };
    const md = new Metadata();
    md.set('traceparent', tp.header);
    md.set('x-request-id', 'req-grpc');
    await new Promise<void>((resolve, reject) =>
      client.ModelInfer(
        {
          model_name: 'm',
          inputs: [{ name: 'x', datatype: 'FP64', shape: [1, 2], contents: { fp64_contents: [1, 2] } }],
        },
        md,
        (err) => (err ? reject(err) : resolve()),
      ),
    );
    client.close();
    const line = await off.next((l) => l.event === 'request' && l.requestId === 'req-grpc');
    expect(line).toMatchObject({ trace_id: tp.traceId, model: 'm', status: 200 });
  });

  it('tracing off, no traceparent: no trace_id is made up', async () => {
    expect((await infer(gwOff.url, { 'x-request-id': 'req-none' })).status).toBe(200);
    const line = await off.next((l) => l.event === 'request' && l.requestId === 'req-none');
    expect(line.trace_id).toBeUndefined();
  });

  it('tracing on: the access line carries the trace the worker was told, started here when none came in', async () => {
    const before = fake.received.length;
    expect((await infer(gwOn.url, { 'x-request-id': 'req-on' })).status).toBe(200);
    const line = await on.next((l) => l.event === 'request' && l.requestId === 'req-on');
    const sent = traceIdOf(String(fake.received[before]!.headers.traceparent));
    expect(sent).toMatch(/^[0-9a-f]{32}$/);
    expect(line.trace_id).toBe(sent);
    expect(line.span_id).toMatch(/^[0-9a-f]{16}$/);
  });

  it('an upstream failure line carries the trace id of the call that failed', async () => {
    const tp = newTraceparent();
    // The worker drops the connection of this one request without answering.
    const drop = (req: { headers: Record<string, unknown>; socket: { destroy(): void } }) => {
      if (req.headers.traceparent === tp.header) req.socket.destroy();
    };
    fake.server.prependListener('request', drop);
    try {
      const r = await infer(gwOff.url, { traceparent: tp.header, 'x-request-id': 'req-fail' });
      expect(r.status).toBeGreaterThanOrEqual(500);
      const line = await off.next((l) => l.event === 'upstream_failure' && l.trace_id === tp.traceId);
      expect(line.worker).toBe(fake.url);
      const access = await off.next((l) => l.event === 'request' && l.requestId === 'req-fail');
      expect(access.trace_id).toBe(tp.traceId);
    } finally {
      fake.server.removeListener('request', drop);
    }
  });
});
