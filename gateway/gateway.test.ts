import { request } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type FakeWorker, startFakeWorker } from './fake-worker.test-helper.js';
import { type Gateway, startGateway } from './gateway.js';

let gw: Gateway | undefined;
let fakes: FakeWorker[] = [];
afterEach(async () => {
  await gw?.close();
  gw = undefined;
  await Promise.all(fakes.map((f) => f.close()));
  fakes = [];
});

async function setup(
  n: number,
  versions: Record<string, string[]> = { m: ['1', '2'] },
  extra: Parameters<typeof startGateway>[0] = {},
) {
  fakes = await Promise.all(Array.from({ length: n }, () => startFakeWorker(versions)));
  gw = await startGateway({ port: 0, adminPort: 0, healthIntervalMs: 100, ...extra });
  for (const [i, f] of fakes.entries()) gw.workers.add(`w${i}`, f.url);
  await gw.health.runOnce();
  return gw;
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await request(url, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });
  return {
    status: res.statusCode,
    headers: res.headers,
    body: (await res.body.json()) as Record<string, unknown>,
  };
}

describe('gateway over fake workers', () => {
  it('coalesces concurrent rows into few upstream calls and gives each client its own answer', async () => {
    const g = await setup(2);
    // Slow workers keep the lane's in-flight limit (4 per worker) busy, so later rows queue and merge.
    for (const f of fakes) f.delayMs = 30;
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        post(`${g.url}/v1/models/m/versions/1:predict`, { instances: [[i, 1]] }, { 'x-request-id': `r${i}` }),
      ),
    );
    answers.forEach((a, i) => {
      expect(a.status).toBe(200);
      expect(a.body.predictions).toEqual([(i + 1) * 10]);
      expect(a.body.model_version).toBe('1');
      expect(a.headers['x-request-id']).toBe(`r${i}`);
      expect(a.headers['x-grove-model-version']).toBe('1');
      expect(a.headers['x-grove-model-sha256']).toBe('sha-1');
      expect(['w1', 'w2']).toContain(a.headers['x-grove-worker']);
    });
    const calls = fakes.flatMap((f) => f.calls);
    expect(calls.reduce((a, b) => a + b, 0)).toBe(40);
    expect(calls.length).toBeLessThan(40);
    const inf = await post(`${g.url}/v2/models/m/infer`, {
      id: 'abc',
      inputs: [{ name: 'input-0', shape: [2, 2], datatype: 'FP32', data: [1, 2, 3, 4] }],
    });
    expect(inf.body).toMatchObject({
      id: 'abc',
      model_version: '2',
      outputs: [{ shape: [2], data: [300, 700] }],
    });
  });

  it('a bad row in a merged call only fails its own client', async () => {
    const g = await setup(1);
    const [good, bad] = await Promise.all([
      post(`${g.url}/v1/models/m/versions/1:predict`, { instances: [[1, 2]] }),
      post(`${g.url}/v1/models/m/versions/1:predict`, { instances: [{ a: 1 }] }),
    ]);
    expect(good.status).toBe(200);
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('GROVE_ERR_BAD_INPUT');
  });

  it('retries a failed worker on another, ejects it, and answers 503 JSON when none can serve', async () => {
    const g = await setup(2);
    fakes[0]!.status = 503;
    for (let i = 0; i < 20; i++) {
      const a = await post(`${g.url}/v1/models/m/versions/1:predict`, { instances: [[1]] });
      expect(a.status).toBe(200);
    }
    await fakes[1]!.close();
    fakes[0]!.status = null;
    const after = await Promise.all(
      Array.from({ length: 10 }, () => post(`${g.url}/v1/models/m/versions/1:predict`, { instances: [[1]] })),
    );
    for (const a of after) expect(a.status).toBe(200);
    await fakes[0]!.close();
    const none = await post(`${g.url}/v1/models/m/versions/1:predict`, { instances: [[1]] });
    expect(none.status).toBeGreaterThanOrEqual(502);
    expect(typeof none.body.error).toBe('string');
    g.workers.remove('w0');
    g.workers.remove('w1');
    // With no worker left nobody can say the model does not exist: 503 (retry), not 404.
    const gone = await post(`${g.url}/v1/models/m:predict`, { instances: [[1]] });
    expect(gone.status).toBe(503);
    expect(gone.body.code).toBe('GROVE_ERR_UNAVAILABLE');
  });

  it('unknown model/version are 404 and an oversized body is 413', async () => {
    const g = await setup(1, { m: ['1'] }, { bodyLimit: 100 });
    expect((await post(`${g.url}/v1/models/zzz:predict`, { instances: [[1]] })).body.code).toBe(
      'GROVE_ERR_MODEL_NOT_FOUND',
    );
    expect((await post(`${g.url}/v1/models/m/versions/7:predict`, { instances: [[1]] })).body.code).toBe(
      'GROVE_ERR_VERSION_NOT_FOUND',
    );
    const big = await post(`${g.url}/v1/models/m:predict`, { instances: [Array(100).fill(1)] });
    expect(big.status).toBe(413);
    expect(big.body.code).toBe('GROVE_ERR_BODY_TOO_LARGE');
    const models = await request(`${g.url}/v2/models`);
    expect(await models.body.json()).toEqual({ models: [{ name: 'm', versions: ['1'] }] });
  });

  it('before any worker is ready a model request is 503 (retry), not 404 (no such model)', async () => {
    gw = await startGateway({ port: 0, adminPort: 0, healthIntervalMs: 100 });
    const early = await post(`${gw.url}/v1/models/m:predict`, { instances: [[1, 2]] });
    expect(early.status).toBe(503);
    expect(early.body.code).toBe('GROVE_ERR_UNAVAILABLE');
    fakes = [await startFakeWorker({ m: ['1'] })];
    gw.workers.add('w0', fakes[0]!.url);
    await gw.health.runOnce();
    expect((await post(`${gw.url}/v1/models/m:predict`, { instances: [[1, 2]] })).status).toBe(200);
    expect((await post(`${gw.url}/v1/models/zzz:predict`, { instances: [[1]] })).status).toBe(404);
  });

  it('admin: bearer token required, split validated, applied with sticky users', async () => {
    const g = await setup(2, { m: ['1', '2'] }, { adminToken: 'secret' });
    const put = (body: unknown, token = 'secret') =>
      request(`${g.adminUrl}/admin/models/m/split`, {
        method: 'PUT',
        body: JSON.stringify(body),
        headers: { authorization: `Bearer ${token}` },
      });
    expect((await put({ weights: { '1': 1 } }, 'wrong')).statusCode).toBe(401);
    expect((await request(`${g.adminUrl}/admin/workers`)).statusCode).toBe(401);
    expect((await put({ weights: { '1': 90, '3': 10 } })).statusCode).toBe(400);
    expect((await put({ weights: { '1': 0, '2': 0 } })).statusCode).toBe(400);
    expect((await put({ weights: { '1': 0, '2': 1 }, sticky: 'x-user-id' })).statusCode).toBe(200);
    for (let i = 0; i < 5; i++)
      expect((await post(`${g.url}/v1/models/m:predict`, { instances: [[1]] })).body.model_version).toBe('2');
    const w = await request(`${g.adminUrl}/admin/workers`, { headers: { authorization: 'Bearer secret' } });
    const body = (await w.body.json()) as { workers: { url: string; healthy: boolean; versions: unknown }[] };
    expect(body.workers).toHaveLength(2);
    expect(body.workers[0]).toMatchObject({ healthy: true, versions: { m: ['1', '2'] } });
    // Admin routes are not on the public port.
    expect(
      (await request(`${g.url}/admin/workers`, { headers: { authorization: 'Bearer secret' } })).statusCode,
    ).toBe(404);
  });

  it('refuses a non-loopback admin host without a token and generates one on loopback', async () => {
    await expect(startGateway({ port: 0, adminPort: 0, adminHost: '0.0.0.0' })).rejects.toMatchObject({
      code: 'GROVE_ERR_ADMIN_TOKEN_REQUIRED',
    });
    const g = await setup(1);
    expect(g.tokenGenerated).toBe(true);
    expect(g.adminToken!.length).toBeGreaterThan(20);
  });
});

