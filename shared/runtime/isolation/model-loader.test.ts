import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '../load.js';
import { type LoadedModel, ModelLoader } from './model-loader.js';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'grove-loader-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A pickle that loads in linear time, but slowly: a dict key of 3 million nested tuples. */
function slowPickle(): string {
  const file = join(tmp, 'slow.pkl');
  const levels = 3_000_000;
  const b = Buffer.alloc(4 + levels + 3, 0x85);
  b.set([0x80, 4, 0x7d, 0x4e], 0);
  b.set([0x4e, 0x73, 0x2e], 4 + levels);
  writeFileSync(file, b);
  return file;
}

/** Valid JSON whose decoding alone needs far more than 32 MB of heap (objects: V8 stops the
 *  thread promptly; one huge array would thrash the collector first). */
function bigJson(): string {
  const file = join(tmp, 'big.json');
  writeFileSync(file, `{"learner": [${'{"a":1},'.repeat(1_500_000)}{}]}`);
  return file;
}

/** The load host processes of this process (children running load-host.js). */
function hostPids(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes('load-host.js'))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => 'LOADED',
    (e: { code?: string; message: string }) => `${e.code}: ${e.message}`,
  );

describe('ModelLoader: bounded, isolated loads', () => {
  it('loads a real model in a host process: the same model, the file sha256, checked on receipt', async () => {
    const file = join(FIXTURES, 'xgboost/xgb-binary-100x4/model.json');
    const loader = new ModelLoader();
    let got: LoadedModel;
    try {
      got = await loader.load(file);
    } finally {
      await loader.close();
    }
    const local = loadModel(new Uint8Array(readFileSync(file)), { fileName: 'model.json' });
    const row = new Float64Array(local.meta.numFeatures).map((_, i) => (i % 3) - 1);
    const a = new Float64Array(1);
    const b = new Float64Array(1);
    local.predictOne(row, a);
    got.model.predictOne(row, b);
    expect(b[0]).toBe(a[0]);
    expect(Buffer.from(got.buffer).equals(Buffer.from(local.buffer))).toBe(true);
    const { createHash } = await import('node:crypto');
    expect(got.sha256).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));
  });

  it('stops a load at its deadline (GROVE_ERR_LOAD_TIMEOUT), and the next load still works', async () => {
    const loader = new ModelLoader({ timeoutMs: 300 });
    try {
      expect(await codeOf(loader.load(slowPickle()))).toMatch(/^GROVE_ERR_LOAD_TIMEOUT: .*--load-timeout/);
      expect(await codeOf(loader.load(join(FIXTURES, 'sklearn/sk-ridge/model.pkl')))).toBe('LOADED');
    } finally {
      await loader.close();
    }
  });

  it('stops a load past its heap limit (GROVE_ERR_LOAD_MEMORY), and the next load still works', async () => {
    const loader = new ModelLoader({ heapMb: 32 });
    try {
      expect(await codeOf(loader.load(bigJson(), { fileName: 'model.json' }))).toMatch(
        /^GROVE_ERR_LOAD_MEMORY: .*32 MB.*--load-memory/,
      );
      expect(await codeOf(loader.load(join(FIXTURES, 'sklearn/sk-ridge/model.pkl')))).toBe('LOADED');
    } finally {
      await loader.close();
    }
  });

  it('a load host that dies as V8 fatal errors end (SIGABRT) fails its load alone (GROVE_ERR_LOAD_CRASHED)', async () => {
    const loader = new ModelLoader({ hosts: 1 });
    try {
      const slow = loader.load(slowPickle());
      const pids = hostPids();
      expect(pids).toHaveLength(1);
      process.kill(pids[0]!, 'SIGABRT');
      expect(await codeOf(slow)).toMatch(/^GROVE_ERR_LOAD_CRASHED: .*SIGABRT/);
      // A new host takes the next load.
      expect(await codeOf(loader.load(join(FIXTURES, 'sklearn/sk-ridge/model.pkl')))).toBe('LOADED');
    } finally {
      await loader.close();
    }
  });

  it('a slow load does not hold up the next one (a second host takes it)', async () => {
    const loader = new ModelLoader({ hosts: 2 });
    try {
      let slowDone = false;
      const slow = loader.load(slowPickle()).finally(() => {
        slowDone = true;
      });
      // Its outcome is awaited only after close(): take it now, so the rejection is handled.
      const slowCode = codeOf(slow);
      expect(await codeOf(loader.load(join(FIXTURES, 'sklearn/sk-ridge/model.pkl')))).toBe('LOADED');
      expect(slowDone).toBe(false);
      await loader.close();
      expect(await slowCode).toMatch(/^GROVE_ERR_INTERNAL: .*closed/);
    } finally {
      await loader.close();
    }
  });

  it('refuses a link in the model file place unless asked to follow it (GROVE_ERR_MODEL_LINK)', async () => {
    const { symlinkSync } = await import('node:fs');
    const link = join(tmp, 'link.json');
    symlinkSync(join(FIXTURES, 'xgboost/xgb-binary-100x4/model.json'), link);
    const loader = new ModelLoader();
    try {
      expect(await codeOf(loader.load(link))).toMatch(/^GROVE_ERR_MODEL_LINK/);
      expect(await codeOf(loader.load(link, { followLinks: true }))).toBe('LOADED');
    } finally {
      await loader.close();
    }
  });
});
