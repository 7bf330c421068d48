// The node:http server's answer to `Expect: 100-continue`: 100 when the declared body fits the
// request's limit (a route's own limit, such as a job upload's, when it has one), else 413 at once.
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createNodeServer } from './node-server.js';

let close: (() => Promise<void>) | null = null;
afterEach(async () => {
  await close?.();
  close = null;
});

async function serve(): Promise<number> {
  const server = createNodeServer(
    (req, res) => {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => res.end(`read ${n}`));
    },
    { bodyLimit: 10, bodyLimitOf: (req) => (req.url === '/upload' ? 1000 : null) },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  close = () => new Promise((r) => server.close(() => r()));
  return (server.address() as AddressInfo).port;
}

/** Sends the head, then the body only once a 100 came; resolves with everything the server sent. */
function expecting(port: number, path: string, length: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let text = '';
    let sent = false;
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      text += d;
      if (!sent && text.includes(' 100 Continue\r\n\r\n')) {
        sent = true;
        sock.write('x'.repeat(length));
      }
      if (/\r\n\r\n(read \d+|\{.*\})$/.test(text)) sock.end();
    });
    sock.on('error', reject);
    sock.on('close', () => resolve(text));
    sock.write(
      `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
    );
  });
}

describe('createNodeServer: Expect: 100-continue', () => {
  it('takes a body over the default limit on a route with a larger one', async () => {
    const port = await serve();
    const text = await expecting(port, '/upload', 500);
    expect(text).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    expect(text.endsWith('read 500')).toBe(true);
  });

  it('refuses at once, without a 100, a body over the route limit or the default one', async () => {
    const port = await serve();
    for (const [path, length, limit] of [
      ['/upload', 1001, 1000],
      ['/predict', 11, 10],
    ] as const) {
      const text = await expecting(port, path, length);
      expect(text).toMatch(/^HTTP\/1\.1 413 /);
      expect(text).toContain(`"code":"GROVE_ERR_BODY_TOO_LARGE"`);
      expect(text).toContain(`limit of ${limit} bytes`);
    }
  });
});
