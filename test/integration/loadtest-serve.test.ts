// The newcomer's path on the demo repository: `grove serve --models models` (what `npm start`
// runs), `GET /v2/models`, a prediction on the first model listed, then `grove loadtest --json`
// against the running cluster: the demo's 90/10 split (models/churn/config.json) shows in the
// per-version counts and sticky users keep their version.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadReport } from '../../loadtest/load-recorder.js';

const root = join(import.meta.dirname, '..', '..');
const grove = join(root, 'dist', 'cli', 'grove.js');
const state = mkdtempSync(join(tmpdir(), 'grove-serve-state-'));
let serve: ChildProcess;
let base: string;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  const port = await freePort();
  const adminPort = await freePort();
  base = `http://127.0.0.1:${port}`;
  serve = spawn(
    process.execPath,
    // --state-dir: a split stored by anyone must not land in the demo repository.
    [
      grove,
      'serve',
      '--models',
      join(root, 'models'),
      '--port',
      String(port),
      '--admin-port',
      String(adminPort),
    ].concat(['--workers', '2', '--state-dir', state]),
    { stdio: 'ignore', detached: true, env: { ...process.env, GROVE_ADMIN_TOKEN: 'test-token' } },
  );
  const deadline = Date.now() + 45_000;
  for (;;) {
    const ok = await fetch(`${base}/v2/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline || serve.exitCode !== null) throw new Error('grove serve did not become ready');
    await new Promise((r) => setTimeout(r, 200));
  }
});

afterAll(() => {
  try {
    process.kill(-serve.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
  rmSync(state, { recursive: true, force: true });
});

describe('grove serve on the demo repository', () => {
  it('lists the demo models and predicts on the first one', async () => {
    const { models } = (await (await fetch(`${base}/v2/models`)).json()) as {
      models: Array<{ name: string }>;
    };
    expect(models.map((m) => m.name).sort()).toEqual(['churn', 'demand']);
    const first = models[0]!.name;
    const meta = (await (await fetch(`${base}/v2/models/${first}`)).json()) as {
      inputs: Array<{ shape: number[] }>;
    };
    const width = meta.inputs[0]!.shape[1]!;
    expect(width).toBe(20);
    const res = await fetch(`${base}/v2/models/${first}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [
          {
            name: 'input-0',
            shape: [2, width],
            datatype: 'FP64',
            data: Array.from({ length: 2 * width }, (_, i) => (i % 7) / 3),
          },
        ],
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      model_name: string;
      model_version: string;
      outputs: Array<{ data: number[] }>;
    };
    expect(body.model_name).toBe(first);
    expect(res.headers.get('x-grove-model-version')).toBe(body.model_version);
    expect(body.outputs[0]!.data).toHaveLength(2);
    expect(body.outputs[0]!.data.every(Number.isFinite)).toBe(true);
  });

  it('grove loadtest --json sees the demo 90/10 split, sticky per user, with no failures', () => {
    const r = spawnSync(
      process.execPath,
      [
        grove,
        'loadtest',
        '--url',
        base,
        '--model',
        'churn',
        '--rate',
        '100',
        '--duration',
        '2',
        '--sticky-users',
        '1000',
      ].concat(['--quiet', '--json']),
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as LoadReport;
    expect(report.requests).toBe(200);
    expect(report.errors + report.non2xx).toBe(0);
    expect(Object.keys(report.versions).sort()).toEqual(['1', '2']);
    expect(report.versions['1']!).toBeGreaterThan(report.versions['2']!);
    expect(report.sticky!.users_with_one_version).toBe(report.sticky!.users_seen);
  });
});
