// A fake worker for the gateway's unit tests (gateway/**/*.test.ts): the public routes the gateway relies on,
// predictable predictions (sum of the row x 10^version), a request log, and knobs to fail.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeWorker {
  url: string;
  server: Server;
  /** Rows per upstream call received. */
  calls: number[];
  /** Each predict/infer call as received: path, headers, body. */
  received: { path: string; headers: IncomingHttpHeaders; body: string }[];
  /** While set, GET /v2/models waits for it (a worker still starting). */
  modelsGate: Promise<void> | null;
  /** While set, predict/infer calls wait for it before answering. */
  predictGate: Promise<void> | null;
  versions: Record<string, string[]>;
  status: number | null;
  delayMs: number;
  close(): Promise<void>;
}

export async function startFakeWorker(versions: Record<string, string[]>): Promise<FakeWorker> {
  const fw: FakeWorker = {
    url: '',
    server: null as unknown as Server,
    calls: [],
    received: [],
    modelsGate: null,
    predictGate: null,
    versions,
    status: null,
    delayMs: 0,
    close: async () => {},
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '';
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      if (url === '/v2/health/ready') return send(200, { ready: true });
      const mon = /^\/v2\/models\/([^/]+)\/versions\/([^/]+)\/monitor$/.exec(url);
      if (mon) {
        const col = (name: string, rows: number, missing: number) => ({
          name,
          type: 'none',
          rows,
          missing,
          nonfinite: 0,
          skipped: 0,
          codes: [],
          expected: null,
          baseline_missing: 0,
          baseline_nonfinite: 0,
        });
        return send(200, {
          model_name: mon[1],
          model_version: mon[2],
          window_rows: 100,
          min_rows: 1,
          features: [],
          counts: { workers: 1, columns: [col('f0', 100, 10), col('__prediction__', 100, 0)] },
        });
      }
      if (url === '/v2/models') {
        const list = () =>
          send(200, { models: Object.entries(fw.versions).map(([name, v]) => ({ name, versions: v })) });
        if (fw.modelsGate) fw.modelsGate.then(list);
        else list();
        return;
      }
      const m =
        /^\/v1\/models\/([^/]+)\/versions\/([^/:]+):predict$/.exec(url) ??
        /^\/v2\/models\/([^/]+)\/versions\/([^/]+)\/infer$/.exec(url);
      if (!m) return send(404, { error: 'no route', code: 'GROVE_ERR_NOT_FOUND' });
      fw.received.push({ path: url, headers: req.headers, body: Buffer.concat(chunks).toString() });
      const go = () => {
        if (fw.status !== null) return send(fw.status, { error: 'fake failure', code: 'GROVE_ERR_INTERNAL' });
        const [, model, version] = m;
        if (!fw.versions[model!]?.includes(version!))
          return send(404, { error: 'no version', code: 'GROVE_ERR_VERSION_NOT_FOUND' });
        const body = JSON.parse(Buffer.concat(chunks).toString());
        const scale = 10 ** Number(version);
        const headers = { 'x-grove-model-version': version!, 'x-grove-model-sha256': `sha-${version}` };
        if (url.startsWith('/v1')) {
          const rows = body.instances as unknown[];
          if (rows.some((r) => !Array.isArray(r)))
            return send(400, { error: 'bad row', code: 'GROVE_ERR_BAD_INPUT' });
          fw.calls.push(rows.length);
          return send(
            200,
            {
              predictions: (rows as number[][]).map((r) => r.reduce((a, b) => a + b, 0) * scale),
              model_name: model,
              model_version: version,
            },
            headers,
          );
        }
        const inp = body.inputs[0];
        const [n, f] = inp.shape;
        fw.calls.push(n);
        const out: number[] = [];
        for (let i = 0; i < n; i++)
          out.push(inp.data.slice(i * f, i * f + f).reduce((a: number, b: number) => a + b, 0) * scale);
        return send(
          200,
          {
            model_name: model,
            model_version: version,
            id: body.id,
            outputs: [{ name: 'predict', shape: [n], datatype: 'FP64', data: out }],
          },
          headers,
        );
      };
      if (fw.predictGate) fw.predictGate.then(go);
      else if (fw.delayMs > 0) setTimeout(go, fw.delayMs);
      else go();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fw.server = server;
  fw.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fw.close = () =>
    new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return fw;
}
