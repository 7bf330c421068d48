// TF Serving's model status and metadata routes on a real worker, as TF Serving answers them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  getJson,
  makeRepository,
  removeRepository,
  startWorkerProcess,
  type WorkerProcess,
} from './worker-harness.js';

let repo: string;
let w: WorkerProcess;

beforeAll(async () => {
  repo = makeRepository({ churn: { '1': 'xgboost/xgb-binary-100x4', '2': 'lightgbm/lgb-multiclass' } });
  mkdirSync(join(repo, 'churn', '3'), { recursive: true });
  writeFileSync(join(repo, 'churn', '3', 'model.txt'), 'not a lightgbm model\n');
  w = await startWorkerProcess(repo);
});

afterAll(async () => {
  expect(await w.stop()).toBe(0);
  removeRepository(repo);
});

describe('TF Serving model status', () => {
  it('lists every version with its state, newest first', async () => {
    const r = await getJson(`${w.url}/v1/models/churn`);
    expect(r.status).toBe(200);
    const [v3, v2, v1] = r.body.model_version_status;
    expect(v2).toEqual({ version: '2', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } });
    expect(v1.state).toBe('AVAILABLE');
    expect(v3.version).toBe('3');
    expect(v3.state).toBe('END');
    expect(v3.status.error_code).toBe('UNKNOWN');
    expect(v3.status.error_message.length).toBeGreaterThan(0);
  });

  it('answers one version, and 404 for an unknown model or version', async () => {
    const r = await getJson(`${w.url}/v1/models/churn/versions/1`);
    expect(r.body).toEqual({
      model_version_status: [
        { version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
      ],
    });
    expect((await getJson(`${w.url}/v1/models/nope`)).body.code).toBe('GROVE_ERR_MODEL_NOT_FOUND');
    expect((await getJson(`${w.url}/v1/models/churn/versions/9`)).status).toBe(404);
  });
});

describe('without an admin token', () => {
  it('has no repository API', async () => {
    const r = await fetch(`${w.url}/v2/repository/index`, { method: 'POST' });
    expect(r.status).toBe(404);
  });
});

describe('TF Serving model metadata', () => {
  it('describes the serving_default signature of the latest or a given version', async () => {
    const latest = await getJson(`${w.url}/v1/models/churn/metadata`);
    expect(latest.status).toBe(200);
    expect(latest.body.model_spec).toEqual({ name: 'churn', signature_name: '', version: '2' });
    const sig = latest.body.metadata.signature_def.signature_def.serving_default;
    expect(sig.method_name).toBe('tensorflow/serving/predict');
    expect(sig.inputs['input-0'].dtype).toBe('DT_DOUBLE');
    expect(sig.outputs['output-0'].tensor_shape.dim.map((d: { size: string }) => d.size)).toEqual([
      '-1',
      '3',
    ]);
    const v1 = await getJson(`${w.url}/v1/models/churn/versions/1/metadata`);
    const sig1 = v1.body.metadata.signature_def.signature_def.serving_default;
    expect(sig1.inputs['input-0']).toEqual({
      dtype: 'DT_FLOAT',
      tensor_shape: {
        dim: [
          { size: '-1', name: '' },
          { size: '20', name: '' },
        ],
        unknown_rank: false,
      },
      name: 'input-0',
    });
    expect((await getJson(`${w.url}/v1/models/churn/versions/3/metadata`)).status).toBe(503);
  });
});
