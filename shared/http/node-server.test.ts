// The node:http server's answer to `Expect: 100-continue`: 100 when the declared body fits the
// request's limit (a route's own limit, such as a job upload's, when it has one; none for a
// streamed :batch), else 413 at once.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { expectContinuePost } from '../../test/support/expect-continue.js';
import { createNodeServer } from './node-server.js';

let close: (() => Promise<void>) | null = null;
afterEach(async () => {
  await close?.();
  close = null;
});

async function serve(): Promise<string> {
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
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('createNodeServer: Expect: 100-continue', () => {
  it('takes a body over the default limit on a route with a larger one', async () => {
    const url = await serve();
    const a = await expectContinuePost(url, '/upload', 'text/csv', 'x'.repeat(500), true);
    expect(a.statuses).toEqual(['100', '200']);
    expect(a.body).toBe('read 500');
  });

  it('refuses at once, without a 100, a body over the route limit or the default one', async () => {
    const url = await serve();
    for (const [path, length, limit] of [
      ['/upload', 1001, 1000],
      ['/predict', 11, 10],
    ] as const) {
      const a = await expectContinuePost(url, path, 'text/csv', 'x'.repeat(length), true);
      expect(a.statuses).toEqual(['413']);
      expect(JSON.parse(a.body)).toMatchObject({ code: 'GROVE_ERR_BODY_TOO_LARGE' });
      expect(a.body).toContain(`limit of ${limit} bytes`);
    }
  });

  it('continues a streamed :batch whatever its declared size (it has no body limit)', async () => {
    const url = await serve();
    for (const path of ['/v1/models/m:batch', '/v1/models/m/versions/2:batch?exclude=id']) {
      const a = await expectContinuePost(url, path, 'text/csv', 'x'.repeat(500), true);
      expect(a.statuses).toEqual(['100', '200']);
      expect(a.body).toBe('read 500');
    }
  });
});
