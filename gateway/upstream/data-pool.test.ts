import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { UpstreamResponse } from '../../shared/http/response-parser.js';
import { DataPool, DEFAULT_DATA_POOL, Failure, type PoolCall } from './data-pool.js';

let servers: Server[] = [];
afterEach(() => {
  for (const s of servers) s.close();
  servers = [];
});

/** A worker stand-in: answers each request with its body echoed, `after` it is asked (or never). */
async function upstream(
  onRequest: (socket: Socket, body: string, answer: () => void) => void,
): Promise<number> {
  const s = createServer((socket) => {
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      for (;;) {
        const he = buf.indexOf('\r\n\r\n');
        if (he < 0) return;
        const len = Number(/content-length: (\d+)/i.exec(buf.slice(0, he))![1]);
        if (buf.length < he + 4 + len) return;
        const body = buf.slice(he + 4, he + 4 + len);
        buf = buf.slice(he + 4 + len);
        onRequest(socket, body, () =>
          socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`),
        );
      }
    });
    socket.on('error', () => {});
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as AddressInfo).port;
}

interface Outcome {
  body?: string;
  failure?: Failure;
}

function call(body: string, abandoned = () => false): PoolCall & { done: Promise<Outcome> } {
  let settle!: (o: Outcome) => void;
  const done = new Promise<Outcome>((r) => (settle = r));
  return {
    head: `POST /v2/models/m/infer HTTP/1.1\r\nhost: x\r\ncontent-length: ${body.length}\r\n\r\n`,
    body: Buffer.from(body),
    sentAt: 0,
    resent: false,
    abandoned,
    answered: (r: UpstreamResponse) => settle({ body: r.body.toString() }),
    failed: (kind: Failure) => settle({ failure: kind }),
    done,
  };
}

describe('data pool', () => {
  it('pipelines on a full pool and delivers answers in order, each call ending once', async () => {
    const port = await upstream((_s, _b, answer) => answer());
    const pool = new DataPool('127.0.0.1', port, { ...DEFAULT_DATA_POOL, maxConnections: 2, pipelining: 4 });
    const calls = Array.from({ length: 8 }, (_, i) => call(`{"i":${i}}`));
    for (const c of calls) pool.send(c);
    expect(pool.connections).toBe(2);
    expect((await Promise.all(calls.map((c) => c.done))).map((o) => o.body)).toEqual(
      calls.map((_, i) => `{"i":${i}}`),
    );
    expect(pool.outstanding).toBe(0);
    await pool.close();
  });

  it('queues past connections x depth, refuses past the queue, and drops abandoned queued calls', async () => {
    const held: (() => void)[] = [];
    const port = await upstream((_s, _b, answer) => held.push(answer));
    const pool = new DataPool('127.0.0.1', port, {
      ...DEFAULT_DATA_POOL,
      maxConnections: 1,
      pipelining: 1,
      queueLimit: 2,
    });
    let gone = false;
    const a = call('a');
    const b = call('b', () => gone);
    const c = call('c');
    const d = call('d');
    for (const x of [a, b, c, d]) pool.send(x);
    expect(await d.done).toEqual({ failure: Failure.Overloaded });
    expect(pool.queued).toBe(2);
    while (held.length < 1) await new Promise((r) => setImmediate(r));
    gone = true;
    held.shift()!();
    expect(await a.done).toEqual({ body: 'a' });
    expect(await b.done).toEqual({ failure: Failure.Closed }); // dropped, never sent
    while (held.length < 1) await new Promise((r) => setImmediate(r));
    held.shift()!();
    expect(await c.done).toEqual({ body: 'c' });
    await pool.close();
  });

  it('a refused connection fails as Refused; a timeout fails the call and closes its connection', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const refused = new DataPool('127.0.0.1', deadPort);
    const r = call('x');
    refused.send(r);
    expect(await r.done).toEqual({ failure: Failure.Refused });

    const port = await upstream(() => {}); // never answers
    const slow = new DataPool('127.0.0.1', port, {
      ...DEFAULT_DATA_POOL,
      timeoutMs: 60,
      pipelining: 2,
      maxConnections: 1,
    });
    const t1 = call('1');
    const t2 = call('2');
    slow.send(t1);
    slow.send(t2);
    expect(await t1.done).toEqual({ failure: Failure.Timeout });
    expect(await t2.done).toEqual({ failure: Failure.Lost }); // pipelined behind it: never answered
    expect(slow.connections).toBe(0);
  });

  it('a kept-alive connection that breaks before an answer is sent once more on a new one', async () => {
    let served = 0;
    const port = await upstream((socket, _b, answer) => {
      served++;
      if (served === 2)
        socket.destroy(); // the second request finds its connection gone
      else answer();
    });
    const pool = new DataPool('127.0.0.1', port, { ...DEFAULT_DATA_POOL, maxConnections: 1 });
    const first = call('first');
    pool.send(first);
    expect(await first.done).toEqual({ body: 'first' });
    const second = call('second');
    pool.send(second);
    expect(await second.done).toEqual({ body: 'second' });
    expect(second.resent).toBe(true);
    expect(served).toBe(3);
    await pool.close();
  });
});
