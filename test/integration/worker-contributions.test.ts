import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCsv } from '../../shared/runtime/fixtures.test-helper.js';
import {
  addVersion,
  FIXTURES,
  fixtureRows,
  getJson,
  makeRepository,
  postJson,
  profileVersion,
  removeRepository,
  startWorkerProcess,
  type WorkerProcess,
} from './worker-harness.js';

const MODELS: Record<string, string> = {
  xgb: 'xgboost/xgb-binary-100x4',
  multi: 'lightgbm/lgb-multiclass',
  big: 'xgboost/xgb-binary-500x8',
  lineartree: 'derived/lgb-linear-tree',
  sklog: 'sklearn/sk-logistic',
  sparse: 'sklearn/sk-sparse-dictvectorizer-logistic',
};

let repo: string;
let w: WorkerProcess;

beforeAll(async () => {
  repo = makeRepository(Object.fromEntries(Object.entries(MODELS).map(([m, f]) => [m, { '1': f }])));
  // `watched`: the xgb model with contribution tracking on and a profile that records contributions.
  addVersion(repo, 'watched', '1', MODELS.xgb!);
  writeFileSync(
    join(repo, 'watched', 'config.json'),
    JSON.stringify({
      monitor: { contributions: { sample: 1, window_rows: 100, min_rows: 50, budget_ms: 1000 } },
    }),
  );
  profileVersion(repo, 'watched', '1', MODELS.xgb!);
  w = await startWorkerProcess(repo);
}, 60_000);

afterAll(async () => {
  await w?.stop();
  removeRepository(repo);
});

const want = (fixture: string) => readCsv(`${FIXTURES}/${fixture}/contribs.csv`, false);

function expectContribs(got: number[], fixture: string, first: number, rows: number): void {
  const c = want(fixture);
  expect(got.length).toBe(rows * c.cols);
  for (let i = 0; i < got.length; i++) {
    const wv = c.data[first * c.cols + i]!;
    if (!(Math.abs(got[i]! - wv) <= 1e-5 * (1 + Math.abs(wv))))
      expect.fail(`value ${i}: got ${got[i]}, want ${wv}`);
  }
}

