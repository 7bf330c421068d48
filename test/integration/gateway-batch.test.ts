// `:batch` through the gateway: the CSV body streams to a worker and the answer streams back, so
// a batch far larger than the gateway's body limit goes through (docs/api.md, Batch streaming).
import { Readable } from 'node:stream';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../gateway/gateway.js';
import {
  fixtureRows,
  makeRepository,
  removeRepository,
  startWorkerProcess,
  type WorkerProcess,
} from './worker-harness.js';

const FIXTURE = 'xgboost/xgb-binary-100x4';
let repo: string;
let worker: WorkerProcess;
let gw: Gateway;

beforeAll(async () => {
  repo = makeRepository({ xgb: { '1': FIXTURE } });
  worker = await startWorkerProcess(repo, ['--log-level', 'warn']);
  gw = await startGateway({ port: 0, admin: false, bodyLimit: 64 * 1024 });
  gw.workers.add('w', worker.url);
  await gw.health.runOnce();
});

afterAll(async () => {
  await gw.close();
  expect(await worker.stop()).toBe(0);
  removeRepository(repo);
});

const { header, rows, pred } = fixtureRows(FIXTURE);
const line = (r: (number | null)[]) => r.map((x) => (x === null ? '' : String(x))).join(',');

describe('gateway :batch', () => {
  it('streams a CSV batch 100x larger than its body limit through a worker, in order', async () => {
    const total = 20_000;
    // Generated as it is sent: neither side of the test holds the batch either.
    async function* csv() {
      yield `${header.join(',')}\n`;
      for (let i = 0; i < total; i += 500) {
        let chunk = '';
        for (let j = i; j < i + 500; j++) chunk += `${line(rows[j % rows.length]!)}\n`;
        yield chunk;
      }
    }
    const res = await request(`${gw.url}/v1/models/xgb:batch`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: Readable.from(csv()),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-grove-model-version']).toBe('1');
    const out = (await res.body.text()).trim().split('\n');
    expect(out[0]).toBe('prediction');
    expect(out).toHaveLength(total + 1);
    for (const i of [0, 1, 2, 777, total - 1]) {
      expect(Math.abs(Number(out[i + 1]) - pred[i % rows.length]![0]!)).toBeLessThan(1e-6);
    }
  });

  it('passes the worker error for a bad batch, and answers unknown versions itself', async () => {
    const bad = await request(`${gw.url}/v1/models/xgb:batch`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: 'nope,f1\n1,2\n',
    });
    expect(bad.statusCode).toBe(400);
    expect(((await bad.body.json()) as { code: string }).code).toMatch(/^GROVE_ERR_/);
    const missing = await request(`${gw.url}/v1/models/xgb/versions/9:batch`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: `${header.join(',')}\n`,
    });
    expect(missing.statusCode).toBe(404);
    expect(((await missing.body.json()) as { code: string }).code).toBe('GROVE_ERR_VERSION_NOT_FOUND');
  });
});
