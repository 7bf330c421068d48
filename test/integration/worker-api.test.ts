// A real worker process on a repository of fixture models: both protocols against the library's
// own predictions, named features, metadata and health, the malformed-request corpus, metrics.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeTo,
  FIXTURES,
  fixtureRows,
  getJson,
  makeRepository,
  modelFileOf,
  postJson,
  removeRepository,
  startWorkerProcess,
  type WorkerProcess,
} from './worker-harness.js';

const MODELS: Record<string, string> = {
  xgb: 'xgboost/xgb-binary-100x4',
  multi: 'xgboost/xgb-multiclass',
  lgb: 'lightgbm/lgb-binary-100x4',
  lgbmulti: 'lightgbm/lgb-multiclass',
  named: 'xgboost/xgb-binary-500x8',
  skgb: 'sklearn/sk-gbdt-multiclass',
  skrf: 'sklearn/sk-random-forest',
  sklog: 'sklearn/sk-logistic',
};
const SPARSE = 'sklearn/sk-sparse-dictvectorizer-logistic';
const NAMES = [
  'age',
  'plan',
  'income',
  'tenure',
  'calls',
  'region',
  'score',
  'visits',
  ...Array.from({ length: 12 }, (_, i) => `x${i}`),
];

let repo: string;
let w: WorkerProcess;

beforeAll(async () => {
  repo = makeRepository({
    ...Object.fromEntries(Object.entries(MODELS).map(([m, f]) => [m, { '1': f }])),
    sparse: { '1': SPARSE },
  });
  writeFileSync(
    join(repo, 'named', 'config.json'),
    JSON.stringify({ features: NAMES, monitor: { window_rows: 10 } }),
  );
  w = await startWorkerProcess(repo);
});

afterAll(async () => {
  expect(await w.stop()).toBe(0);
  removeRepository(repo);
});

function expectRowsClose(got: number[][], want: number[][]): void {
  expect(got.length).toBe(want.length);
  for (let r = 0; r < want.length; r++) {
    for (let k = 0; k < want[r]!.length; k++) {
      if (!closeTo(got[r]![k]!, want[r]![k]!))
        throw new Error(`row ${r} col ${k}: ${got[r]![k]} vs ${want[r]![k]}`);
    }
  }
}

