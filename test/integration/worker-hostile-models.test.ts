// A real worker process over a repository full of hostile model files (test/fixtures/hostile, a
// slow but linear pickle past the load deadline, a link to a file outside the repository, a text
// file with a secret in it) beside a good model: every hostile version ends FAILED with a reason
// that names its limit and quotes nothing from the file, a load host killed the way V8 fatal
// errors end (SIGABRT) fails its load alone, and all the while the worker keeps its pid, answers
// every prediction of the good model and exits 0 on SIGTERM even with a load in flight.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HOSTILE_CODES, HOSTILE_DIR, repositoryName } from '../../shared/runtime/testing/hostile-files.js';
import {
  getJson,
  makeRepository,
  postJson,
  removeRepository,
  startWorkerProcess,
  type WorkerProcess,
  waitFor,
} from './worker-harness.js';

const SECRET = 'SECRETMARKER-4f1c';
const outside = mkdtempSync(join(tmpdir(), 'grove-outside-'));
let repo = '';
let w: WorkerProcess | null = null;

afterAll(async () => {
  if (w) await w.stop('SIGKILL');
  if (repo) removeRepository(repo);
  rmSync(outside, { recursive: true, force: true });
});

/** A pickle that loads in linear time but slowly (3 million nested tuples as one dict key). */
function slowPickle(file: string): void {
  const levels = 3_000_000;
  const b = Buffer.alloc(4 + levels + 3, 0x85);
  b.set([0x80, 4, 0x7d, 0x4e], 0);
  b.set([0x4e, 0x73, 0x2e], 4 + levels);
  writeFileSync(file, b);
}

function put(model: string, name: string, write: (file: string) => void): void {
  const dir = join(repo, model, '1');
  mkdirSync(dir, { recursive: true });
  write(join(dir, name));
}

async function version(model: string): Promise<{ state: string; reason: string | null }> {
  return (await getJson(`${w!.url}/v2/models/${model}/versions/1`)).body;
}

const settled = (model: string) =>
  waitFor(async () => {
    const v = await version(model);
    return v.state === 'READY' || v.state === 'FAILED' ? v : undefined;
  }, 60_000);

/** The worker logged that this model's load started: it is in a load host from then on. */
const startedLoading = (p: WorkerProcess, model: string) =>
  p.stderr().includes(`"event":"model_load_started","model":"${model}"`);

function loadHostPids(pid: number): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes('load-host.js'))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

const ROW = {
  inputs: [
    { name: 'input-0', shape: [1, 20], datatype: 'FP64', data: Array.from({ length: 20 }, (_, i) => i / 10) },
  ],
};

describe('a worker over hostile model files', () => {
  it('fails every hostile version with a reason naming its limit, keeps its pid and keeps serving', async () => {
    repo = makeRepository({ good: { '1': 'xgboost/xgb-binary-100x4' } });
    for (const file of Object.keys(HOSTILE_CODES))
      put(`h-${file}`, repositoryName(file), (f) => copyFileSync(join(HOSTILE_DIR, file), f));
    put('slow', 'model.pkl', slowPickle);
    put('quoted', 'model.txt', (f) => writeFileSync(f, `${SECRET} is the first line\n`));
    writeFileSync(join(outside, 'passwd'), `root:x:0:0:${SECRET}\n`);
    put('link', 'model.txt', (f) => symlinkSync(join(outside, 'passwd'), f));
    put('inlink', 'model.json', (f) => symlinkSync(join(repo, 'good', '1', 'model.json'), f));

    w = await startWorkerProcess(repo, ['--load-timeout', '5']);
    const pid = w.child.pid!;
    // Predictions on the good model for the whole test: none may fail.
    let stop = false;
    const failures: string[] = [];
    let answered = 0;
    const loop = (async () => {
      while (!stop) {
        const r = await postJson(`${w!.url}/v2/models/good/infer`, ROW);
        if (r.status === 200) answered++;
        else failures.push(`${r.status} ${JSON.stringify(r.body)}`);
      }
    })();

    for (const file of Object.keys(HOSTILE_CODES)) {
      const v = await settled(`h-${file}`);
      expect(v.state, file).toBe('FAILED');
      expect(v.reason, file).toMatch(/\S{5,}/);
    }
    expect((await settled('slow')).reason).toMatch(/5 s deadline \(--load-timeout\)/);
    expect((await settled('link')).reason).toMatch(/links outside the model repository/);
    expect((await settled('quoted')).state).toBe('FAILED');
    expect((await settled('inlink')).state).toBe('READY');

    // A load host dying mid-load (V8's fatal errors abort the process) fails that load alone.
    put('crash', 'model.pkl', slowPickle);
    await waitFor(async () => startedLoading(w!, 'crash'), 30_000, 20);
    const hosts = loadHostPids(pid);
    expect(hosts.length).toBeGreaterThan(0);
    for (const h of hosts) process.kill(h, 'SIGABRT');
    expect((await settled('crash')).reason).toMatch(/died \(SIGABRT/);
    await waitFor(async () => w!.stderr().includes('"code":"GROVE_ERR_LOAD_CRASHED"'), 10_000);

    // Nothing from the files reached a public answer; the log may quote them.
    const models = (await getJson(`${w.url}/v2/models`)).body;
    const everything = [JSON.stringify(models)];
    for (const m of ['quoted', 'link', 'slow', 'crash', ...Object.keys(HOSTILE_CODES).map((f) => `h-${f}`)]) {
      everything.push(JSON.stringify((await getJson(`${w.url}/v2/models/${m}`)).body));
      everything.push(JSON.stringify((await postJson(`${w.url}/v2/models/${m}/versions/1/infer`, ROW)).body));
    }
    expect(everything.join('\n')).not.toContain(SECRET);
    expect(everything.join('\n')).not.toMatch(/globalThis|__groveHostileRan|touch \/tmp/);
    expect(w.stderr()).toContain(SECRET);

    stop = true;
    await loop;
    expect(failures).toEqual([]);
    expect(answered).toBeGreaterThan(0);
    expect(w.child.exitCode).toBeNull();
    expect(w.child.pid).toBe(pid);
    expect((await getJson(`${w.url}/v2/health/live`)).status).toBe(200);
    const good = await postJson(`${w.url}/v2/models/good/infer`, ROW);
    expect(good.status).toBe(200);

    // SIGTERM with a slow load in flight: the worker stops the load and exits 0.
    put('slow2', 'model.pkl', slowPickle);
    await waitFor(async () => startedLoading(w!, 'slow2'), 30_000, 20);
    expect(await w.stop('SIGTERM')).toBe(0);
    w = null;
  });
});
