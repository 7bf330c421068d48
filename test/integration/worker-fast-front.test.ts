// The worker's two HTTP paths on one port: the fast front (raw socket, POST predict/infer with a
// Content-Length body) and node:http (everything else). Raw sockets check what a client library
// would hide: pipelining, requests split across packets, the hand-over to node:http mid-connection,
// the same answers and metrics on both paths, slow bodies and graceful shutdown.
import { type AddressInfo, connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeServer } from '../../shared/http/node-server.js';
import {
  fixtureRows,
  getJson,
  makeRepository,
  removeRepository,
  startWorkerProcess,
  type WorkerProcess,
  waitFor,
} from './worker-harness.js';

const FIXTURE = 'xgboost/xgb-binary-100x4';
let repo: string;
let w: WorkerProcess;
let port: number;

beforeAll(async () => {
  repo = makeRepository({ xgb: { '1': FIXTURE } });
  w = await startWorkerProcess(repo, ['--max-body', '4096', '--timeout', '500']);
  port = Number(new URL(w.url).port);
});

afterAll(async () => {
  expect(await w.stop()).toBe(0);
  removeRepository(repo);
});

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Parses every complete HTTP/1.1 answer (Content-Length or chunked) in `text`. */
function parseAnswers(text: string): Answer[] {
  const out: Answer[] = [];
  let rest = text;
  for (;;) {
    const he = rest.indexOf('\r\n\r\n');
    if (he < 0) return out;
    const lines = rest.slice(0, he).split('\r\n');
    const status = Number(lines[0]!.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const c = l.indexOf(':');
      headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim();
    }
    let body = '';
    let after = he + 4;
    if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      if (rest.length < after + n) return out;
      body = rest.slice(after, after + n);
      after += n;
    } else if (headers['transfer-encoding'] === 'chunked') {
      for (;;) {
        const e = rest.indexOf('\r\n', after);
        if (e < 0) return out;
        const n = Number.parseInt(rest.slice(after, e), 16);
        if (rest.length < e + 2 + n + 2) return out;
        body += rest.slice(e + 2, e + 2 + n);
        after = e + 2 + n + 2;
        if (n === 0) break;
      }
    }
    out.push({ status, headers, body });
    rest = rest.slice(after);
  }
}

/** One connection: write pieces (with pauses between them), collect `count` answers. */
async function exchange(pieces: string[], count: number, pauseMs = 20): Promise<Answer[]> {
  const s: Socket = connect(port, '127.0.0.1');
  let got = '';
  s.setEncoding('latin1');
  const done = new Promise<Answer[]>((resolve, reject) => {
    s.on('data', (c: string) => {
      got += c;
      const a = parseAnswers(got);
      if (a.length >= count) {
        s.destroy();
        resolve(a);
      }
    });
    s.on('error', reject);
    s.on('close', () => resolve(parseAnswers(got)));
  });
  for (const p of pieces) {
    s.write(p, 'latin1');
    await new Promise((r) => setTimeout(r, pauseMs));
  }
  return done;
}

const { rows, pred } = fixtureRows(FIXTURE);
const inferBody = (r: number) =>
  JSON.stringify({
    inputs: [{ name: 'input-0', shape: [1, rows[r]!.length], datatype: 'FP32', data: rows[r] }],
  });
