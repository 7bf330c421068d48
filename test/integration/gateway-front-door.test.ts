// The gateway's front door under hostile and merely unusual clients, over two real workers:
// `Expect: 100-continue` bodies (as curl sends for anything over 1 MiB) and other expectations,
// request-smuggling vectors, truncated and abandoned requests, clients that leave before their
// answer, oversized heads, broken chunked bodies, aborted batch uploads, pipelined floods and bad
// deadlines. A thousand of them, twenty at a time; afterwards every pool is idle, no worker was
// ejected or counted as failing, and ordinary requests answer right.
import { connect } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../gateway/gateway.js';
import {
  fixtureRows,
  makeRepository,
  removeRepository,
  startWorkerProcess,
  type WorkerProcess,
  waitFor,
} from './worker-harness.js';

const FIXTURE = 'xgboost/xgb-binary-100x4';
const { header, rows, pred } = fixtureRows(FIXTURE);
let repo: string;
let workers: WorkerProcess[];
let gw: Gateway;

beforeAll(async () => {
  repo = makeRepository({ xgb: { '1': FIXTURE } });
  workers = await Promise.all([0, 1].map(() => startWorkerProcess(repo, ['--log-level', 'warn'])));
  gw = await startGateway({ port: 0, admin: false, healthIntervalMs: 200, requestReadTimeoutMs: 300 });
  for (const [i, w] of workers.entries()) gw.workers.add(`w${i}`, w.url);
  await gw.health.runOnce();
});
afterAll(async () => {
  await gw?.close();
  await Promise.all((workers ?? []).map((w) => w.stop()));
  removeRepository(repo);
});

