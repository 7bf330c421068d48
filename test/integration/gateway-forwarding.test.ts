// What the gateway does to a request on its way to a worker and back, over fake workers that record
// what they receive: hop-by-hop fields dropped, X-Forwarded-For / Forwarded added, Expect answered
// and never forwarded, bodies that are not plain rows (contributions, parameters, requested
// outputs, binary tensors, other content types) forwarded unmerged even while others coalesce,
// readiness that waits for the workers' model lists, and errors that name no worker address.
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { type Gateway, type GatewayOptions, startGateway } from '../../gateway/gateway.js';
import { type FakeWorker, startFakeWorker } from '../support/fake-gateway-upstream.js';

let gw: Gateway | undefined;
let fakes: FakeWorker[] = [];
afterEach(async () => {
  await gw?.close();
  gw = undefined;
  await Promise.all(fakes.map((f) => f.close()));
  fakes = [];
});

async function setup(n: number, extra: GatewayOptions = {}, versions = { m: ['1'] }): Promise<Gateway> {
  fakes = await Promise.all(Array.from({ length: n }, () => startFakeWorker(versions)));
  gw = await startGateway({ port: 0, admin: false, healthIntervalMs: 60_000, ...extra });
  for (const [i, f] of fakes.entries()) gw.workers.add(`w${i}`, f.url);
  await gw.health.runOnce();
  return gw;
}

/** Holds every predict call on the fake workers until the returned function is called. */
function hold(): () => void {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  for (const f of fakes) f.predictGate = gate;
  return () => {
    for (const f of fakes) f.predictGate = null;
    release();
  };
}

/** Resolves once the fake workers have received `n` predict calls in all. */
async function received(n: number): Promise<void> {
  while (fakes.reduce((a, f) => a + f.received.length, 0) < n) await new Promise((r) => setImmediate(r));
}

/** One raw request on a new connection; resolves with everything the gateway wrote until it closed. */
function raw(
  port: number,
  bytes: string,
  onData?: (text: string, write: (s: string) => void) => void,
): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      text += d;
      onData?.(text, (x) => s.write(x));
    });
    s.on('error', () => {});
    s.on('close', () => resolve(text));
    s.write(bytes);
  });
}

const PRED = '/v1/models/m/versions/1:predict';