const post = (path: string, body: string, extra = '') =>
  `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

function outputOf(a: Answer): number {
  return (JSON.parse(a.body) as { outputs: { data: number[] }[] }).outputs[0]!.data[0]!;
}

describe('worker fast front', () => {
  it('answers pipelined requests in order, each naming model, version and request id', async () => {
    const bytes = [0, 1, 2].map((r) =>
      post('/v2/models/xgb/infer', inferBody(r), `x-request-id: req-${r}\r\n`),
    );
    const answers = await exchange([bytes.join('')], 3);
    expect(answers).toHaveLength(3);
    answers.forEach((a, r) => {
      expect(a.status).toBe(200);
      expect(a.headers['x-request-id']).toBe(`req-${r}`);
      expect(a.headers['x-grove-model']).toBe('xgb');
      expect(a.headers['x-grove-model-version']).toBe('1');
      expect(a.headers['x-grove-model-sha256']).toMatch(/^[0-9a-f]{64}$/);
      expect(a.headers.date).toBeDefined();
      expect(Math.abs(outputOf(a) - pred[r]![0]!)).toBeLessThan(1e-6);
    });
  });

  it('assembles a request that arrives a few bytes at a time', async () => {
    const bytes = post('/v2/models/xgb/versions/1/infer', inferBody(4));
    const pieces: string[] = [];
    for (let i = 0; i < bytes.length; i += 7) pieces.push(bytes.slice(i, i + 7));
    const [a] = await exchange(pieces, 1, 1);
    expect(a!.status).toBe(200);
    expect(Math.abs(outputOf(a!) - pred[4]![0]!)).toBeLessThan(1e-6);
  });

  it('hands the connection to node:http for other routes and gives the same answers there', async () => {
    const body = inferBody(5);
    const chunked = `POST /v2/models/xgb/infer HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    const answers = await exchange(
      [
        post('/v2/models/xgb/infer', body),
        'GET /v2/health/live HTTP/1.1\r\nhost: x\r\n\r\n',
        chunked,
        post('/v2/models/xgb/infer', body),
      ],
      4,
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(JSON.parse(answers[1]!.body)).toEqual({ live: true });
    // Fast path (first), node:http after the hand-over (third and fourth): the same answer.
    expect(answers[2]!.body).toBe(answers[0]!.body);
    expect(answers[3]!.body).toBe(answers[0]!.body);
    expect(answers[2]!.headers['x-grove-model-sha256']).toBe(answers[0]!.headers['x-grove-model-sha256']);
  });

  it('answers bad input with a 4xx JSON error and keeps the connection', async () => {
    const answers = await exchange(
      [
        post('/v2/models/xgb/infer', '{"inputs": ['),
        post('/v2/models/nope/infer', inferBody(0)),
        post('/v1/models/xgb:predict', `{"__proto__": {"x": 1}, "instances": ${JSON.stringify([rows[1]])}}`),
        post('/v1/models/xgb:predict', JSON.stringify({ instances: [['two', ...rows[0]!.slice(1)]] })),
        post('/v1/models/xgb:predict', JSON.stringify({ instances: [rows[0]] })),
      ],
      5,
    );
    expect(answers.map((a) => a.status)).toEqual([400, 404, 200, 400, 200]);
    for (const a of [answers[0]!, answers[1]!, answers[3]!]) {
      const e = JSON.parse(a.body) as { error: string; code: string };
      expect(e.code).toMatch(/^GROVE_ERR_/);
      expect(e.error.length).toBeGreaterThan(0);
      expect(a.headers['content-type']).toBe('application/json');
    }
    expect(JSON.parse(answers[1]!.body).code).toBe('GROVE_ERR_MODEL_NOT_FOUND');
    expect(JSON.parse(answers[2]!.body).predictions[0]).toBeCloseTo(pred[1]![0]!, 6);
    expect(JSON.parse(answers[4]!.body).predictions[0]).toBeCloseTo(pred[0]![0]!, 6);
  });

  it("takes a gateway's merged call whose x-grove-request-ids head is ~48 KB", async () => {
    // A gateway merges up to 128 clients' calls, naming each id (up to 128 characters,
    // URI-encoded: ~50 KB); four rows with very long ids make the same head under --max-body.
    const ids = Array.from({ length: 4 }, (_, i) => `${encodeURIComponent('%'.repeat(4000))}-${i}=1`);
    const body = JSON.stringify({ instances: rows.slice(0, 4) });
    const head = `x-grove-request-ids: ${ids.join(',')}\r\n`;
    expect(head.length).toBeGreaterThan(48_000);
    const chunked = `POST /v1/models/xgb:predict HTTP/1.1\r\nhost: x\r\n${head}transfer-encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    // The fast front, then node:http (the chunked body hands the connection over).
    const answers = await exchange([post('/v1/models/xgb:predict', body, head), chunked], 2);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(answers[1]!.body).toBe(answers[0]!.body);
    expect(JSON.parse(answers[0]!.body).predictions).toHaveLength(4);
  });

  it('unknown routes and methods get 404 and 405 from node:http', async () => {
    const answers = await exchange(
      [post('/v2/nothing/here', '{}'), 'GET /v2/models/xgb/infer HTTP/1.1\r\nhost: x\r\n\r\n'],
      2,
    );
    expect(answers.map((a) => a.status)).toEqual([404, 405]);
    expect(answers[1]!.headers.allow).toBe('POST');
  });

  it('refuses a declared body over --max-body with 413 and closes', async () => {
    const big = JSON.stringify({ instances: Array.from({ length: 400 }, () => rows[0]) });
    expect(big.length).toBeGreaterThan(4096);
    const answers = await exchange([post('/v1/models/xgb:predict', big)], 1);
    expect(answers[0]!.status).toBe(413);
    expect(answers[0]!.headers.connection).toBe('close');
  });

  it('answers 504 when a head or body stalls past --timeout, and counts fast requests in /metrics', async () => {
    const half = post('/v2/models/xgb/infer', inferBody(0)).slice(0, -10);
    const [a] = await exchange([half], 1);
    expect(a!.status).toBe(504);
    expect(JSON.parse(a!.body).code).toBe('GROVE_ERR_TIMEOUT');
    const [b] = await exchange(['POST /v2/models/xgb/infer HTTP/1.1\r\nhost'], 1);
    expect(b!.status).toBe(504);
    const m = await fetch(`${w.url}/metrics`).then((r) => r.text());
    const count = (...labels: string[]) =>
      m
        .split('\n')
        .filter((l) => l.startsWith('grove_worker_requests_total{') && labels.every((x) => l.includes(x)))
        .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    // Earlier tests sent 7 good infer calls on this worker, 5 of them through the fast front.
    expect(count('route="infer"', 'code="200"')).toBeGreaterThanOrEqual(7);
    expect(count('code="504"')).toBeGreaterThanOrEqual(2);
  });
});

describe('worker fast front shutdown', () => {
  it('finishes a request whose body is still arriving when SIGTERM comes, then exits 0', async () => {
    const r2 = makeRepository({ xgb: { '1': FIXTURE } });
    const p = await startWorkerProcess(r2, ['--timeout', '5000']);
    try {
      const s = connect(Number(new URL(p.url).port), '127.0.0.1');
      let got = '';
      s.setEncoding('latin1');
      s.on('data', (c: string) => (got += c));
      s.on('error', () => {}); // a reset shows as a missing answer below
      const closed = new Promise<void>((resolve) => s.on('close', () => resolve()));
      const bytes = post('/v2/models/xgb/infer', inferBody(3));
      // One whole request first, so the worker has surely accepted this connection; then half of
      // the next one, given time to reach the worker before the signal (bytes still in the
      // kernel's buffers when the worker drains would find an idle connection and be lost, as
      // with node:http).
      s.write(bytes);
      await waitFor(async () => parseAnswers(got).length === 1, 5000, 10);
      got = '';
      s.write(bytes.slice(0, -5));
      await new Promise((r) => setTimeout(r, 500));
      const exit = p.stop('SIGTERM');
      await waitFor(async () => p.stderr().includes('"event":"shutdown"'), 5000, 10);
      // The listener closes: new connections are refused while this one finishes.
      await waitFor(
        async () => (await getJson(`${p.url}/v2/health/live`).catch(() => ({ status: 0 }))).status === 0,
        5000,
        10,
      );
      s.write(bytes.slice(-5));
      await closed;
      const [a] = parseAnswers(got);
      expect(a!.status).toBe(200);
      expect(a!.headers.connection).toBe('close');
      expect(Math.abs(outputOf(a!) - pred[3]![0]!)).toBeLessThan(1e-6);
      expect(await exit).toBe(0);
    } finally {
      await p.stop('SIGKILL');
      removeRepository(r2);
    }
  });
});

/**
 * What node:http alone decides on `bytes` (sent with the client's side then ended): the number of
 * requests it accepts before its first refusal, and whether it refuses one. The worker's fast front
 * must reach the same decision (shared/http/fast-front.differential.test.ts checks the pair in depth).
 */
async function nodeDecision(bytes: string): Promise<{ accepted: number; refused: boolean }> {
  let accepted = 0;
  let refused = false;
  const server = createNodeServer(
    (req, res) => {
      // Counted once the parser has the whole request (by the next microtask when it came in one read).
      queueMicrotask(() => {
        if (!refused) accepted++;
        req.resume();
        res.end();
      });
    },
    { bodyLimit: 32 * 1024 * 1024, maxHeaderSize: 64 * 1024 },
  );
  server.on('clientError', () => (refused = true));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await new Promise<void>((resolve) => {
      const s = connect((server.address() as AddressInfo).port, '127.0.0.1');
      s.on('data', () => {});
      s.on('error', () => {});
      s.on('close', () => resolve());
      s.end(bytes, 'latin1');
    });
  } finally {
    server.close();
  }
  return { accepted, refused };
}

const REFUSALS = new Set(['GROVE_ERR_BAD_HTTP', 'GROVE_ERR_HEADERS_TOO_LARGE']);

describe('worker fast front under malformed and mutated requests', () => {
  it('refuses exactly what node:http refuses (400, then the connection closes) and keeps serving', async () => {
    const r3 = makeRepository({ xgb: { '1': FIXTURE } });
    const p = await startWorkerProcess(r3, ['--timeout', '30000']);
    const wport = Number(new URL(p.url).port);
    try {
      const good = post('/v2/models/xgb/infer', inferBody(0));
      const cases: string[] = [
        good.replace('content-length: ', 'content-length: -'),
        good.replace(/content-length: \d+/, 'content-length: 1e3'),
        good.replace('content-length:', 'content-length: 5\r\ncontent-length:'),
        good.replace('content-length:', 'transfer-encoding: chunked\r\ncontent-length:'),
        good.replace('host: x', 'host x'),
        good.replace('host: x', 'x bad: 1'),
        good.replace('host: x', 'host: x\r\n folded'),
        good.replace('HTTP/1.1', 'HTTP/1.1 extra'),
        good.replace('POST ', 'POST  '),
        good.replaceAll('\r\n', '\n'),
        good.replace('/v2/models/xgb/infer', '/v2/models/%E0%A4%A/infer'),
        good.replace('/v2/models/xgb/infer', '/v2/models/xgb/infer\0'),
        good.replace('host: x', `x-big: ${'a'.repeat(70_000)}`),
        good.replace('{', '\u0000{'),
        good.slice(0, -7),
        `POST /v2/models/xgb/infer HTTP/1.1\r\ncontent-length: 99999999999999999999\r\n\r\n`,
        '\r\n\r\n',
        'GARBAGE\r\n\r\n',
      ];
      // Random byte flips and truncations of a good request, from a fixed seed.
      let seed = 12345;
      const rand = (n: number) => {
        seed = (seed * 1103515245 + 12345) >>> 0;
        return seed % n;
      };
      for (let i = 0; i < 120; i++) {
        const b = Buffer.from(good, 'latin1');
        for (let k = 0; k <= rand(4); k++) b[rand(b.length)] = rand(256);
        cases.push(b.subarray(0, rand(3) === 0 ? rand(b.length) : b.length).toString('latin1'));
      }
      let refusedCount = 0;
      for (let i = 0; i < cases.length; i += 10) {
        await Promise.all(
          cases.slice(i, i + 10).map(async (c, k) => {
            const want = await nodeDecision(c);
            const got = await new Promise<Answer[]>((resolve) => {
              const s = connect(wport, '127.0.0.1');
              let text = '';
              s.setEncoding('latin1');
              s.on('data', (d: string) => (text += d));
              s.on('error', () => {});
              s.on('close', () => resolve(parseAnswers(text)));
              s.end(c, 'latin1');
            });
            const codes = got.map((a) => (a.status >= 400 ? JSON.parse(a.body).code : 'ok'));
            const where = `case ${i + k}: ${JSON.stringify(c.slice(0, 120))} -> ${JSON.stringify(codes)}`;
            const refusals = codes.filter((x) => REFUSALS.has(x)).length;
            // Every answer is one node:http would also give: an API answer for each request it
            // accepts (never more: nothing smuggled), and a refusal, last, where it refuses.
            expect(codes.length - refusals, where).toBeLessThanOrEqual(want.accepted);
            if (want.refused) {
              expect(refusals, where).toBe(1);
              expect(REFUSALS.has(codes[codes.length - 1]), where).toBe(true);
              refusedCount++;
            } else {
              expect(refusals, where).toBe(0);
              expect(codes.length, where).toBe(want.accepted);
            }
            for (const a of got) expect(a.status, where).not.toBe(500);
          }),
        );
      }
      expect(refusedCount).toBeGreaterThan(20);
      // The same process answers, and a good request still predicts right.
      expect(p.child.exitCode).toBeNull();
      const [a] = await exchange([good], 1);
      expect(a!.status).toBe(200);
      expect(Math.abs(outputOf(a!) - pred[0]![0]!)).toBeLessThan(1e-6);
    } finally {
      expect(await p.stop()).toBe(0);
      removeRepository(r3);
    }
  }, 60_000);
});
