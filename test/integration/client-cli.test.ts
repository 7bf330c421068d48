// The client against the real processes: the library predicts exactly what a running worker
// answers (same numbers, same sha256, same error codes); `grove export` (node dist/cli/grove.js)
// writes ES and CommonJS modules that Node imports and requires and that predict the fixture.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientFixtures, mismatch } from '../../client/client-fixtures.test-helper.js';
import { loadModel } from '../../client/index.js';
import { builtFile } from '../../shared/runtime-path.js';
import {
  fixtureRows,
  makeRepository,
  modelFileOf,
  postJson,
  removeRepository,
  startWorkerProcess,
  type WorkerProcess,
} from './worker-harness.js';

const run = promisify(execFile);
const GROVE = builtFile('cli/grove.js');
const tmp = mkdtempSync(join(tmpdir(), 'grove-client-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function grove(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [GROVE, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the library answers as the server does', () => {
  const FIXTURES = ['xgboost/xgb-multiclass', 'sklearn/sk-logistic', 'lightgbm/lgb-binary-100x4'];
  let repo: string;
  let worker: WorkerProcess;
  beforeAll(async () => {
    repo = makeRepository(Object.fromEntries(FIXTURES.map((f, i) => [`m${i}`, { '1': f }])));
    worker = await startWorkerProcess(repo);
  });
  afterAll(async () => {
    await worker?.stop();
    removeRepository(repo);
  });

  it.each(FIXTURES.map((f, i) => [f, i] as const))(
    '%s: the same predictions and sha256',
    async (fixture, i) => {
      const { rows } = fixtureRows(fixture);
      const lib = await loadModel(modelFileOf(fixture));
      const res = await postJson(`${worker.url}/v1/models/m${i}:predict`, { instances: rows });
      expect(res.status).toBe(200);
      expect(lib.predict(rows)).toEqual(res.body.predictions);
      expect(res.headers.get('x-grove-model-sha256')).toBe(lib.meta.sha256);
      const raw = await postJson(`${worker.url}/v1/models/m${i}:predict`, { instances: rows, raw: true });
      expect(lib.predictRaw(rows)).toEqual(raw.body.predictions);
    },
  );

  it('the same error codes for the same bad rows', async () => {
    const lib = await loadModel(modelFileOf(FIXTURES[0]!));
    const width = lib.meta.features.length;
    const bad: unknown[][] = [
      [[1, 2, 3]],
      [[...new Array(width - 1).fill(0), 'abc']],
      [{ nope: 1 }],
      [{ f0: 'abc' }],
    ];
    for (const rows of bad) {
      const res = await postJson(`${worker.url}/v1/models/m0:predict`, { instances: rows });
      let code = 'no error';
      try {
        lib.predict(rows as never);
      } catch (err) {
        code = (err as { code: string }).code;
      }
      expect(code, JSON.stringify(rows)).toBe(res.body.code);
    }
  });
});

describe('grove export', () => {
  const f = clientFixtures().find((x) => x.name === 'lightgbm/lgb-multiclass/model.txt')!;

  it('writes an ES module Node imports and a CommonJS module Node requires', async () => {
    const esm = join(tmp, 'model.mjs');
    const res = await grove('export', '--model', f.modelFile, '--output', esm);
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(
      /wrote .*model\.mjs \(\d+ bytes, \d+ gzipped; kernel: WebAssembly, JavaScript fallback\)/,
    );
    const m = await import(pathToFileURL(esm).href);
    expect(await m.ready).toBe('wasm');
    expect(mismatch(m.predict(f.rows()), f.pred())).toBeNull();
    expect(mismatch(m.predictRaw(f.rows()), f.raw()!)).toBeNull();

    const cjs = join(tmp, 'model.cjs');
    expect((await grove('export', '--model', f.modelFile, '--output', cjs, '--target', 'cjs')).code).toBe(0);
    const c = createRequire(import.meta.url)(cjs);
    expect(await c.ready).toBe('wasm');
    expect(mismatch(c.predict(f.rows()), f.pred())).toBeNull();
    expect(readFileSync(cjs, 'utf8')).toContain('module.exports = __model;');
  });

  it('says what is wrong with its arguments and its input', async () => {
    const out = join(tmp, 'x.mjs');
    expect((await grove('export', '--model', f.modelFile)).code).toBe(2);
    const target = await grove('export', '--model', f.modelFile, '--output', out, '--target', 'umd');
    expect(target.code).toBe(2);
    expect(target.stderr).toContain('--target is esm or cjs');
    const missing = await grove('export', '--model', join(tmp, 'nope.json'), '--output', out);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('GROVE_ERR_FILE');
    expect(missing.stderr).toContain('nope.json');
    const help = await grove('export', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: grove export');
  });
});