describe('headers across the gateway', () => {
  it('drops hop-by-hop fields (and those Connection names), adds X-Forwarded-For and Forwarded', async () => {
    const g = await setup(1);
    const body = '{"instances":[[1,2]]}';
    const out = await raw(
      g.port,
      `POST ${PRED} HTTP/1.1\r\nHost: public.example\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
        'Connection: close, X-Secret-Hop\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nX-Secret-Hop: 1\r\n' +
        'Proxy-Authorization: Basic eA==\r\nX-Forwarded-For: 203.0.113.9\r\nForwarded: for=203.0.113.9\r\n' +
        'X-Grove-Request-Ids: forged=1\r\nX-Request-Id: client-id-1\r\nX-User-Id: alice\r\n\r\n' +
        body,
    );
    expect(out).toMatch(/^HTTP\/1\.1 200 /);
    const h = fakes[0]!.received[0]!.headers;
    for (const k of [
      'connection',
      'keep-alive',
      'te',
      'x-secret-hop',
      'proxy-authorization',
      'x-grove-request-ids',
    ])
      expect(h[k], k).toBeUndefined();
    expect(h['x-user-id']).toBe('alice');
    expect(h['x-request-id']).toBe('client-id-1');
    expect(h['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
    expect(h.forwarded).toBe('for=203.0.113.9, for=127.0.0.1;proto=http');
    expect(h.host).not.toBe('public.example');
    expect(fakes[0]!.received[0]!.body).toBe(body); // the bytes as the client sent them
  });

  it('answers Expect: 100-continue itself (100, then the body) and never forwards it; refuses others with 417', async () => {
    const g = await setup(1);
    const body = '{"instances":[[3,4]]}';
    const head = `POST ${PRED} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
    let sent = false;
    const out = await raw(g.port, head, (text, write) => {
      if (!sent && text.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) {
        sent = true;
        write(body);
      }
    });
    expect(out).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    expect(out).toContain('{"predictions":[70]');
    expect(fakes[0]!.received[0]!.headers.expect).toBeUndefined();
    // Over the body limit of the fast front: node:http answers it, the same way.
    const big = `{"instances":[[${'1,'.repeat(200_000)}1]]}`;
    const bigHead = `POST ${PRED} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: ${big.length}\r\nConnection: close\r\n\r\n`;
    let sentBig = false;
    const out2 = await raw(g.port, bigHead, (text, write) => {
      if (!sentBig && text.includes('100 Continue')) {
        sentBig = true;
        write(big);
      }
    });
    expect(out2).toMatch(/HTTP\/1\.1 200 /);
    expect(fakes[0]!.received[1]!.headers.expect).toBeUndefined();
    const refused = await raw(
      g.port,
      `POST ${PRED} HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    expect(refused).toMatch(/^HTTP\/1\.1 417 /);
    expect(refused).toContain('"code":"GROVE_ERR_EXPECTATION"');
    expect(fakes[0]!.received).toHaveLength(2);
  });
});

describe('coalescing only plain rows', () => {
  it('merges plain bodies that wait for the same version; forwards every other body as it is, alone', async () => {
    const g = await setup(1, { coalescePerWorker: 1 });
    const release = hold();
    // The first call fills the version's one slot, so the rest wait: plain rows merge there.
    const first = request(`${g.url}${PRED}`, { method: 'POST', body: '{"instances":[[0]]}' });
    await received(1);
    const plain = Array.from({ length: 6 }, (_, i) => `{"instances":[[${i + 1}]]}`);
    const special: [string, Record<string, string>][] = [
      ['{"instances":[[1]],"contributions":true}', {}],
      ['{"contributions":true,"instances":[[2]]}', {}],
      ['{"instances":[[3]],"parameters":{"contributions":true}}', {}],
      ['{"instances":[[4]]}', { 'content-type': 'text/plain' }],
      ['{"instances":[[5]]}', { 'inference-header-content-length': '19' }],
    ];
    const inferSpecial = [
      '{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2]}],"parameters":{"contributions":true}}',
      '{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2]}],"outputs":[{"name":"contributions"}]}',
      '{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2],"parameters":{"binary_data":true}}]}',
    ];
    const calls = [
      ...plain.map((b) => request(`${g.url}${PRED}`, { method: 'POST', body: b })),
      ...special.map(([b, h]) => request(`${g.url}${PRED}`, { method: 'POST', body: b, headers: h })),
      ...inferSpecial.map((b) =>
        request(`${g.url}/v2/models/m/versions/1/infer`, { method: 'POST', body: b }),
      ),
    ];
    await received(1 + special.length + inferSpecial.length);
    release();
    const answers = await Promise.all([first, ...calls]);
    for (const a of answers) await a.body.dump();
    const got = fakes[0]!.received;
    // Every special body reached the worker byte for byte, in a call of its own.
    for (const [b] of special) expect(got.filter((r) => r.body === b)).toHaveLength(1);
    for (const b of inferSpecial) expect(got.filter((r) => r.body === b)).toHaveLength(1);
    // The plain rows that waited left together.
    const merged = got.filter((r) => r.headers['x-grove-request-ids'] !== undefined);
    expect(merged.length).toBeGreaterThan(0);
    expect(merged.every((r) => !r.body.includes('contributions') && !r.body.includes('parameters'))).toBe(
      true,
    );
    // Every row was predicted exactly once.
    expect(fakes[0]!.calls.reduce((a, b) => a + b, 0)).toBe(
      1 + plain.length + special.length + inferSpecial.length,
    );
  });
});

describe('readiness', () => {
  it('is 503 until the gateway knows what its workers serve; a model request meanwhile is 503 + Retry-After, not 404', async () => {
    fakes = [await startFakeWorker({ m: ['1'] })];
    let release!: () => void;
    fakes[0]!.modelsGate = new Promise((r) => (release = r));
    gw = await startGateway({ port: 0, admin: false, healthIntervalMs: 60_000 });
    gw.workers.add('w0', fakes[0]!.url);
    const checked = gw.health.runOnce();
    const ready = await request(`${gw.url}/v2/health/ready`);
    expect(ready.statusCode).toBe(503);
    expect(ready.headers['retry-after']).toBe('1');
    await ready.body.dump();
    const early = await request(`${gw.url}${PRED}`, { method: 'POST', body: '{"instances":[[1]]}' });
    expect(early.statusCode).toBe(503);
    expect(early.headers['retry-after']).toBe('1');
    expect(((await early.body.json()) as { code: string }).code).toBe('GROVE_ERR_UNAVAILABLE');
    release();
    await checked;
    expect((await request(`${gw.url}/v2/health/ready`)).statusCode).toBe(200);
    expect(
      (await request(`${gw.url}${PRED}`, { method: 'POST', body: '{"instances":[[1]]}' })).statusCode,
    ).toBe(200);
    expect(
      (await request(`${gw.url}/v1/models/nope:predict`, { method: 'POST', body: '{}' })).statusCode,
    ).toBe(404);
  });
});

describe('errors name no internal address', () => {
  it('a worker that vanished is a 503 or 502 whose body and headers do not name it', async () => {
    const g = await setup(2);
    const addrs = fakes.map((f) => new URL(f.url));
    await Promise.all(fakes.map((f) => f.close()));
    for (const path of [PRED, '/v2/models/m', '/v1/models/m/versions/1:batch']) {
      const r = await new Promise<{ status: number; text: string; headers: string }>((resolve) => {
        const req = httpRequest(
          `${g.url}${path}`,
          { method: path === '/v2/models/m' ? 'GET' : 'POST' },
          (res) => {
            let text = '';
            res.on('data', (c) => (text += c));
            res.on('end', () =>
              resolve({ status: res.statusCode!, text, headers: JSON.stringify(res.rawHeaders) }),
            );
          },
        );
        req.end(path === '/v2/models/m' ? undefined : '{"instances":[[1]]}');
      });
      expect(r.status, path).toBeGreaterThanOrEqual(502);
      expect(JSON.parse(r.text).code, path).toMatch(/^GROVE_ERR_/);
      for (const a of addrs) {
        expect(r.text, path).not.toContain(a.port);
        expect(r.headers, path).not.toContain(a.port);
      }
      expect(r.text).not.toContain('127.0.0.1');
    }
  });
});
