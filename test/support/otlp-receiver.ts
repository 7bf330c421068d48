// A real OTLP/HTTP JSON receiver for tracing tests (OTEL_EXPORTER_OTLP_PROTOCOL=http/json): a
// node:http server on port 0 decoding every export to /v1/traces, and a wait for the spans of a
// trace (resolved on each export, never on a timer).
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
  links?: Array<{ traceId: string; spanId: string }>;
  service: string;
}

export interface OtlpReceiver {
  /** http://127.0.0.1:PORT, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  spans: ExportedSpan[];
  /** Resolves once spans of `traceId` with all these names (each at least `count` times) arrived. */
  spansOf(traceId: string, names: string[], count?: number): Promise<ExportedSpan[]>;
  close(): Promise<void>;
}

export function attr(s: ExportedSpan, key: string): unknown {
  const v = s.attributes.find((a) => a.key === key)?.value;
  if (v === undefined) return undefined;
  return v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.doubleValue ?? v.boolValue));
}

export function newTraceparent(): { traceId: string; parentId: string; header: string } {
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  return { traceId, parentId, header: `00-${traceId}-${parentId}-01` };
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ExportedSpan[] = [];
  let waiters: Array<() => void> = [];
  const server = http.createServer((req, res) => {
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
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    async spansOf(traceId, names, count = 1) {
      for (;;) {
        const got = spans.filter((s) => s.traceId === traceId);
        if (names.every((n) => got.filter((s) => s.name === n).length >= count)) return got;
        await new Promise<void>((r) => waiters.push(r));
      }
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
