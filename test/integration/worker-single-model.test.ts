// Single-model mode on real worker processes (`grove worker --model-name NAME --model-dir DIR`, the
// contract of a KServe serving runtime): the one model file of DIR or DIR/1, under the file names
// KServe's own runtimes save (model.bst, model.pkl ...), answers as model NAME version 1 with the
// training library's predictions; readiness follows that one model.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  closeTo,
  fixtureRows,
  getJson,
  modelFileOf,
  postJson,
  ROOT,
  spawnWorker,
  type WorkerProcess,
  waitFor,
} from './worker-harness.js';

const running: WorkerProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const w of running.splice(0)) expect(await w.stop()).toBe(0);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function modelDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'grove-single-model-'));
  dirs.push(d);
  return d;
}

async function single(name: string, dir: string): Promise<WorkerProcess> {
  const w = await spawnWorker([
    '--model-name',
    name,
    '--model-dir',
    dir,
    '--port',
    '0',
    '--threads',
    '1',
    '--rescan',
    '300',
  ]);
  running.push(w);
  return w;
}

async function expectLibraryPredictions(url: string, name: string, fixture: string): Promise<void> {
  const { rows, pred } = fixtureRows(fixture);
  const k = pred[0]!.length;
  const r = await postJson(`${url}/v2/models/${name}/infer`, {
    inputs: [{ name: 'input-0', shape: [rows.length, rows[0]!.length], datatype: 'FP64', data: rows.flat() }],
  });
  expect(r.status).toBe(200);
  expect(r.body.model_name).toBe(name);
  expect(r.body.model_version).toBe('1');
  const data: number[] = r.body.outputs[0].data;
  for (let i = 0; i < rows.length; i++)
    for (let j = 0; j < k; j++)
      if (!closeTo(data[i * k + j]!, pred[i]![j]!))
        throw new Error(`${fixture} row ${i} output ${j}: ${data[i * k + j]} vs ${pred[i]![j]}`);
}