const body1 = JSON.stringify({ instances: [rows[0]] });
const head = (path: string, len: number, extra = '') =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${len}\r\n${extra}\r\n`;
const PRED = '/v1/models/xgb/versions/1:predict';
const good = (extra = '') => head(PRED, body1.length, extra) + body1;
/** ~1.5 MB of rows: what curl sends with `Expect: 100-continue`. */
const bigBody = JSON.stringify({ instances: Array.from({ length: 9000 }, (_, i) => rows[i % rows.length]) });

type Client = (port: number) => Promise<string>;

/** Writes `bytes`, optionally waits for a 100 Continue before `rest`, ends or destroys, collects the answer bytes. */
function client(
  bytes: string,
  opts: { rest?: string; destroyAfter?: boolean; keepOpen?: boolean } = {},
): Client {
  return (port) =>
    new Promise((resolve) => {
      const s = connect(port, '127.0.0.1');
      let text = '';
      let restSent = false;
      s.setEncoding('latin1');
      s.on('data', (d: string) => {
        text += d;
        if (opts.rest !== undefined && !restSent && text.includes('100 Continue\r\n\r\n')) {
          restSent = true;
          // Not ended: node:http drops a pending answer when the client half-closes.
          s.write(opts.rest, 'latin1');
        }
      });
      s.on('error', () => {});
      s.on('close', () => resolve(text));
      if (opts.destroyAfter) s.write(bytes, 'latin1', () => s.destroy());
      else if (opts.rest !== undefined || opts.keepOpen) s.write(bytes, 'latin1');
      else s.end(bytes, 'latin1');
    });
}

/** A batch upload that stops halfway and goes away. */
const abortedBatch: Client = (port) =>
  new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => {});
    s.on('close', () => resolve(''));
    s.write(
      `POST /v1/models/xgb:batch HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n`,
    );
    const csv = `${header.join(',')}\n${rows
      .slice(0, 50)
      .map((r) => r.map((x) => (x === null ? '' : x)).join(','))
      .join('\n')}\n`;
    s.write(`${csv.length.toString(16)}\r\n${csv}\r\n`, () => s.destroy());
  });

const MIX: [string, Client][] = [
  [
    'expect, big body after 100',
    client(head(PRED, bigBody.length, 'Expect: 100-continue\r\nConnection: close\r\n'), { rest: bigBody }),
  ],
  ['expect, small body at once', client(good('Expect: 100-continue\r\n'))],
  [
    'expect, raw with body after 100',
    client(head(PRED, body1.length, 'Expect: 100-continue\r\nConnection: close\r\n'), { rest: body1 }),
  ],
  ['other expectation', client(good('Expect: the-moon\r\n'))],
  [
    'space in a header name, then a request',
    client(`${good('X Bad: 1\r\n')}GET /v2/models HTTP/1.1\r\nHost: x\r\n\r\n`),
  ],
  ['TE.CL', client(`${head(PRED, 4, 'Transfer-Encoding : chunked\r\n')}0\r\n\r\n`)],
  ['obs-fold', client(good('X-A: 1\r\n folded\r\n'))],
  ['bare LF', client(good().replaceAll('\r\n', '\n'))],
  ['truncated body', client(good().slice(0, -5))],
  ['truncated head', client('POST /v1/models/xgb:predict HTTP/1.1\r\nHo')],
  ['abandoned mid-body', client(good().slice(0, -5), { destroyAfter: true })],
  ['gone before the answer', client(good(), { destroyAfter: true })],
  ['bad JSON', client(head(PRED, 5) + '{"ins')],
  ['head too large', client(good(`X-Big: ${'a'.repeat(20_000)}\r\n`))],
  ['unknown route', client(`GET /v2/nothing/here HTTP/1.1\r\nHost: x\r\n\r\n`)],
  [
    'broken chunked body',
    client(
      `${head(PRED, 0).replace('Content-Length: 0', 'Transfer-Encoding: chunked')}zz\r\nab\r\n0\r\n\r\n`,
    ),
  ],
  ['aborted batch upload', abortedBatch],
  ['pipelined flood', client(good() + good('X-A: 2\r\n') + head(PRED, 5) + '{"ins' + good())],
  ['bad deadline', client(good('X-Grove-Deadline-Ms: soon\r\n'))],
  ['close, then more bytes', client(good('Connection: close\r\n') + good())],
  ['HTTP/1.0', client(good().replace('HTTP/1.1', 'HTTP/1.0'))],
  ['unknown model', client(head('/v1/models/nope:predict', body1.length) + body1)],
  [
    'contributions asked',
    client(head(PRED, body1.length + 22) + body1.slice(0, -1) + ',"contributions":true}'),
  ],
];

/** Heads that never finish (slowloris): the gateway answers 408 at its read timeout and closes. */
const stalled = client('POST /v1/models/xgb:predict HTTP/1.1\r\nHost: x\r\n', { keepOpen: true });

describe('the front door under 1,000 hostile and unusual requests', () => {
  it('answers or refuses each, leaks nothing, ejects nobody, and keeps serving', async () => {
    const counts = new Map<string, Map<string, number>>();
    const slow = Promise.all(Array.from({ length: 40 }, () => stalled(gw.port)));
    const total = 960;
    for (let i = 0; i < total; i += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, total - i) }, async (_, k) => {
          const [name, run] = MIX[(i + k) % MIX.length]!;
          const text = await run(gw.port);
          const statuses = [...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => m[1]!).join(' ') || 'none';
          const m = counts.get(name) ?? new Map<string, number>();
          m.set(statuses, (m.get(statuses) ?? 0) + 1);
          counts.set(name, m);
          expect(statuses, name).not.toMatch(/5\d\d/);
        }),
      );
    }
    const seen = (name: string) => [...(counts.get(name)?.keys() ?? [])];
    for (const text of await slow) expect(text).toMatch(/^HTTP\/1\.1 408 .*GROVE_ERR_REQUEST_TIMEOUT/s);
    expect(seen('expect, big body after 100')).toEqual(['100 200']);
    expect(seen('expect, small body at once')).toEqual(['200']);
    expect(seen('other expectation')).toEqual(['417']);
    expect(seen('space in a header name, then a request')).toEqual(['400']);
    expect(seen('TE.CL')).toEqual(['400']);
    expect(seen('head too large')).toEqual(['431']);
    expect(seen('truncated body')).toEqual(['400']);
    expect(seen('pipelined flood')).toEqual(['200 200 400 200']);
    expect(seen('bad deadline')).toEqual(['400']);
    expect(seen('unknown model')).toEqual(['404']);

    // Every slot comes back: admission, the data pools and their queues, the other connections.
    await waitFor(
      async () =>
        gw.admission.inflight === 0 &&
        gw.workers.all.every(
          (w) =>
            w.outstanding === 0 &&
            w.outstandingRows === 0 &&
            w.data.outstanding === 0 &&
            w.data.queued === 0 &&
            w.meta.outstanding === 0 &&
            w.meta.queued === 0 &&
            Object.keys(w.agent.requests).length === 0,
        ),
      10_000,
      20,
    );
    // Nothing counted against the workers: the clients misbehaved, not they.
    await gw.health.runOnce();
    for (const w of gw.workers.all) {
      expect(w.healthy).toBe(true);
      expect(w.outlier.ejections).toBe(0);
      expect(w.failures).toBe(0);
    }
    // And ordinary requests still answer right.
    for (let r = 0; r < 10; r++) {
      const res = await request(`${gw.url}/v1/models/xgb:predict`, {
        method: 'POST',
        body: JSON.stringify({ instances: [rows[r]] }),
      });
      expect(res.statusCode).toBe(200);
      const b = (await res.body.json()) as { predictions: number[] };
      expect(Math.abs(b.predictions[0]! - pred[r]![0]!)).toBeLessThan(1e-6);
    }
  }, 120_000);
});