describe('shadow traffic', () => {
  it('mirrors a fraction to the shadow version, discards its answer and records the difference', async () => {
    const g = await setup(1, { m: ['1', '2', '3'] }, { adminToken: 'secret' });
    const put = await request(`${g.adminUrl}/admin/models/m/split`, {
      method: 'PUT',
      headers: { authorization: 'Bearer secret' },
      body: JSON.stringify({ weights: { '1': 1 }, shadow: { version: '2', fraction: 1 } }),
    });
    expect(put.statusCode).toBe(200);
    await put.body.dump();
    for (let i = 0; i < 10; i++) {
      const a = await post(`${g.url}/v1/models/m:predict`, { instances: [[0.5]] });
      expect(a.body).toMatchObject({ predictions: [5], model_version: '1' }); // the served answer, not the shadow's
    }
    // Shadow copies finish after the served answers: wait until the tenth is counted.
    const text = await vi.waitFor(
      async () => {
        const t = await (await request(`${g.url}/metrics`)).body.text();
        expect(t).toMatch(
          /grove_gateway_shadow_requests_total\{model="m",version="1",shadow_version="2",outcome="ok"\} 10/,
        );
        return t;
      },
      { timeout: 10_000, interval: 20 },
    );
    // served 0.5 x 10 = 5, shadow 0.5 x 100 = 50: every diff is 45, above the top bucket of 1.
    expect(text).toMatch(
      /grove_gateway_shadow_prediction_diff_sum\{model="m",version="1",shadow_version="2"\} 450/,
    );
    expect(text).toMatch(/grove_gateway_requests_total\{model="m",version="1",code="200"\} 10/);
    expect(fakes[0]!.calls.reduce((a, b) => a + b, 0)).toBe(20);
  });
});

