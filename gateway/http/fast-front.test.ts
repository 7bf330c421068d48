import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeWorker, startFakeWorker } from '../fake-worker.test-helper.js';
import { type Gateway, startGateway } from '../gateway.js';

let gw: Gateway;
let fake: FakeWorker;
beforeAll(async () => {
  fake = await startFakeWorker({ m: ['1'] });
  gw = await startGateway({ port: 0, admin: false });
  gw.workers.add('w', fake.url);
  await gw.health.runOnce();
});
afterAll(async () => {
  await gw.close();
  await fake.close();
});

/** Sends raw bytes on one connection and collects what comes back until `responses` answers arrived. */
function raw(bytes: string, responses: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(gw.port, '127.0.0.1');
    let out = '';
    s.on('data', (c) => {
      out += c.toString();
      if ((out.match(/HTTP\/1\.1 \d{3}/g) ?? []).length >= responses && /\r\n\r\n[\s\S]*\}$/.test(out)) {
        s.end();
        resolve(out);
      }
    });
    s.on('error', reject);
    s.on('close', () => resolve(out));
    s.write(bytes);
  });
}

const post = (body: string, extra = '') =>
  `POST /v1/models/m/versions/1:predict HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

describe('fast front', () => {
  it('answers pipelined requests in order on one connection', async () => {
    const out = await raw(
      post('{"instances":[[1]]}', 'x-request-id: a\r\n') + post('{"instances":[[2]]}', 'x-request-id: b\r\n'),
      2,
    );
    const a = out.indexOf('x-request-id: a');
    const b = out.indexOf('x-request-id: b');
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(a);
    expect(out).toContain('{"predictions":[10]');
    expect(out).toContain('{"predictions":[20]');
  });

  it('hands other routes and chunked bodies to node:http, keeping the connection', async () => {
    const get = 'GET /v2/models HTTP/1.1\r\nhost: x\r\n\r\n';
    const out = await raw(post('{"instances":[[3]]}') + get, 2);
    expect(out).toContain('{"predictions":[30]');
    expect(out).toContain('{"models":[{"name":"m","versions":["1"]}]}');
    const body = '{"instances":[[4]]}';
    const chunked = `POST /v1/models/m/versions/1:predict HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    expect(await raw(chunked, 1)).toContain('{"predictions":[40]');
  });

  it('honours connection: close and splits a request across packets', async () => {
    const out = await raw(post('{"instances":[[5]]}', 'connection: close\r\n'), 1);
    expect(out).toMatch(/connection: close/i);
    const s = connect(gw.port, '127.0.0.1');
    const text = post('{"instances":[[6]]}');
    const got = new Promise<string>((r) => {
      let o = '';
      s.on('data', (c) => {
        o += c;
        if (o.includes('}')) {
          s.end();
          r(o);
        }
      });
    });
    for (let i = 0; i < text.length; i += 7) {
      s.write(text.slice(i, i + 7));
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(await got).toContain('{"predictions":[60]');
  });

  it('answers 408 to a request still arriving after the read timeout, and closes', async () => {
    const slow = await startGateway({ port: 0, admin: false, requestReadTimeoutMs: 300 });
    try {
      slow.workers.add('w', fake.url);
      await slow.health.runOnce();
      const s = connect(slow.port, '127.0.0.1');
      const got = new Promise<string>((resolve) => {
        let o = '';
        s.on('data', (c) => (o += c));
        s.on('close', () => resolve(o));
      });
      s.write(post('{"instances":[[7]]}').slice(0, -4));
      const out = await got;
      expect(out).toMatch(/^HTTP\/1\.1 408 /);
      expect(out).toMatch(/connection: close/i);
      expect(out).toContain('"code":"GROVE_ERR_REQUEST_TIMEOUT"');
    } finally {
      await slow.close();
    }
  });
});