describe('Open Inference Protocol', () => {
  it('parameters.contributions adds a contributions tensor beside the prediction', async () => {
    const { rows } = fixtureRows(MODELS.xgb!);
    const r = await postJson(`${w.url}/v2/models/xgb/infer`, {
      inputs: [{ name: 'input-0', shape: [3, 20], datatype: 'FP64', data: rows.slice(0, 3).flat() }],
      parameters: { contributions: true },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.outputs.map((o: { name: string }) => o.name)).toEqual(['output-0', 'contributions']);
    const c = r.body.outputs[1];
    expect(c.datatype).toBe('FP64');
    expect(c.shape).toEqual([3, 21]);
    expect(c.parameters.feature_names).toEqual([...Array.from({ length: 20 }, (_, i) => `f${i}`), 'bias']);
    expect(c.parameters.margin_names).toEqual(['margin']);
    expectContribs(c.data, MODELS.xgb!, 0, 3);
  });

  it('asking for the contributions output alone answers with it alone; multiclass blocks per class', async () => {
    const { rows } = fixtureRows(MODELS.multi!);
    const F = rows[0]!.length;
    const r = await postJson(`${w.url}/v2/models/multi/infer`, {
      inputs: [{ name: 'input-0', shape: [2, F], datatype: 'FP64', data: rows.slice(5, 7).flat() }],
      outputs: [{ name: 'contributions' }],
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.outputs).toHaveLength(1);
    const c = r.body.outputs[0];
    expect(c.name).toBe('contributions');
    expect(c.shape).toEqual([2, 3 * (F + 1)]);
    expect(c.parameters.margin_names).toHaveLength(3);
    expectContribs(c.data, MODELS.multi!, 5, 2);
  });

  it('many rows of a large model are computed on the pool and still match', async () => {
    const { rows } = fixtureRows(MODELS.big!);
    const r = await postJson(`${w.url}/v2/models/big/infer`, {
      inputs: [{ name: 'input-0', shape: [40, 20], datatype: 'FP32', data: rows.slice(100, 140).flat() }],
      outputs: [{ name: 'output-0' }, { name: 'contributions' }],
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.outputs[1].shape).toEqual([40, 21]);
    expectContribs(r.body.outputs[1].data, MODELS.big!, 100, 40);
    // and the prediction beside them is the library's
    const { pred } = fixtureRows(MODELS.big!);
    const got: number[] = r.body.outputs[0].data;
    for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(pred[100 + i]![0]!, 6);
  });
});

describe('TF Serving v1', () => {
  it('"contributions": true adds named contributions per row', async () => {
    const { header, rows } = fixtureRows(MODELS.xgb!);
    const named = Object.fromEntries(header.map((h, j) => [h, rows[7]![j]]));
    const r = await postJson(`${w.url}/v1/models/xgb:predict`, {
      instances: [rows[6], named],
      contributions: true,
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.predictions).toHaveLength(2);
    expect(r.body.contributions).toHaveLength(2);
    const row = r.body.contributions[1];
    expect(Object.keys(row)).toEqual([...header, 'bias']);
    expectContribs(
      r.body.contributions.flatMap((o: Record<string, number>) => Object.values(o)),
      MODELS.xgb!,
      6,
      2,
    );
  });

  it('multiclass rows are one object per margin column', async () => {
    const { rows } = fixtureRows(MODELS.multi!);
    const r = await postJson(`${w.url}/v1/models/multi:predict`, {
      instances: [rows[0]],
      contributions: true,
    });
    expect(r.status).toBe(200);
    const row = r.body.contributions[0];
    expect(Object.keys(row)).toEqual(['0', '1', '2']);
    expectContribs(
      Object.values(row).flatMap((o) => Object.values(o as Record<string, number>)),
      MODELS.multi!,
      0,
      1,
    );
  });
});

describe('refusals and malformed requests', () => {
  it('linear trees, linear models without a training mean and sparse models: 422 with a code', async () => {
    const cases: [string, string, unknown][] = [
      ['lineartree', 'GROVE_ERR_EXPLAIN_UNSUPPORTED', [Array(6).fill(0.5)]],
      ['sklog', 'GROVE_ERR_EXPLAIN_NO_BACKGROUND', [Array(20).fill(0.5)]],
      ['sparse', 'GROVE_ERR_EXPLAIN_UNSUPPORTED', [{ a: 1 }]],
    ];
    for (const [model, code, instances] of cases) {
      const r = await postJson(`${w.url}/v1/models/${model}:predict`, { instances, contributions: true });
      expect(r.status, `${model}: ${JSON.stringify(r.body)}`).toBe(422);
      expect(r.body.code).toBe(code);
      expect(typeof r.body.error).toBe('string');
      // and without contributions the model still predicts
      const plain = await postJson(`${w.url}/v1/models/${model}:predict`, { instances });
      expect(plain.status).toBe(200);
    }
  });

  it('a flag that is not a boolean, or an unknown output, is a 400', async () => {
    const input = { name: 'input-0', shape: [1, 20], datatype: 'FP64', data: Array(20).fill(0) };
    const a = await postJson(`${w.url}/v2/models/xgb/infer`, {
      inputs: [input],
      parameters: { contributions: 'yes' },
    });
    expect(a.status).toBe(400);
    expect(a.body.code).toBe('GROVE_ERR_BAD_INPUT');
    const b = await postJson(`${w.url}/v2/models/xgb/infer`, {
      inputs: [input],
      outputs: [{ name: 'shap' }],
    });
    expect(b.status).toBe(400);
    expect(b.body.code).toBe('GROVE_ERR_UNKNOWN_OUTPUT');
    expect(b.body.error).toMatch(/contributions/);
    const c = await postJson(`${w.url}/v1/models/xgb:predict`, {
      instances: [Array(20).fill(0)],
      contributions: 1,
    });
    expect(c.status).toBe(400);
  });
});

describe('model metadata', () => {
  it('lists importance per feature from the file and says whether contributions are available', async () => {
    const want = JSON.parse(readFileSync(`${FIXTURES}/derived/importance.json`, 'utf8'))[
      'xgboost/xgb-binary-100x4'
    ];
    const r = await getJson(`${w.url}/v2/models/xgb`);
    expect(r.status).toBe(200);
    expect(r.body.importance).toHaveLength(20);
    expect(r.body.importance[3].name).toBe('f3');
    expect(r.body.importance.map((i: { splits: number }) => i.splits)).toEqual(want.splits);
    expect(r.body.importance[3].gain).toBeCloseTo(want.gain[3], 3);
    expect(r.body.contributions).toEqual({ available: true, shape: [-1, 21] });
    const lt = await getJson(`${w.url}/v2/models/lineartree/versions/1`);
    expect(lt.body.contributions).toMatchObject({ available: false, code: 'GROVE_ERR_EXPLAIN_UNSUPPORTED' });
    const lin = await getJson(`${w.url}/v2/models/sklog`);
    expect(lin.body.importance).toBeNull();
  });
});

describe('influence monitoring (monitor.contributions in config.json)', () => {
  it('tracks mean |contribution| per feature and fires when a feature’s influence moves', async () => {
    const profile = JSON.parse(readFileSync(join(repo, 'watched', '1', 'profile.json'), 'utf8'));
    expect(profile.contributions.mean_abs).toHaveLength(20);
    const { rows } = fixtureRows(MODELS.xgb!);
    const send = (batch: (number | null)[][]) =>
      postJson(`${w.url}/v1/models/watched:predict`, { instances: batch });
    expect((await send(rows.slice(0, 100))).status).toBe(200);
    const quiet = await getJson(`${w.url}/v2/models/watched/versions/1/monitor`);
    expect(quiet.status).toBe(200);
    expect(quiet.body.contributions).toMatchObject({ rows: 100, baseline: true, explained: 100 });
    expect(quiet.body.active_alarms.filter((a: { kind: string }) => a.kind === 'influence')).toEqual([]);
    // f18 pinned at 0 for the next window: its contributions collapse
    expect((await send(rows.slice(100, 200).map((r) => r.map((v, j) => (j === 18 ? 0 : v))))).status).toBe(
      200,
    );
    const moved = await getJson(`${w.url}/v2/models/watched/versions/1/monitor`);
    const f18 = moved.body.contributions.features[18];
    expect(f18.name).toBe('f18');
    expect(f18.alarms).toEqual(['influence']);
    expect(f18.influence).toBeGreaterThan(Math.LN2);
    const metrics = await (await fetch(`${w.url}/metrics`)).text();
    expect(metrics).toMatch(/grove_monitor_alarm\{[^}]*feature="f18",kind="influence"\} 1/);
    expect(metrics).toMatch(/grove_monitor_mean_abs_contribution\{[^}]*feature="f18"\}/);
  });
});
