// Hot swap, broken versions, removal and graceful shutdown on a real worker process while
// requests run: none may fail.
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  addVersion,
  fixtureRows,
  getJson,
  makeRepository,
  postJson,
  removeRepository,
  startWorkerProcess,
  type WorkerProcess,
  waitFor,
} from './worker-harness.js';

/** Log lines travel through the child's stderr pipe and can arrive after the HTTP answer: wait a little. */
async function loggedEvent(p: { stderr(): string }, event: string): Promise<void> {
  await waitFor(async () => p.stderr().includes(`"event":"${event}"`), 5_000).catch(() => undefined);
}

const V1 = 'xgboost/xgb-binary-100x4';
const V2 = 'lightgbm/lgb-binary-100x4';
const V3 = 'xgboost/xgb-binary-500x8';

let repo = '';
let w: WorkerProcess | null = null;

afterEach(async () => {
  if (w) expect(await w.stop()).toBe(0);
  w = null;
  if (repo) removeRepository(repo);
  repo = '';
});

/**
 * Keeps `concurrency` request loops running until stop(); records statuses and versions seen.
 * `more(n)` resolves once n more answers have come back: the test then knows requests ran across
 * the change it just made, without guessing a duration.
 */
function loadLoop(url: string, body: unknown, concurrency = 6) {
  let stop = false;
  let answered = 0;
  let waiters: { at: number; resolve: () => void }[] = [];
  const statuses = new Map<number, number>();
  const versions = new Set<string>();
  const failures: string[] = [];
  const loops = Array.from({ length: concurrency }, async () => {
    while (!stop) {
      try {
        const r = await postJson(url, body);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status === 200) versions.add(r.body.model_version);
        else failures.push(`${r.status} ${JSON.stringify(r.body)}`);
      } catch (err) {
        failures.push(String(err));
      }
      answered++;
      for (const w of waiters) if (answered >= w.at) w.resolve();
      waiters = waiters.filter((w) => answered < w.at);
    }
  });
  return {
    versions,
    statuses,
    failures,
    more(n: number): Promise<void> {
      return new Promise((resolve) => waiters.push({ at: answered + n, resolve }));
    },
    async stop() {
      stop = true;
      await Promise.all(loops);
    },
  };
}

function oneRow(): unknown {
  const row = fixtureRows(V1).rows[0]!;
  return { inputs: [{ name: 'input-0', shape: [1, 20], datatype: 'FP64', data: row }] };
}

