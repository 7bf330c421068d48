// OpenTelemetry from a real worker to a real OTLP/HTTP receiver (a node:http server decoding the
// JSON export, OTEL_EXPORTER_OTLP_PROTOCOL=http/json): the caller's W3C traceparent is the parent
// of the worker's `receive` span over HTTP and gRPC, `queue` and `predict` are its children with
// model, version and row count, the resource names grove-worker, and log lines carry trace_id.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Client, Metadata, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inferenceClient } from '../../shared/protocol/grpc/proto-client.js';
import {
  fixtureRows,
  makeRepository,
  postJson,
  removeRepository,
  startWorkerProcess,
  type WorkerProcess,
} from './worker-harness.js';

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
  service: string;
}

const spans: ExportedSpan[] = [];
let waiters: Array<() => void> = [];
let receiver: http.Server;
let repo: string;
let w: WorkerProcess;

function attr(s: ExportedSpan, key: string): unknown {
  const v = s.attributes.find((a) => a.key === key)?.value;
  if (v === undefined) return undefined;
  return v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.doubleValue ?? v.boolValue));
}

/** Resolves once the receiver holds spans of `traceId` with all these names. */
async function spansOf(traceId: string, names: string[]): Promise<ExportedSpan[]> {
  for (;;) {
    const got = spans.filter((s) => s.traceId === traceId);
    if (names.every((n) => got.some((s) => s.name === n))) return got;
    await new Promise<void>((r) => waiters.push(r));
  }
}

function traceparent(): { traceId: string; parentId: string; header: string } {
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  return { traceId, parentId, header: `00-${traceId}-${parentId}-01` };
}

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      if (req.url === '/v1/traces' && req.headers['content-type']?.includes('json')) {
        const doc = JSON.parse(body) as {
          resourceSpans: Array<{
            resource: { attributes: ExportedSpan['attributes'] };
            scopeSpans: Array<{ spans: Omit<ExportedSpan, 'service'>[] }>;
          }>;
        };
        for (const rs of doc.resourceSpans) {
          const service = String(
            rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue,
          );
          for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, service });
        }
        const ws = waiters;
        waiters = [];
        for (const f of ws) f();
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const port = (receiver.address() as AddressInfo).port;
  repo = makeRepository({ churn: { '1': 'xgboost/xgb-binary-100x4' } });
  w = await startWorkerProcess(repo, ['--grpc-port', '0', '--log-level', 'debug', '--no-monitor'], {
    ...process.env,
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '50',
  });
});

afterAll(async () => {
  expect(await w.stop()).toBe(0);
  removeRepository(repo);
  await new Promise((r) => receiver.close(r));
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
