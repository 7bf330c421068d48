// A repository that serves less than it seems to, as a newcomer makes one: a model file put
// without a version folder, a model whose only version fails to load, a --models folder that does
// not exist. The worker and the gateway say so: at start, in GET /v2/models, and (for the failed
// model) as 503 with the load reason instead of 404.
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Serve, startServe } from './gateway-harness.js';
import {
  makeRepository,
  modelFileOf,
  postJson,
  removeRepository,
  startWorkerProcess,
  type WorkerProcess,
} from './worker-harness.js';

const LOOSE =
  'mymodel/model.json is not in a version folder, so it is not served: move it to mymodel/1/model.json';
const ROW = { instances: [Array.from({ length: 20 }, () => 0.5)] };
let repo: string;

beforeAll(() => {
  repo = makeRepository({ good: { '1': 'xgboost/xgb-binary-100x4' } });
  // A real model file, straight in the model's folder.
  mkdirSync(join(repo, 'mymodel'), { recursive: true });
  cpSync(modelFileOf('xgboost/xgb-binary-100x4'), join(repo, 'mymodel', 'model.json'));
  // A model whose only version is not a model.
  mkdirSync(join(repo, 'broken', '1'), { recursive: true });
  writeFileSync(join(repo, 'broken', '1', 'model.json'), '{"learner": 42}');
});
afterAll(() => removeRepository(repo));

async function listing(
  url: string,
): Promise<{ models: Array<Record<string, unknown>>; problems?: string[] }> {
  return (await fetch(`${url}/v2/models`)).json() as never;
}

describe('a worker says what its repository does not serve', () => {
  let w: WorkerProcess;
  beforeAll(async () => {
    w = await startWorkerProcess(repo, ['--threads', '1']);
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('logs each layout problem at start and lists them in GET /v2/models', async () => {
    expect(w.stderr()).toContain(`"event":"repository_problem","problem":"${LOOSE}"`);
    const l = await listing(w.url);
    expect(l.problems).toEqual([LOOSE]);
    expect(l.models.find((m) => m.name === 'good')).toEqual({ name: 'good', versions: ['1'] });
  });

  it('a model whose only version failed answers 503 with the load reason', async () => {
    const l = await listing(w.url);
    const broken = l.models.find((m) => m.name === 'broken')!;
    expect(broken.versions).toEqual([]);
    expect(broken.reason).toMatch(/^version 1 failed to load: /);
    for (const path of ['/v1/models/broken:predict', '/v2/models/broken/infer']) {
      const body = path.endsWith('infer')
        ? { inputs: [{ name: 'input-0', shape: [1, 20], datatype: 'FP64', data: ROW.instances[0] }] }
        : ROW;
      const r = await postJson(w.url + path, body);
      expect(r.status, path).toBe(503);
      expect(r.body.code).toBe('GROVE_ERR_MODEL_UNAVAILABLE');
      expect(r.body.error).toBe(`model 'broken' has no READY version (${broken.reason})`);
    }
  });
});

describe('grove serve says it too, at the one endpoint', () => {
  let s: Serve;
  beforeAll(async () => {
    s = await startServe(repo, ['--workers', '1', '--spares', '0']);
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('prints the problems at start and lists them at the gateway', async () => {
    expect(s.stderr()).toContain(`grove serve: warning: ${LOOSE}\n`);
    const l = await listing(s.url);
    expect(l.problems).toEqual([LOOSE]);
    expect(l.models).toEqual([{ name: 'good', versions: ['1'] }]);
  });

  it('the failed model is 503 with the reason at the gateway, not 404', async () => {
    const r = await postJson(`${s.url}/v1/models/broken:predict`, ROW);
    expect(r.status).toBe(503);
    expect(r.body.code).toBe('GROVE_ERR_MODEL_UNAVAILABLE');
    expect(r.body.error).toMatch(/^model 'broken' has no READY version \(version 1 failed to load: /);
    const unknown = await postJson(`${s.url}/v1/models/nope:predict`, ROW);
    expect(unknown.status).toBe(404);
  });
});

describe('grove serve --models on a folder that does not exist', () => {
  it('says so at start and in the listing', async () => {
    const missing = join(repo, 'not-here');
    const s = await startServe(missing, ['--workers', '1', '--spares', '0']);
    try {
      const problem = `model repository '${missing}' does not exist: make it, with one folder per model and one numbered folder per version (<model>/1/model.json)`;
      expect(s.stderr()).toContain(`grove serve: warning: ${problem}\n`);
      expect(await listing(s.url)).toEqual({ models: [], problems: [problem] });
    } finally {
      await s.stop();
    }
  });
});
