// The open-loop connections against real local servers: requests arrive whole and in order, every
// request ends exactly once (answered, timed out, refused or cut off), closed connections are
// replaced, an answer nobody asked for or a malformed one fails the request instead of wedging
// the run, and https works with a CA the test makes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, createServer as createTcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { UpstreamResponse } from '../shared/http/response-parser.js';
import { type Failure, OpenLoopConnections } from './open-loop-connections.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

type Outcome = { answer: UpstreamResponse | null; failure: Failure | null };

async function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        (server as Server).closeAllConnections?.();
        server.close(() => r());
      }),
  );
  return (server.address() as AddressInfo).port;
}

async function openOn(url: string, connections: number, extra: { timeoutMs?: number; ca?: Buffer } = {}) {
  const c = await OpenLoopConnections.open({
    url: new URL(url),
    connections,
    timeoutMs: extra.timeoutMs ?? 10_000,
    maxAnswer: 1 << 20,
    ...(extra.ca ? { ca: extra.ca } : {}),
  });
  cleanups.push(() => c.close());
  return c;
}

/** Sends n requests (request i's body is `{"i":i}`) and resolves with their outcomes in order. */
function sendAll(c: OpenLoopConnections, n: number, extraHead = ''): Promise<Outcome[]> {
  const out: Outcome[] = new Array(n);
  let left = n;
  return new Promise((resolve) => {
    for (let i = 0; i < n; i++) {
      const body = Buffer.from(`{"i":${i}}`);
      const head = `POST /p HTTP/1.1\r\nhost: x\r\ncontent-length: ${body.length}\r\n${extraHead}\r\n`;
      c.send(head, body, (answer, failure) => {
        expect(out[i]).toBeUndefined();
        out[i] = { answer, failure };
        if (--left === 0) resolve(out);
      });
    }
  });
}

function echo(req: IncomingMessage, res: ServerResponse, headers: Record<string, string> = {}): void {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (d: string) => (body += d));
  req.on('end', () => {
    res.writeHead(200, { 'x-user': String(req.headers['x-user-id'] ?? ''), ...headers });
    res.end(body);
  });
}

describe('OpenLoopConnections', () => {
  it('opens its connections first, sends every request whole, and replaces closed connections', async () => {
    let n = 0;
    let sockets = 0;
    const ids = new WeakMap<object, number>();
    const server = createHttpServer((req, res) => {
      if (!ids.has(req.socket)) ids.set(req.socket, sockets++);
      const headers: Record<string, string> = { 'x-conn': String(ids.get(req.socket)) };
      if (++n % 5 === 0) headers.connection = 'close';
      echo(req, res, headers);
    });
    const port = await listen(server);
    const c = await openOn(`http://127.0.0.1:${port}`, 3);
    expect(c.open).toBe(3);
    const out = await sendAll(c, 40, 'x-user-id: user-7\r\n');
    const used = new Set<string>();
    out.forEach((o, i) => {
      expect(o.failure).toBeNull();
      expect(o.answer!.status).toBe(200);
      expect(o.answer!.body.toString()).toBe(`{"i":${i}}`);
      const h = o.answer!.headers;
      expect(h[h.indexOf('x-user') + 1]).toBe('user-7');
      used.add(h[h.indexOf('x-conn') + 1]!);
    });
    // Every 5th answer closed its connection; new ones took their place.
    expect(used.size).toBeGreaterThan(3);
  });

  it('fails each request for which no connection opens when nothing listens', async () => {
    const server = createHttpServer();
    const port = await listen(server);
    await new Promise<void>((r) => server.close(() => r()));
    const c = await openOn(`http://127.0.0.1:${port}`, 2);
    expect(c.open).toBe(0);
    const out = await sendAll(c, 5);
    for (const o of out) {
      expect(o.answer).toBeNull();
      expect(o.failure).toEqual({ timeout: false, message: expect.stringMatching(/ECONNREFUSED/) });
    }
  });

  it('times out a request that gets no answer, and the run goes on on a new connection', async () => {
    let n = 0;
    const server = createHttpServer((req, res) => {
      if (n++ === 0) return; // the first request is never answered
      echo(req, res);
    });
    const port = await listen(server);
    const c = await openOn(`http://127.0.0.1:${port}`, 1, { timeoutMs: 200 });
    const out = await sendAll(c, 3);
    expect(out[0]!.failure).toEqual({ timeout: true, message: 'timed out' });
    expect(out.slice(1).map((o) => o.answer!.body.toString())).toEqual(['{"i":1}', '{"i":2}']);
  });

  it('fails the request, not the run, on a malformed answer or a cut connection, and drops a connection out of step', async () => {
    let k = 0;
    const server = createTcpServer((s: Socket) => {
      const mode = k++;
      s.on('error', () => {});
      s.once('data', () => {
        if (mode === 0) s.end('HTTP/1.1 200 OK\r\ncontent-length: nope\r\n\r\n');
        else if (mode === 1) s.destroy();
        // The answer, then one nobody asked for (in the same write, so it arrives with it).
        else if (mode === 2)
          s.write(
            'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nxx',
          );
        else s.write('HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nnew');
      });
    });
    const port = await listen(server);
    const c = await openOn(`http://127.0.0.1:${port}`, 1);
    const out = await sendAll(c, 3);
    expect(out[0]!.answer).toBeNull();
    expect(out[0]!.failure!.timeout).toBe(false);
    expect(out[1]!.answer).toBeNull();
    expect(out[2]!.answer?.body.toString()).toBe('ok');
    // The out-of-step connection is gone: the next request is answered on a new one, not with 'xx'.
    const [next] = await sendAll(c, 1);
    expect(next!.answer?.body.toString()).toBe('new');
  });

  it('close() fails what is in flight or waiting', async () => {
    const server = createHttpServer(() => {});
    const port = await listen(server);
    const c = await openOn(`http://127.0.0.1:${port}`, 1);
    const outcomes = sendAll(c, 3);
    c.close();
    for (const o of await outcomes)
      expect(o.failure).toEqual({ timeout: false, message: 'the load run is over' });
  });

  it('speaks https with the CA it is given', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grove-olc-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        'key.pem',
        '-out',
        'cert.pem',
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { cwd: dir, stdio: 'pipe' },
    );
    const key = readFileSync(join(dir, 'key.pem'));
    const cert = readFileSync(join(dir, 'cert.pem'));
    const server = createHttpsServer({ key, cert }, (req, res) => echo(req, res));
    const port = await listen(server);
    const c = await openOn(`https://127.0.0.1:${port}`, 2, { ca: cert });
    expect(c.open).toBe(2);
    const out = await sendAll(c, 4);
    expect(out.map((o) => o.answer?.body.toString())).toEqual([0, 1, 2, 3].map((i) => `{"i":${i}}`));
  });
});