describe('worker model repository', () => {
  it('swaps in a new version under load with zero failed requests, and reports a broken one while the others serve', async () => {
    repo = makeRepository({ churn: { '1': V1 } });
    w = await startWorkerProcess(repo);
    const load = loadLoop(`${w.url}/v2/models/churn/infer`, oneRow());
    await load.more(30);
    addVersion(repo, 'churn', '2', V2);
    await waitFor(async () => load.versions.has('2'));
    // A broken new version: garbage in a model file. Version 2 keeps serving.
    mkdirSync(join(repo, 'churn', '3'));
    writeFileSync(join(repo, 'churn', '3', 'model.json'), '{"learner": {"this is": "not a model"');
    const meta = await waitFor(async () => {
      const m = await getJson(`${w!.url}/v2/models/churn`);
      const s = m.body.version_states?.find((x: { version: string }) => x.version === '3');
      return s?.state === 'FAILED' ? m : undefined;
    });
    const failed = meta.body.version_states.find((x: { version: string }) => x.version === '3');
    expect(failed.reason).toMatch(/\S{5,}/);
    expect(meta.body.versions).toEqual(['1', '2']);
    expect(meta.body.latest_version).toBe('2');
    await load.more(30); // requests keep succeeding while the broken version sits there
    await load.stop();
    expect(load.failures).toEqual([]);
    expect(load.versions.has('1')).toBe(true);
    expect([...load.versions].sort()).toEqual(['1', '2']);
    const v3 = await postJson(`${w.url}/v2/models/churn/versions/3/infer`, oneRow());
    expect(v3.status).toBe(503);
    expect(v3.body.code).toBe('GROVE_ERR_VERSION_UNAVAILABLE');
    const metrics = await (await fetch(`${w.url}/metrics`)).text();
    expect(metrics).toMatch(/grove_worker_model_load_failures_total\{model="churn",version="3"\} 1/);
    expect(metrics).toMatch(/grove_worker_model_version_state\{model="churn",version="3",state="FAILED"\} 1/);
    await loggedEvent(w, 'model_load_failed');
    expect(w.stderr()).toContain('"event":"model_load_failed"');
    expect(w.stderr()).toContain('"event":"model_loaded"');
  });

  it('keeps the old file serving when a READY version is rewritten broken, and swaps in a good rewrite', async () => {
    repo = makeRepository({ churn: { '1': V1 } });
    w = await startWorkerProcess(repo);
    const before = await postJson(`${w.url}/v2/models/churn/infer`, oneRow());
    const sha1 = before.headers.get('x-grove-model-sha256');
    const load = loadLoop(`${w.url}/v2/models/churn/infer`, oneRow(), 4);
    writeFileSync(join(repo, 'churn', '1', 'model.json'), 'not json at all');
    const meta = await waitFor(async () => {
      const m = await getJson(`${w!.url}/v2/models/churn/versions/1`);
      return m.body.reason ? m : undefined;
    });
    expect(meta.body.state).toBe('READY');
    expect(meta.body.reason).toContain('reload failed');
    const still = await postJson(`${w.url}/v2/models/churn/infer`, oneRow());
    expect(still.status).toBe(200);
    expect(still.headers.get('x-grove-model-sha256')).toBe(sha1);
    // A good rewrite (another model with the same width) replaces the version in place.
    rmSync(join(repo, 'churn', '1', 'model.json'));
    addVersion(repo, 'churn', '1', V3);
    await waitFor(async () => {
      const r = await postJson(`${w!.url}/v2/models/churn/infer`, oneRow());
      return r.headers.get('x-grove-model-sha256') !== sha1;
    });
    await load.stop();
    expect(load.failures).toEqual([]);
    await loggedEvent(w, 'model_swapped');
    expect(w.stderr()).toContain('"event":"model_swapped"');
  });

  it('drains and unloads a removed version; requests without a version move to the latest left', async () => {
    repo = makeRepository({ churn: { '1': V1, '2': V2 } });
    w = await startWorkerProcess(repo);
    expect((await getJson(`${w.url}/v2/models`)).body.models[0].versions).toEqual(['1', '2']);
    const load = loadLoop(`${w.url}/v2/models/churn/infer`, oneRow(), 4);
    await load.more(20);
    rmSync(join(repo, 'churn', '2'), { recursive: true });
    await waitFor(async () => {
      const m = await getJson(`${w!.url}/v2/models`);
      return m.body.models[0].versions.length === 1;
    });
    await load.more(20);
    await load.stop();
    expect(load.failures).toEqual([]);
    const after = await postJson(`${w.url}/v2/models/churn/infer`, oneRow());
    expect(after.body.model_version).toBe('1');
    expect((await postJson(`${w.url}/v2/models/churn/versions/2/infer`, oneRow())).status).toBe(404);
    await waitFor(async () => w!.stderr().includes('"event":"model_unloaded"'));
  });

  it('serves a model file too young to load at the first scan once it says it listens', async () => {
    repo = makeRepository({ churn: { '1': V1 } });
    // Dated ahead, so the first scan certainly finds it younger than the settle time (it may still
    // be being written) however fast the worker starts: listening must still mean it is READY.
    const file = join(repo, 'churn', '1', 'model.json');
    const ahead = new Date(Date.now() + 1500);
    utimesSync(file, ahead, ahead);
    w = await startWorkerProcess(repo);
    expect((await getJson(`${w.url}/v2/models`)).body.models[0].versions).toEqual(['1']);
    expect((await getJson(`${w.url}/v2/health/ready`)).status).toBe(200);
  });

  it('honours config.json version_policy latest', async () => {
    repo = makeRepository({ churn: { '1': V1, '2': V2, '3': V3 } });
    writeFileSync(
      join(repo, 'churn', 'config.json'),
      JSON.stringify({ version_policy: { latest: { num_versions: 2 } } }),
    );
    w = await startWorkerProcess(repo);
    expect((await getJson(`${w.url}/v2/models`)).body.models[0].versions).toEqual(['2', '3']);
  });

  it('reloads the versions when config.json changes (new feature names), without failing requests', async () => {
    repo = makeRepository({ churn: { '1': V1 } });
    w = await startWorkerProcess(repo);
    const load = loadLoop(`${w.url}/v2/models/churn/infer`, oneRow(), 3);
    const names = Array.from({ length: 20 }, (_, i) => `col_${i}`);
    writeFileSync(join(repo, 'churn', 'config.json'), JSON.stringify({ features: names }));
    await waitFor(async () => {
      const m = await getJson(`${w!.url}/v2/models/churn`);
      return m.body.feature_names?.[0] === 'col_0';
    });
    const r = await postJson(`${w.url}/v1/models/churn:predict`, { instances: [{ col_3: 1.5 }] });
    expect(r.status).toBe(200);
    await load.stop();
    expect(load.failures).toEqual([]);
  });

  it('finishes in-flight requests on SIGTERM and exits 0', async () => {
    repo = makeRepository({ churn: { '1': V3 } });
    const p = await startWorkerProcess(repo);
    const { rows } = fixtureRows(V3);
    // A streamed batch big enough to still be running when the signal arrives.
    const header = fixtureRows(V3).header.join(',');
    let csv = header + '\n';
    const body = rows.map((r) => r.map((x) => (x === null ? '' : String(x))).join(',')).join('\n') + '\n';
    for (let i = 0; i < 10; i++) csv += body;
    // The answer's head arrives once the worker has predicted the first chunks: the batch is then
    // in flight, and the signal comes while the rest is still being read and predicted.
    const res = await fetch(`${p.url}/v1/models/churn:batch`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: csv,
    });
    const stopped = p.stop('SIGTERM');
    const r = { status: res.status, lines: (await res.text()).trim().split('\n').length };
    const code = await stopped;
    expect(r.status).toBe(200);
    expect(r.lines).toBe(rows.length * 10 + 1);
    expect(code).toBe(0);
    expect(p.stderr()).toContain('"event":"stopped"');
  });
});
