// A local OTLP/HTTP trace receiver for `npm run bench:gateway`'s tracing-on run: it takes the
// exports (POST /v1/traces, any protocol), counts them and their bytes, and answers 200 as a
// collector does, so the measured cost is grove's (spans made, batched, encoded and sent), not a
// slow or absent collector's.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OtlpSink {
  /** http://127.0.0.1:PORT, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  exports: number;
  bytes: number;
  close(): Promise<void>;
}

export function startOtlpSink(): Promise<OtlpSink> {
  const sink: OtlpSink = { url: '', exports: 0, bytes: 0, close: async () => {} };
  const server = createServer((req, res) => {
    req.on('data', (c: Buffer) => {
      sink.bytes += c.length;
    });
    req.on('end', () => {
      if (req.url === '/v1/traces') sink.exports++;
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/json' });
      res.end(req.headers['content-type'] === 'application/json' ? '{}' : '');
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      sink.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      sink.close = () =>
        new Promise((r) => {
          server.closeAllConnections();
          server.close(() => r());
        });
      resolve(sink);
    });
  });
}
