// Both engines against an in-process stand-in server (the real worker is exercised by
// test/integration/loadtest-*.test.ts): requests arrive with real bodies, the report counts what
// the server did (versions, 5xx, sticky users).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLoadtestArgs } from './options.js';
import { featureNamesFromMetadata, runLoadtest } from './run-loadtest.js';

let server: Server;
let base: string;
const seen = { bodies: 0, badBodies: 0, users: new Set<string>() };

beforeAll(async () => {
  let n = 0;
  server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/v2/models') {
      res.end(JSON.stringify({ models: [{ name: 'churn', versions: ['1', '2'] }] }));
      return;
    }
    if (req.method === 'GET' && req.url === '/v2/models/churn') {
      res.end(
        JSON.stringify({ name: 'churn', inputs: [{ name: 'input-0', datatype: 'FP64', shape: [-1, 3] }] }),
      );
      return;
    }
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.bodies++;
      const parsed = JSON.parse(body);
      if (parsed.inputs?.[0]?.shape?.[1] !== 3) seen.badBodies++;
      const user = req.headers['x-user-id'];
      if (typeof user === 'string') seen.users.add(user);
      // Version by user (sticky) or alternating; every 50th request fails.
      const version =
        typeof user === 'string' ? String((Number(user.slice(5)) % 2) + 1) : String((n % 2) + 1);
      n++;
      if (n % 50 === 0) {
        res.statusCode = 503;
        res.end('{"error":"busy","code":"GROVE_ERR_UNAVAILABLE"}');
        return;
      }
      res.setHeader('x-grove-model-version', version);
      res.end(JSON.stringify({ model_name: 'churn', model_version: version, outputs: [] }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

describe('runLoadtest', () => {
  it('closed loop: finds the model, shapes rows from metadata, counts versions and non-2xx', async () => {
    const before = seen.bodies;
    const options = parseLoadtestArgs([
      '--url',
      base,
      // 2 s: on a loaded machine the first second can pass before the first response.
      '--duration',
      '2',
      '--connections',
      '4',
      '--sticky-users',
      '20',
    ])!;
    const report = await runLoadtest(options, { progress: null });
    expect(report.model).toBe('churn');
    expect(report.mode).toBe('closed-loop');
    expect(report.requests).toBeGreaterThan(0);
    // The server saw every request the report counts; up to one per connection was still in
    // flight when the run stopped (autocannon drops those, they are neither responses nor errors).
    expect(seen.bodies - before - report.requests).toBeGreaterThanOrEqual(0);
    expect(seen.bodies - before - report.requests).toBeLessThanOrEqual(4);
    expect(seen.badBodies).toBe(0);
    expect(report.non2xx).toBe(report.status_codes['503']);
    // The server fails every 50th request it sees.
    expect(report.non2xx).toBeGreaterThanOrEqual(Math.floor(report.requests / 50) - 1);
    expect(report.errors).toBe(0);
    expect((report.versions['1'] ?? 0) + (report.versions['2'] ?? 0)).toBe(report.requests - report.non2xx);
    expect(report.sticky!.users_seen).toBeGreaterThan(0);
    expect(report.sticky!.users_seen).toBeLessThanOrEqual(20);
    expect(report.sticky!.users_with_one_version).toBe(report.sticky!.users_seen);
    expect(report.latency.p50).toBeGreaterThan(0);
    expect(report.latency.p99).toBeGreaterThanOrEqual(report.latency.p50);
    expect(report.latency.max).toBeGreaterThanOrEqual(report.latency.p99);
  });

  it('fixed rate: sends rate x duration requests and measures every one', async () => {
    const options = parseLoadtestArgs([
      '--url',
      base,
      '--model',
      'churn',
      '--duration',
      '1',
      '--rate',
      '200',
    ])!;
    const report = await runLoadtest(options, { progress: null });
    expect(report.mode).toBe('fixed-rate');
    expect(report.requests + report.errors).toBe(200);
    expect(report.requests_per_sec).toBeGreaterThan(150);
    expect(report.latency.p50).toBeGreaterThan(0);
  });

  it('counts connection errors when nothing listens', async () => {
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise((r) => dead.close(r));
    const options = parseLoadtestArgs([
      '--url',
      `http://127.0.0.1:${port}`,
      '--duration',
      '1',
      '--rate',
      '20',
    ])!;
    await expect(runLoadtest(options, { progress: null })).rejects.toThrow(/cannot reach/);
    const direct = parseLoadtestArgs([
      '--url',
      `http://127.0.0.1:${port}`,
      '--model',
      'm',
      '--input',
      'loadtest/data/churn-rows.csv',
      '--duration',
      '1',
      '--rate',
      '20',
    ])!;
    const report = await runLoadtest(direct, { progress: null });
    expect(report.requests).toBe(0);
    expect(report.errors).toBe(20);
  });
});

describe('featureNamesFromMetadata', () => {
  it('reads names where a server may put them, else f0..fN-1 from the shape', () => {
    expect(featureNamesFromMetadata({ inputs: [{ shape: [-1, 2] }] })).toEqual(['f0', 'f1']);
    expect(
      featureNamesFromMetadata({ inputs: [{ shape: [-1, 2], parameters: { feature_names: ['a', 'b'] } }] }),
    ).toEqual(['a', 'b']);
    expect(featureNamesFromMetadata({ inputs: [{ shape: [-1, 1] }], feature_names: ['z'] })).toEqual(['z']);
    expect(() => featureNamesFromMetadata({})).toThrow();
  });
});