describe('fan-out routes', () => {
  it('asks every worker holding the version for its monitor view and merges the counts', async () => {
    const g = await setup(2, { m: ['1'] });
    const res = await request(`${g.url}/v2/models/m/versions/1/monitor`);
    expect(res.statusCode).toBe(200);
    const body = (await res.body.json()) as {
      window_rows: number;
      counts: { workers: number };
      features: { name: string; missing_ratio: number }[];
    };
    // Each worker's window as configured (the fakes say 100), not the sum; two were merged.
    expect(body.window_rows).toBe(100);
    expect(body.counts.workers).toBe(2);
    expect(body.features[0]).toMatchObject({ name: 'f0', missing_ratio: 0.1 });
    expect((await request(`${g.url}/v2/models/m/versions/9/monitor`)).statusCode).toBe(404);
  });
});

describe('cluster metrics', () => {
  it("serves each worker's series on /metrics only when asked, and says whose could not be read", async () => {
    const g = await setup(2);
    const own = await (await request(`${g.url}/metrics`)).body.text();
    expect(own).not.toContain('fake_calls_total');
    g.metrics.includeWorkers(g.workers);
    const text = await (await request(`${g.url}/metrics`)).body.text();
    expect(text).toContain('fake_calls_total{worker="w0"} 3\nfake_calls_total{worker="w1"} 3\n');
    expect(text).toMatch(/^grove_gateway_requests_total|^# HELP grove_gateway_requests_total/m);
    await fakes[1]!.close();
    const one = await (await request(`${g.url}/metrics`)).body.text();
    expect(one).toContain('grove_gateway_worker_metrics_up{worker="w0"} 1');
    expect(one).toContain('grove_gateway_worker_metrics_up{worker="w1"} 0');
  });
});
