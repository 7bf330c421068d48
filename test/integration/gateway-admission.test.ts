// Admission control and deadlines at the gateway (docs/api.md, Overload), over fake workers whose
// answers the test holds: past --max-inflight a client holding its share gets 429 and another
// client 503, both with Retry-After; work still queued when its x-grove-deadline-ms passes gets
// 504 and is never run; everything in flight ends with the slots released.
import { request as httpRequest } from 'node:http';
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

async function setup(extra: GatewayOptions): Promise<Gateway> {
  fakes = [await startFakeWorker({ m: ['1'] })];
  gw = await startGateway({ port: 0, admin: false, healthIntervalMs: 60_000, ...extra });
  gw.workers.add('w0', fakes[0]!.url);
  await gw.health.runOnce();
  return gw;
}

function hold(): () => void {
  let release!: () => void;
  fakes[0]!.predictGate = new Promise<void>((r) => (release = r));
  return () => {
    fakes[0]!.predictGate = null;
    release();
  };
}

async function received(n: number): Promise<void> {
  while (fakes[0]!.received.length < n) await new Promise((r) => setImmediate(r));
}

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { code?: string; predictions?: number[] };
}

/** A prediction from `localAddress` (another loopback address is another client). */
function predict(
  g: Gateway,
  row: number,
  headers: Record<string, string> = {},
  localAddress = '127.0.0.1',
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${g.url}/v1/models/m/versions/1:predict`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        localAddress,
        agent: false,
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(text) }),
        );
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ instances: [[row]] }));
  });
}

describe('admission control', () => {
  it('past --max-inflight: 429 for the client over its share, 503 for another, both with Retry-After', async () => {
    const g = await setup({ maxInflight: 2 });
    const release = hold();
    const held = [predict(g, 1), predict(g, 2)];
    await received(2);
    expect(g.admission.inflight).toBe(2);
    const heavy = await predict(g, 3);
    expect(heavy.status).toBe(429);
    expect(heavy.body.code).toBe('GROVE_ERR_OVER_SHARE');
    expect(heavy.headers['retry-after']).toBe('1');
    const other = await predict(g, 4, {}, '127.0.0.2');
    expect(other.status).toBe(503);
    expect(other.body.code).toBe('GROVE_ERR_OVERLOADED');
    expect(other.headers['retry-after']).toBe('1');
    expect(fakes[0]!.received).toHaveLength(2); // the refused ones never reached a worker
    release();
    expect((await Promise.all(held)).map((r) => r.body.predictions)).toEqual([[10], [20]]);
    expect(g.admission.inflight).toBe(0);
    expect((await predict(g, 5, {}, '127.0.0.2')).status).toBe(200);
    const text = await (await fetch(`${g.url}/metrics`)).text();
    expect(text).toMatch(/grove_gateway_shed_total\{reason="over_share"\} 1/);
    expect(text).toMatch(/grove_gateway_shed_total\{reason="overloaded"\} 1/);
  });

  it('a worker whose connections and queue are full refuses at once (503), not later', async () => {
    // (No coalescing here: it would hold the third request in its own queue, bounded by --max-inflight.)
    const g = await setup({ connections: 1, pipelining: 1, workerQueue: 1, coalescePerWorker: 1000 });
    const release = hold();
    const held = [predict(g, 1), predict(g, 2)]; // one on the connection, one queued
    await received(1);
    while (g.workers.all[0]!.data.queued < 1) await new Promise((r) => setImmediate(r));
    const full = await predict(g, 3);
    expect(full.status).toBe(503);
    expect(full.body.code).toBe('GROVE_ERR_OVERLOADED');
    release();
    expect((await Promise.all(held)).map((r) => r.status)).toEqual([200, 200]);
  });
});

describe('deadlines', () => {
  it('queued work past its x-grove-deadline-ms is answered 504 and never run', async () => {
    const g = await setup({ connections: 1, pipelining: 1, coalescePerWorker: 1000 });
    const release = hold();
    const first = predict(g, 1);
    await received(1);
    const late = await predict(g, 2, { 'x-grove-deadline-ms': '50' });
    expect(late.status).toBe(504);
    expect(late.body.code).toBe('GROVE_ERR_DEADLINE');
    release();
    expect((await first).status).toBe(200);
    expect((await predict(g, 3)).status).toBe(200);
    // The worker saw the first and the third: the expired one was dropped from the queue.
    expect(fakes[0]!.received.map((r) => JSON.parse(r.body).instances[0][0])).toEqual([1, 3]);
    expect(g.workers.all[0]!.data.queued).toBe(0);
    expect(g.admission.inflight).toBe(0);
  });

  it('rows waiting to be coalesced are dropped at their deadline too', async () => {
    const g = await setup({ coalescePerWorker: 1 });
    const release = hold();
    const first = predict(g, 1);
    await received(1);
    const late = await predict(g, 2, { 'x-grove-deadline-ms': '50' });
    expect(late.status).toBe(504);
    const waiting = predict(g, 3);
    release();
    expect((await first).status).toBe(200);
    expect((await waiting).body.predictions).toEqual([30]);
    expect(fakes[0]!.received.map((r) => JSON.parse(r.body).instances.map((x: number[]) => x[0]))).toEqual([
      [1],
      [3],
    ]);
  });

  it('refuses a malformed deadline with 400', async () => {
    const g = await setup({});
    for (const v of ['0', '-5', '1.5', 'soon', '99999999']) {
      const r = await predict(g, 1, { 'x-grove-deadline-ms': v });
      expect(r.status, v).toBe(400);
      expect(r.body.code).toBe('GROVE_ERR_BAD_INPUT');
    }
    expect(fakes[0]!.received).toHaveLength(0);
  });
});
