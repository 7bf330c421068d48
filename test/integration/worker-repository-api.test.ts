// The model repository API (Triton's extension) on a real worker with an admin token: the index,
// loads with uploaded files (written atomically, loaded through the ordinary path, undone when
// they fail), unload and load again, hostile uploads, and `grove models` against it.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fixtureRows,
  makeRepository,
  modelFileOf,
  postJson,
  ROOT,
  removeRepository,
  startWorkerProcess,
  type WorkerProcess,
} from './worker-harness.js';

const TOKEN = 'repo-secret-1';
const auth = { authorization: `Bearer ${TOKEN}` };
let repo: string;
let w: WorkerProcess;

beforeAll(async () => {
  repo = makeRepository({ churn: { '1': 'xgboost/xgb-binary-100x4' } });
  w = await startWorkerProcess(repo, ['--admin-token', TOKEN, '--max-upload', '3000000']);
});

afterAll(async () => {
  expect(await w.stop()).toBe(0);
  removeRepository(repo);
});

const post = (path: string, body: unknown = {}, headers: Record<string, string> = auth) =>
  postJson(`${w.url}${path}`, body, headers);

function b64(fixture: string): string {
  return readFileSync(modelFileOf(fixture)).toString('base64');
}

describe('model repository API', () => {
  it('needs the bearer token', async () => {
    expect((await post('/v2/repository/index', {}, {})).status).toBe(401);
    const wrong = await post('/v2/repository/index', {}, { authorization: 'Bearer nope' });
    expect([wrong.status, wrong.body.code]).toEqual([401, 'GROVE_ERR_UNAUTHORIZED']);
    const meta = (await (await fetch(`${w.url}/v2`)).json()) as { extensions: string[] };
    expect(meta.extensions).toContain('model_repository');
  });

  it('lists model versions and their states', async () => {
    const r = await post('/v2/repository/index');
    expect(r.status).toBe(200);
    expect(r.body).toEqual([{ name: 'churn', version: '1', state: 'READY', reason: '' }]);
  });

  it('loads a new model from uploaded files and a config, and serves it', async () => {
    const r = await post('/v2/repository/models/demand/load', {
      parameters: {
        config: JSON.stringify({ version_policy: { latest: 1 } }),
        'file:1/model.txt': b64('lightgbm/lgb-regression'),
      },
    });
    expect(r.status).toBe(200);
    expect(r.body.versions).toEqual([{ version: '1', state: 'READY', reason: '' }]);
    expect(JSON.parse(readFileSync(join(repo, 'demand', 'config.json'), 'utf8'))).toEqual({
      version_policy: { latest: 1 },
    });
    const { rows, pred } = fixtureRows('lightgbm/lgb-regression');
    const p = await postJson(`${w.url}/v2/models/demand/infer`, {
      inputs: [{ name: 'input-0', datatype: 'FP64', shape: [1, rows[0]!.length], data: rows[0] }],
    });
    expect(p.status).toBe(200);
    expect(p.body.outputs[0].data[0]).toBeCloseTo(pred[0]![0]!, 6);
    // Nothing is left staged in the repository.
    expect(readdirSync(repo).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('undoes an upload that fails to load: a bad file changes nothing', async () => {
    const r = await post('/v2/repository/models/churn/load', {
      parameters: { 'file:2/model.json': Buffer.from('{"learner": "nonsense"}').toString('base64') },
    });
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('GROVE_ERR_LOAD_FAILED');
    expect(existsSync(join(repo, 'churn', '2'))).toBe(false);
    const idx = await post('/v2/repository/index', { ready: true });
    expect(idx.body.filter((x: { name: string }) => x.name === 'churn')).toEqual([
      { name: 'churn', version: '1', state: 'READY', reason: '' },
    ]);
  });

  it('puts a replaced file back when its replacement fails to load', async () => {
    const file = join(repo, 'churn', '1', 'model.json');
    const before = readFileSync(file);
    const r = await post('/v2/repository/models/churn/load', {
      parameters: { 'file:1/model.txt': Buffer.from('tree\nnot really\n').toString('base64') },
    });
    expect([r.status, r.body.code]).toEqual([422, 'GROVE_ERR_LOAD_FAILED']);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(existsSync(join(repo, 'churn', '1', 'model.txt'))).toBe(false);
    const back = await post('/v2/repository/models/churn/load');
    expect(back.body.versions).toEqual([{ version: '1', state: 'READY', reason: '' }]);
  });

  it('refuses hostile uploads before writing anything', async () => {
    for (const [key, value, code] of [
      ['file:../evil/model.json', 'e30=', 'GROVE_ERR_BAD_UPLOAD'],
      ['file:1/../../x.sh', 'e30=', 'GROVE_ERR_BAD_UPLOAD'],
      ['file:1/run.py', 'e30=', 'GROVE_ERR_BAD_UPLOAD'],
      ['file:1/model.json', 'not base64!', 'GROVE_ERR_BAD_UPLOAD'],
      ['config', '{"features": 3}', 'GROVE_ERR_BAD_CONFIG'],
    ] as const) {
      const r = await post('/v2/repository/models/evil/load', { parameters: { [key]: value } });
      expect([r.status >= 400 && r.status < 500, r.body.code]).toEqual([true, code]);
    }
    expect(existsSync(join(repo, 'evil'))).toBe(false);
    const bad = await post('/v2/repository/models/..%2Fx/load', {});
    expect(bad.status).toBe(400);
    const big = await post('/v2/repository/models/big/load', {
      parameters: { 'file:1/model.json': 'A'.repeat(3_100_000) },
    });
    expect([big.status, big.body.code]).toEqual([413, 'GROVE_ERR_BODY_TOO_LARGE']);
  });

  it('unloads a model and loads it back', async () => {
    const row = fixtureRows('xgboost/xgb-binary-100x4').rows[0]!;
    const infer = () =>
      postJson(`${w.url}/v2/models/churn/infer`, {
        inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 20], data: row }],
      });
    expect((await post('/v2/repository/models/churn/unload')).status).toBe(200);
    expect((await infer()).status).toBe(503);
    const idx = await post('/v2/repository/index');
    expect(idx.body).toContainEqual({ name: 'churn', state: 'UNAVAILABLE', reason: 'unloaded' });
    expect((await post('/v2/repository/models/nope/unload')).status).toBe(404);
    const back = await post('/v2/repository/models/churn/load');
    expect(back.status).toBe(200);
    expect((await infer()).status).toBe(200);
  });

  it('is driven by grove models list|load|unload', async () => {
    const run = (args: string[]) =>
      promisify(execFile)(process.execPath, [join(ROOT, 'dist', 'cli', 'grove.js'), 'models', ...args], {
        env: { ...process.env, GROVE_ADMIN_TOKEN: TOKEN },
      });
    const list = await run(['list', '--url', w.url]);
    expect(list.stdout).toMatch(/^churn\s+1\s+READY/m);
    const load = await run([
      'load',
      'clf',
      '--url',
      w.url,
      '--file',
      `3=${modelFileOf('lightgbm/lgb-binary-100x4')}`,
    ]);
    expect(JSON.parse(load.stdout).versions).toEqual([{ version: '3', state: 'READY', reason: '' }]);
    await run(['unload', 'clf', '--url', w.url]);
    expect((await run(['list', '--url', w.url])).stdout).toMatch(/^clf\s+-\s+UNAVAILABLE\s+unloaded/m);
    const refused = await run(['list', '--url', w.url, '--token', 'wrong']).catch((e: { code: number }) => e);
    expect((refused as { code: number }).code).toBe(2);
    expect((refused as { stderr: string }).stderr).toMatch(/GROVE_ERR_UNAUTHORIZED/);
  });
});
