// Through `grove serve` (two workers): TF Serving's model status and metadata routes, and Triton's
// repository API on the gateway's admin listener (token required) applied to every worker and
// answered once all have done it, including a load with uploaded files and `grove models`.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, ROW, type Serve, startServe, twoVersionRepository } from './gateway-harness.js';
import { getJson, modelFileOf, postJson, ROOT, removeRepository } from './worker-harness.js';

let repo: string;
let s: Serve;
let workerUrls: string[];

beforeAll(async () => {
  repo = twoVersionRepository();
  s = await startServe(repo, ['--workers', '2', '--spares', '0']);
  const w = await admin(s, 'GET', '/admin/workers');
  workerUrls = (w.body.workers as { url: string }[]).map((x) => x.url);
  expect(workerUrls).toHaveLength(2);
});
afterAll(async () => {
  expect(await s?.stop()).toBe(0);
  removeRepository(repo);
});

const post = (path: string, body: unknown = {}, token = s.token) =>
  postJson(`${s.adminUrl}${path}`, body, token === '' ? {} : { authorization: `Bearer ${token}` });

async function readyOnEveryWorker(model: string): Promise<number[]> {
  return Promise.all(workerUrls.map(async (u) => (await getJson(`${u}/v2/models/${model}/ready`)).status));
}

describe('TF Serving status through the gateway', () => {
  it('answers model status and metadata as TF Serving does', async () => {
    const all = await getJson(`${s.url}/v1/models/churn`);
    expect(all.status).toBe(200);
    expect(all.body.model_version_status.map((v: { version: string }) => v.version).sort()).toEqual([
      '1',
      '2',
    ]);
    const one = await getJson(`${s.url}/v1/models/churn/versions/1`);
    expect(one.body.model_version_status).toEqual([
      { version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
    ]);
    const meta = await getJson(`${s.url}/v1/models/churn/versions/2/metadata`);
    expect(meta.status).toBe(200);
    expect(meta.body.model_spec).toMatchObject({ name: 'churn', version: '2' });
    expect((await getJson(`${s.url}/v1/models/nope`)).status).toBe(404);
  });
});

describe('repository API through the gateway', () => {
  it('needs the admin token and is not on the public port', async () => {
    expect((await post('/v2/repository/index', {}, '')).status).toBe(401);
    expect((await post('/v2/repository/index', {}, 'wrong')).status).toBe(401);
    expect((await postJson(`${s.url}/v2/repository/index`, {})).status).not.toBe(200);
  });

  it('lists the index', async () => {
    const r = await post('/v2/repository/index', { ready: true });
    expect(r.status).toBe(200);
    expect(r.body).toEqual([
      { name: 'churn', version: '1', state: 'READY', reason: '' },
      { name: 'churn', version: '2', state: 'READY', reason: '' },
    ]);
  });

  it('unloads and loads on every worker before answering', async () => {
    const u = await post('/v2/repository/models/churn/unload');
    expect([u.status, u.body.workers]).toEqual([200, 2]);
    expect(await readyOnEveryWorker('churn')).not.toContain(200);
    const l = await post('/v2/repository/models/churn/load');
    expect([l.status, l.body.workers]).toEqual([200, 2]);
    expect(await readyOnEveryWorker('churn')).toEqual([200, 200]);
  });

  it('loads uploaded files on every worker; a bad upload changes nothing', async () => {
    const file = readFileSync(modelFileOf('lightgbm/lgb-binary-100x4')).toString('base64');
    const r = await post('/v2/repository/models/extra/load', { parameters: { 'file:1/model.txt': file } });
    expect([r.status, r.body.workers]).toEqual([200, 2]);
    expect(await readyOnEveryWorker('extra')).toEqual([200, 200]);
    const bad = await post('/v2/repository/models/extra/load', { parameters: { 'file:1/../x': 'AAAA' } });
    expect([bad.status, bad.body.code]).toEqual([400, 'GROVE_ERR_BAD_UPLOAD']);
    expect(await readyOnEveryWorker('extra')).toEqual([200, 200]);
    const p = await postJson(`${workerUrls[1]}/v2/models/extra/infer`, {
      inputs: [{ name: 'input-0', datatype: 'FP64', shape: [1, 20], data: ROW }],
    });
    expect(p.status).toBe(200);
  });

  it('is driven by grove models against the gateway admin URL', async () => {
    const run = (args: string[]) =>
      promisify(execFile)(process.execPath, [join(ROOT, 'dist', 'cli', 'grove.js'), 'models', ...args], {
        env: { ...process.env, GROVE_ADMIN_TOKEN: s.token },
      });
    expect((await run(['list', '--url', s.adminUrl])).stdout).toMatch(/^churn\s+1\s+READY/m);
    await run(['unload', 'extra', '--url', s.adminUrl]);
    expect(await readyOnEveryWorker('extra')).not.toContain(200);
  });
});