describe('grove worker --model-name NAME --model-dir DIR', () => {
  it("serves the one file of DIR under KServe's names, or of DIR/1, as NAME version 1", async () => {
    // XGBoost JSON saved as model.bst (KServe's xgbserver name), next to a profile and a README.
    const xgb = modelDir();
    copyFileSync(modelFileOf('xgboost/xgb-binary-100x4'), join(xgb, 'model.bst'));
    copyFileSync(join(ROOT, 'README.md'), join(xgb, 'README.md'));
    // LightGBM text in a Triton-style version folder.
    const lgb = modelDir();
    mkdirSync(join(lgb, '1'));
    copyFileSync(modelFileOf('lightgbm/lgb-regression'), join(lgb, '1', 'model.txt'));
    // A scikit-learn pickle named as KServe's sklearnserver looks for it.
    const sk = modelDir();
    copyFileSync(join(ROOT, 'test/fixtures/sklearn/sk-random-forest/model.pkl'), join(sk, 'model.pickle'));

    const [a, b, c] = await Promise.all([single('churn', xgb), single('demand', lgb), single('forest', sk)]);
    for (const [w, name] of [
      [a!, 'churn'],
      [b!, 'demand'],
      [c!, 'forest'],
    ] as const) {
      expect((await getJson(`${w.url}/v2/models`)).body).toEqual({ models: [{ name, versions: ['1'] }] });
      expect((await getJson(`${w.url}/v2/health/ready`)).status).toBe(200);
      expect((await getJson(`${w.url}/v2/models/${name}/ready`)).body).toMatchObject({ ready: true });
    }
    await expectLibraryPredictions(a!.url, 'churn', 'xgboost/xgb-binary-100x4');
    await expectLibraryPredictions(b!.url, 'demand', 'lightgbm/lgb-regression');
    await expectLibraryPredictions(c!.url, 'forest', 'sklearn/sk-random-forest');
    // Only NAME exists.
    const other = await postJson(`${a!.url}/v2/models/model/infer`, { inputs: [] });
    expect(other.status).toBe(404);
    expect(other.body.code).toBe('GROVE_ERR_MODEL_NOT_FOUND');
  });

  it('is not ready until the file arrives, then serves it; a second model file is reported, the first keeps serving', async () => {
    const dir = modelDir();
    const w = await single('late', dir);
    expect((await getJson(`${w.url}/v2/health/ready`)).status).toBe(503);
    expect((await getJson(`${w.url}/v2/health/live`)).status).toBe(200);
    // Written under a hidden name and renamed, as an init container or sync sidecar does.
    copyFileSync(modelFileOf('xgboost/xgb-binary-100x4'), join(dir, '.incoming'));
    renameSync(join(dir, '.incoming'), join(dir, 'model.json'));
    await waitFor(async () => (await getJson(`${w.url}/v2/health/ready`)).status === 200);
    await expectLibraryPredictions(w.url, 'late', 'xgboost/xgb-binary-100x4');

    // Two candidate files: the version reports why, and the served model keeps answering.
    copyFileSync(modelFileOf('lightgbm/lgb-regression'), join(dir, 'model.txt'));
    const meta = await waitFor(async () => {
      const m = await getJson(`${w.url}/v2/models/late`);
      return /keep exactly one/.test(JSON.stringify(m.body)) ? m.body : undefined;
    });
    expect(meta.version_states[0].reason).toMatch(/model\.json, model\.txt/);
    await expectLibraryPredictions(w.url, 'late', 'xgboost/xgb-binary-100x4');
  });

  it("the KServe runtime's own args serve the InferenceService example's model (TF Serving REST too)", async () => {
    const k = join(ROOT, 'deploy', 'kubernetes', 'kserve');
    const rt = parse(readFileSync(join(k, 'cluster-serving-runtime.yaml'), 'utf8'));
    const isvc = parse(readFileSync(join(k, 'inference-service.yaml'), 'utf8'));
    // pvc://grove-models/churn/1: that folder of the demo repository, as the storage initializer
    // would lay it in /mnt/models.
    const uri = new URL(isvc.spec.predictor.model.storageUri);
    const mnt = modelDir();
    cpSync(join(ROOT, 'models', uri.pathname), mnt, { recursive: true });
    const name: string = isvc.metadata.name;
    const args = (rt.spec.containers[0].args as string[]).map((a) =>
      a
        .replace('{{.Name}}', name)
        .replace('/mnt/models', mnt)
        .replace(/^--(grpc-)?port=\d+$/, '--$1port=0')
        .replace(/^--host=.*$/, '--host=127.0.0.1'),
    );
    expect(args[0]).toBe('worker');
    const w = await spawnWorker(args.slice(1));
    running.push(w);
    expect((await getJson(`${w.url}/v2/health/ready`)).status).toBe(200);
    const row = Array.from({ length: 20 }, (_, i) => (i % 5) - 2);
    const v2 = await postJson(`${w.url}/v2/models/${name}/infer`, {
      inputs: [{ name: 'input-0', shape: [1, 20], datatype: 'FP64', data: row }],
    });
    expect(v2.status).toBe(200);
    const v1 = await postJson(`${w.url}/v1/models/${name}:predict`, { instances: [row] });
    expect(v1.status).toBe(200);
    expect(v1.body.predictions[0]).toBe(v2.body.outputs[0].data[0]);
  });

  it('refuses a half-given or conflicting mode and a bad name (exit 2)', () => {
    const cli = join(ROOT, 'dist', 'cli', 'grove.js');
    const dir = modelDir();
    for (const args of [
      ['--model-name', 'm'],
      ['--model-dir', dir],
      ['--model-name', 'm', '--model-dir', dir, '--models', dir],
      ['--model-name', '../etc', '--model-dir', dir],
    ]) {
      const r = spawnSync(process.execPath, [cli, 'worker', ...args, '--port', '0'], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/--model-name/);
    }
  });
});
