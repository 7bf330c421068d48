// A small static HTTP server on 127.0.0.1 (port 0) for the pages that run exported modules in
// Chromium: the browser test and `npm run bench:browser`. Routes map exact paths to files or
// in-memory text; mounts map a path prefix to a folder (no path may leave it). Each route may add
// response headers (the tests set a Content-Security-Policy that forbids WebAssembly compilation).
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.csv': 'text/plain; charset=utf-8',
  '.onnx': 'application/octet-stream',
};

export interface Route {
  /** a file to send, or the body itself */
  file?: string;
  body?: string | Uint8Array;
  headers?: Record<string, string>;
}

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

export async function startStaticServer(
  routes: Record<string, Route>,
  mounts: Record<string, string> = {},
): Promise<StaticServer> {
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let route = routes[path];
    if (!route) {
      for (const [prefix, dir] of Object.entries(mounts)) {
        if (!path.startsWith(prefix)) continue;
        const file = normalize(join(dir, path.slice(prefix.length)));
        if (file.startsWith(normalize(dir) + sep)) route = { file };
      }
    }
    const type = TYPES[extname(path)] ?? 'application/octet-stream';
    if (route?.body !== undefined) {
      res.writeHead(200, { 'content-type': type, ...route.headers });
      res.end(route.body);
      return;
    }
    let size = -1;
    try {
      if (route?.file) size = statSync(route.file).isFile() ? statSync(route.file).size : -1;
    } catch {}
    if (!route?.file || size < 0) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': type, 'content-length': size, ...route.headers });
    createReadStream(route.file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