describe('worker API against the fixtures', () => {
  for (const [model, fixture] of Object.entries(MODELS)) {
    it(`v2 infer matches ${fixture} (one request for all rows on the pool, and one-row requests inline)`, async () => {
      const { rows, pred } = fixtureRows(fixture);
      const F = rows[0]!.length;
      const k = pred[0]!.length;
      const r = await postJson(`${w.url}/v2/models/${model}/infer`, {
        id: 'all-rows',
        inputs: [{ name: 'input-0', shape: [rows.length, F], datatype: 'FP64', data: rows.flat() }],
      });
      expect(r.status).toBe(200);
      expect(r.body.id).toBe('all-rows');
      expect(r.body.model_name).toBe(model);
      expect(r.body.model_version).toBe('1');
      const out = r.body.outputs[0];
      expect(out.datatype).toBe('FP64');
      expect(out.shape).toEqual(k === 1 ? [rows.length] : [rows.length, k]);
      const got: number[][] = [];
      for (let i = 0; i < rows.length; i++) got.push(out.data.slice(i * k, i * k + k));
      expectRowsClose(got, pred);
      for (let i = 0; i < 10; i++) {
        const one = await postJson(`${w.url}/v2/models/${model}/versions/1/infer`, {
          inputs: [
            {
              name: 'input-0',
              shape: [1, F],
              datatype: 'FP32',
              data: [rows[i]!.map((x) => (x === null ? 'NaN' : x))],
            },
          ],
        });
        expect(one.status).toBe(200);
        expectRowsClose([one.body.outputs[0].data], [pred[i]!]);
      }
    });

    it(`v1 predict matches ${fixture}`, async () => {
      const { rows, pred } = fixtureRows(fixture);
      const r = await postJson(`${w.url}/v1/models/${model}:predict`, { instances: rows.slice(0, 300) });
      expect(r.status).toBe(200);
      expect(r.body.model_name).toBe(model);
      expect(r.body.model_version).toBe('1');
      const got = r.body.predictions.map((p: number | number[]) => (Array.isArray(p) ? p : [p]));
      expectRowsClose(got, pred.slice(0, 300));
    });
  }

  it('a sparse DictVectorizer pipeline takes named rows (v1 and NDJSON batch) and matches the library', async () => {
    const rows = readFileSync(join(FIXTURES, SPARSE, 'test.ndjson'), 'utf8')
      .trim()
      .split('\n');
    const pred = readFileSync(join(FIXTURES, SPARSE, 'pred.csv'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(',').map(Number));
    const r = await postJson(`${w.url}/v1/models/sparse:predict`, {
      instances: rows.slice(0, 100).map((l) => JSON.parse(l)),
    });
    expect(r.status).toBe(200);
    expectRowsClose(r.body.predictions, pred.slice(0, 100));
    const b = await fetch(`${w.url}/v1/models/sparse:batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: rows.join('\n') + '\n',
    });
    expect(b.status).toBe(200);
    const out = (await b.text())
      .trim()
      .split('\n')
      .map((l) => Object.values(JSON.parse(l)) as number[]);
    expectRowsClose(out, pred);
    const meta = await getJson(`${w.url}/v2/models/sparse`);
    expect(meta.body.platform).toMatch(/^sklearn_(pickle|joblib)$/);
  });

  it('takes tritonclient binary tensor data (Inference-Header-Content-Length)', async () => {
    const { rows, pred } = fixtureRows(MODELS.multi!);
    const data = new Float32Array(
      rows
        .slice(0, 5)
        .flat()
        .map((x) => (x === null ? Number.NaN : x)),
    );
    const header = Buffer.from(
      JSON.stringify({
        inputs: [
          {
            name: 'input-0',
            shape: [5, 20],
            datatype: 'FP32',
            parameters: { binary_data_size: data.byteLength },
          },
        ],
      }),
    );
    const r = await fetch(`${w.url}/v2/models/multi/infer`, {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': String(header.length),
      },
      body: Buffer.concat([header, Buffer.from(data.buffer)]),
    });
    expect(r.status).toBe(200);
    const out = ((await r.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data;
    expectRowsClose(
      [0, 1, 2, 3, 4].map((i) => out.slice(i * 3, i * 3 + 3)),
      pred.slice(0, 5),
    );
  });

  it('v1 raw margins match raw.csv', async () => {
    const { rows } = fixtureRows(MODELS.xgb!);
    const raw = readFileSync(join(FIXTURES, MODELS.xgb!, 'raw.csv'), 'utf8')
      .trim()
      .split('\n')
      .map(Number);
    const r = await postJson(`${w.url}/v1/models/xgb/versions/1:predict`, {
      instances: rows.slice(0, 50),
      raw: true,
    });
    expect(r.status).toBe(200);
    expectRowsClose(
      r.body.predictions.map((x: number) => [x]),
      raw.slice(0, 50).map((x) => [x]),
    );
  });

  it('named features from config.json: absent and null are missing, unknown names are a 400 naming them', async () => {
    const { rows, pred } = fixtureRows(MODELS.named!);
    const instances = rows.slice(0, 40).map((row) => {
      const o: Record<string, number | null> = {};
      row.forEach((x, j) => {
        if (x === null) {
          if (j % 2 === 0) o[NAMES[j]!] = null; // null and absent both mean missing
        } else o[NAMES[j]!] = x;
      });
      return o;
    });
    const r = await postJson(`${w.url}/v1/models/named:predict`, { instances });
    expect(r.status).toBe(200);
    expectRowsClose(
      r.body.predictions.map((x: number) => [x]),
      pred.slice(0, 40),
    );
    const bad = await postJson(`${w.url}/v1/models/named:predict`, {
      instances: [{ age: 1, zipcode: 2, f0: 3 }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('GROVE_ERR_UNKNOWN_FEATURE');
    expect(bad.body.error).toContain('zipcode');
    expect(bad.body.error).toContain('f0');
    const meta = await getJson(`${w.url}/v2/models/named`);
    expect(meta.body.inputs[0].shape).toEqual([-1, 20]);
    expect(meta.body.feature_names).toEqual(NAMES);
  });

  it('names model, version, sha256 and request id on every model response', async () => {
    const { rows } = fixtureRows(MODELS.xgb!);
    const sha = createHash('sha256')
      .update(readFileSync(modelFileOf(MODELS.xgb!)))
      .digest('hex');
    const r = await postJson(
      `${w.url}/v1/models/xgb:predict`,
      { instances: [rows[0]] },
      { 'x-request-id': 'trace-42' },
    );
    expect(r.headers.get('x-request-id')).toBe('trace-42');
    expect(r.headers.get('x-grove-model')).toBe('xgb');
    expect(r.headers.get('x-grove-model-version')).toBe('1');
    expect(r.headers.get('x-grove-model-sha256')).toBe(sha);
    const fresh = await getJson(`${w.url}/v2/health/live`);
    expect(fresh.headers.get('x-request-id')).toMatch(/\S+/);
    const meta = await getJson(`${w.url}/v2/models/xgb`);
    expect(meta.body.version_states[0]).toMatchObject({ version: '1', state: 'READY', sha256: sha });
  });

  it('serves the Open Inference Protocol metadata and health routes', async () => {
    expect((await getJson(`${w.url}/v2/health/live`)).status).toBe(200);
    expect((await getJson(`${w.url}/v2/health/ready`)).status).toBe(200);
    const server = await getJson(`${w.url}/v2`);
    expect(server.body).toMatchObject({ name: 'grove', extensions: ['binary_tensor_data'] });
    expect(typeof server.body.version).toBe('string');
    const list = await getJson(`${w.url}/v2/models`);
    expect(list.body.models.map((m: { name: string }) => m.name).sort()).toEqual(
      [...Object.keys(MODELS), 'sparse'].sort(),
    );
    expect(list.body.models[0].versions).toEqual(['1']);
    const meta = await getJson(`${w.url}/v2/models/multi`);
    expect(meta.body).toMatchObject({ name: 'multi', versions: ['1'], platform: 'xgboost_json' });
    expect(meta.body.inputs[0]).toMatchObject({ name: 'input-0', shape: [-1, 20] });
    expect(meta.body.outputs[0]).toMatchObject({ name: 'output-0', datatype: 'FP64', shape: [-1, 3] });
    const lgb = await getJson(`${w.url}/v2/models/lgb/versions/1`);
    expect(lgb.body).toMatchObject({
      name: 'lgb',
      versions: ['1'],
      platform: 'lightgbm_text',
      state: 'READY',
    });
    expect((await getJson(`${w.url}/v2/models/lgb/ready`)).status).toBe(200);
    expect((await getJson(`${w.url}/v2/models/lgb/versions/1/ready`)).status).toBe(200);
    expect((await getJson(`${w.url}/v2/models/lgb/versions/9/ready`)).status).toBe(404);
    expect((await getJson(`${w.url}/v2/models/nope/ready`)).status).toBe(404);
  });

  it('answers every malformed request with a 4xx JSON error and a code, and stays up', async () => {
    const row = fixtureRows(MODELS.xgb!).rows[0]!;
    const tensor = (x: object) => ({
      inputs: [{ name: 'input-0', shape: [1, 20], datatype: 'FP64', data: row, ...x }],
    });
    const corpus: Array<[string, string, string | object, number]> = [
      ['POST', '/v2/models/xgb/infer', '{"inputs": [', 400],
      ['POST', '/v2/models/xgb/infer', '', 400],
      ['POST', '/v2/models/xgb/infer', 'null', 400],
      ['POST', '/v2/models/xgb/infer', '[]', 400],
      ['POST', '/v2/models/xgb/infer', { inputs: 'x' }, 400],
      ['POST', '/v2/models/xgb/infer', tensor({ shape: [1, 19] }), 400],
      ['POST', '/v2/models/xgb/infer', tensor({ shape: [2, 20] }), 400],
      ['POST', '/v2/models/xgb/infer', tensor({ datatype: 'BYTES' }), 400],
      ['POST', '/v2/models/xgb/infer', tensor({ datatype: 7 }), 400],
      ['POST', '/v2/models/xgb/infer', tensor({ data: row.map(() => 'abc') }), 400],
      ['POST', '/v2/models/xgb/infer', tensor({ data: [row.slice(0, 10), row.slice(10)] }), 400],
      ['POST', '/v2/models/xgb/infer', tensor({ shape: [1, 1e9] }), 400],
      [
        'POST',
        '/v2/models/xgb/infer',
        '{"__proto__":{"x":1},"constructor":{"prototype":{"y":1}},"inputs":[]}',
        400,
      ],
      ['POST', '/v2/models/nope/infer', tensor({}), 404],
      ['POST', '/v2/models/xgb/versions/7/infer', tensor({}), 404],
      ['POST', '/v2/models/xgb/versions/abc/infer', tensor({}), 404],
      ['POST', '/v1/models/xgb:predict', { instances: [[1, 2]] }, 400],
      ['POST', '/v1/models/xgb:predict', { instances: [{ __proto__: 1, constructor: 2 }] }, 400],
      ['POST', '/v1/models/xgb:predict', '{"instances":[{"__proto__":1,"constructor":2}]}', 400],
      ['POST', '/v1/models/xgb:predict', { instances: [[null, ...row.slice(1, 19), { a: 1 }]] }, 400],
      ['POST', '/v1/models/xgb:predict', { instances: 5 }, 400],
      ['POST', '/v1/models/xgb:batch', 'a,b\n1,2\n', 415],
      ['GET', '/v2/models/xgb/infer', '', 405],
      ['DELETE', '/v2/models', '', 405],
      ['GET', '/v3/anything', '', 404],
      ['GET', '/v2/models/%E0%A4%A', '', 400],
    ];
    for (const [method, path, body, status] of corpus) {
      const r = await fetch(`${w.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body:
          method === 'GET' || method === 'DELETE'
            ? undefined
            : typeof body === 'string'
              ? body
              : JSON.stringify(body),
      });
      const text = await r.text();
      expect(r.status, `${method} ${path} ${text}`).toBe(status);
      const parsed = JSON.parse(text);
      expect(typeof parsed.error, path).toBe('string');
      expect(parsed.code, path).toMatch(/^GROVE_ERR_/);
      if (status === 405) expect(r.headers.get('allow')).toBeTruthy();
    }
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect((await getJson(`${w.url}/v2/health/live`)).status).toBe(200);
    expect(w.child.exitCode).toBeNull();
  });

  it('exposes Prometheus metrics by model, version and status', async () => {
    const r = await fetch(`${w.url}/metrics`);
    expect(r.headers.get('content-type')).toContain('text/plain');
    const text = await r.text();
    expect(text).toMatch(
      /grove_worker_requests_total\{model="xgb",version="1",route="predict",code="200"\} \d+/,
    );
    expect(text).toMatch(
      /grove_worker_request_duration_seconds_bucket\{le="[^"]+",model="xgb",version="1",route="infer",code="200"\}/,
    );
    expect(text).toMatch(/grove_worker_rows_predicted_total\{model="multi",version="1"\} [1-9]/);
    expect(text).toMatch(/grove_worker_model_loads_total\{model="lgb",version="1"\} 1/);
    expect(text).toMatch(/grove_worker_model_version_state\{model="xgb",version="1",state="READY"\} 1/);
    expect(text).toMatch(/grove_worker_inflight_requests \d+/);
    expect(text).toMatch(/grove_worker_event_loop_delay_seconds\{percentile="99"\}/);
    expect(text).toMatch(/grove_worker_requests_total\{model="",version="",route="other",code="404"\} \d+/);
    // Every sample line is `name{labels} value`.
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/);
    }
    // promtool's naming rules: only counters end in _total; only summaries carry `quantile`.
    const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    for (const [name, type] of types) {
      if (name.endsWith('_total')) expect(`${name} ${type}`).toBe(`${name} counter`);
      if (type !== 'summary') expect(text).not.toMatch(new RegExp(`^${name}\\{[^}]*quantile=`, 'm'));
    }
  });
});
