// A reverse proxy that delays every request to one worker by a fixed time: the "one slow worker"
// of the policy scenario (docs/architecture.md, Targets: p99 with one worker 10x slow). It sits in front of an
// unmodified worker, so the suite needs no test hook inside the worker.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { HOST } from './processes.js';

export interface SlowProxy {
  url: string;
  close(): Promise<void>;
}

export async function startSlowProxy(target: string, delayMs: number): Promise<SlowProxy> {
  const pool = new Pool(target, { connections: 64 });
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      setTimeout(() => {
        const headers = { ...req.headers };
        delete headers.host;
        delete headers.connection;
        pool
          .request({
            path: req.url ?? '/',
            method: (req.method ?? 'GET') as 'GET',
            headers,
            body: chunks.length ? Buffer.concat(chunks) : null,
          })
          .then(async (up) => {
            const body = Buffer.from(await up.body.arrayBuffer());
            const out: Record<string, string | string[]> = {};
            for (const [k, v] of Object.entries(up.headers)) {
              if (v !== undefined && k !== 'connection' && k !== 'keep-alive' && k !== 'transfer-encoding')
                out[k] = v;
            }
            res.writeHead(up.statusCode, out);
            res.end(body);
          })
          .catch(() => {
            res.writeHead(502, { 'content-type': 'application/json' });
            res.end('{"error":"slow proxy: upstream failed","code":"GROVE_ERR_UPSTREAM"}');
          });
      }, delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${HOST}:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await pool.destroy();
    },
  };
}
