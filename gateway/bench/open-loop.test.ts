import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { openLoop } from './open-loop.js';

let server: Server | null = null;

afterEach(async () => {
  const s = server;
  server = null;
  if (s !== null) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

/** A server answering request n with 200 when n is odd, 503 when even; every 7th answer closes its connection. */
async function start(): Promise<{ url: string; bodies: string[] }> {
  const bodies: string[] = [];
  let n = 0;
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      bodies.push(body);
      n++;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (n % 7 === 0) headers.connection = 'close';
      res.writeHead(n % 2 === 1 ? 200 : 503, headers);
      res.end('{"n":1}');
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, bodies };
}

describe('openLoop', () => {
  it('sends every scheduled request once, counts admitted and shed answers, and replaces closed connections', async () => {
    const { url, bodies } = await start();
    const r = await openLoop(url, '/v2/models/m/infer', '{"inputs":[]}', 400, 0.25, 4);
    expect(r.sent).toBe(100);
    expect(bodies).toHaveLength(100);
    expect(bodies.every((b) => b === '{"inputs":[]}')).toBe(true);
    expect(r.ok).toBe(50);
    expect(r.shed).toBe(50);
    expect(r.other).toBe(0);
    expect(r.p50).toBeGreaterThan(0);
    expect(r.p99).toBeGreaterThanOrEqual(r.p50);
  });

  it('fails when nothing listens', async () => {
    const { url } = await start();
    const s = server!;
    server = null;
    await new Promise<void>((r) => s.close(() => r()));
    await expect(openLoop(url, '/', '{}', 100, 0.1, 2)).rejects.toThrow(/could not connect/);
  });
});
