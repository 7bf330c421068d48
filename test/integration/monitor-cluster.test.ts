// The cluster view: `grove serve` with two local workers answers the monitor endpoint with the
// merge of both workers' counts (shared/monitor/monitor-merge.ts), with the tracing headers, and passes
// --prediction-log to its forked workers (one NDJSON file set per worker, nothing lost on stop).
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureRows, makeRepository, profileVersion, ROOT, removeRepository } from './worker-harness.js';

const FIXTURE = 'xgboost/xgb-binary-100x4';
const CLI = join(ROOT, 'dist', 'cli', 'grove.js');
let repo: string;
let serve: ChildProcess;
let url: string;
let exited: Promise<number | null>;
const { header, rows } = fixtureRows(FIXTURE);

beforeAll(async () => {
  repo = makeRepository({ churn: { '1': FIXTURE } });
  profileVersion(repo, 'churn', '1', FIXTURE);
  serve = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--models',
      repo,
      '--port',
      '0',
      '--admin-port',
      '0',
      '--admin-token',
      't',
      '--workers',
      '2',
      '--spares',
      '0',
      // Round-robin so both workers surely get rows (p2c may keep sequential traffic on the
      // worker its latency estimate favours, leaving the other's prediction log empty).
      '--policy',
      'round-robin',
      '--prediction-log',
      join(repo, 'plog'),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  exited = new Promise((r) => serve.once('exit', (code) => r(code)));
  let out = '';
  serve.stderr!.resume();
  url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 45_000);
    serve.stdout!.setEncoding('utf8');
    serve.stdout!.on('data', (c: string) => {
      out += c;
      const m = /grove gateway listening on (http:\/\/\S+)/.exec(out);
      if (m && out.includes('grove workers:')) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
  });
  // Both workers must hold the version before traffic counts on both.
  for (let i = 0; i < 300; i++) {
    const r = await fetch(`${url}/v2/models/churn/versions/1/ready`);
    if (r.status === 200) break;
    await new Promise((r) => setTimeout(r, 50));
  }
});

afterAll(async () => {
  if (serve && serve.exitCode === null) serve.kill('SIGTERM');
  await exited;
  if (repo) removeRepository(repo);
});

describe('monitor through the gateway', () => {
  it("merges the workers' windows and names the version, its sha256 and the request id", async () => {
    const N = 300;
    for (let i = 0; i < N; i++) {
      const data = rows[i]!.map((v, f) => (f === 7 ? null : v));
      const r = await fetch(`${url}/v2/models/churn/versions/1/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          inputs: [{ name: 'input-0', shape: [1, header.length], datatype: 'FP64', data }],
        }),
      });
      expect(r.status).toBe(200);
      await r.arrayBuffer();
    }
    const r = await fetch(`${url}/v2/models/churn/versions/1/monitor`, {
      headers: { 'x-request-id': 'cluster-view-1' },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-request-id')).toBe('cluster-view-1');
    expect(r.headers.get('x-grove-model-sha256')).toMatch(/^[0-9a-f]{64}$/);
    const m = (await r.json()) as any;
    expect(m.model_name).toBe('churn');
    expect(m.model_version).toBe('1');
    expect(m.counts.workers).toBe(2);
    expect(m.rows).toBe(N); // the sum of both workers' windows
    // Each worker's window, as config.json (here the default) sets it: not their sum.
    expect(m.window_rows).toBe(1000);
    const f7 = m.features.find((f: any) => f.name === 'f7');
    expect(f7.missing_ratio).toBe(1);
    expect(f7.alarms).toContain('missing');
    // As a worker answers: each firing alarm with its value, threshold and start (null when it
    // fires on the merged rows only, a worker's window being under min_rows).
    const a7 = m.active_alarms.find((x: any) => x.feature === 'f7' && x.kind === 'missing');
    expect(a7).toMatchObject({ value: 1, threshold: expect.any(Number) });
    expect(a7.since === null || typeof a7.since === 'string').toBe(true);
    for (const f of m.features) if (f.name !== 'f7') expect(f.alarms).not.toContain('missing');
  });

  it("serves the whole cluster's metrics at the gateway's /metrics, each worker's series labelled", async () => {
    const r = await fetch(`${url}/metrics`);
    expect(r.status).toBe(200);
    const text = await r.text();
    // The gateway's own series, unlabelled, and both workers' request, model and monitor series.
    expect(text).toMatch(/^grove_gateway_requests_total\{model="churn",version="1",code="200"\} \d+$/m);
    expect(text).toMatch(/^grove_build_info\{version="[^"]*",revision="[^"]*",component="gateway"\} 1$/m);
    for (const w of ['local-0', 'local-1']) {
      expect(text).toMatch(
        new RegExp(`^grove_worker_requests_total\\{worker="${w}",[^}]*model="churn"`, 'm'),
      );
      expect(text).toMatch(
        new RegExp(`^grove_monitor_missing_ratio\\{worker="${w}",[^}]*feature="f7"\\} 1$`, 'm'),
      );
      expect(text).toMatch(
        new RegExp(`^grove_build_info\\{worker="${w}",[^}]*component="worker"\\} 1$`, 'm'),
      );
      expect(text).toContain(`grove_gateway_worker_metrics_up{worker="${w}"} 1`);
    }
    // The text format allows one HELP/TYPE per family, its samples together.
    const types = text.match(/^# TYPE \S+/gm)!;
    expect(new Set(types).size).toBe(types.length);
  });

  it('answers concurrent clients whose rows the gateway merges', async () => {
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        fetch(`${url}/v1/models/churn/versions/1:predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-request-id': `concurrent-${i}` },
          body: JSON.stringify({ instances: [rows[i]!, rows[i + 1]!].slice(0, 1 + (i % 2)) }),
        }).then(async (r) => ({
          status: r.status,
          id: r.headers.get('x-request-id'),
          body: (await r.json()) as any,
        })),
      ),
    );
    answers.forEach((a, i) => {
      expect(a.status).toBe(200);
      expect(a.id).toBe(`concurrent-${i}`);
      expect(a.body.predictions.length).toBe(1 + (i % 2));
    });
  });

  it("writes each worker's prediction log and loses nothing on a graceful stop", async () => {
    serve.kill('SIGTERM');
    expect(await exited).toBe(0);
    const dir = join(repo, 'plog');
    const files = readdirSync(dir);
    const pids = new Set(files.map((f) => f.split('-').slice(-2, -1)[0]));
    expect(pids.size).toBe(2);
    const records = files.flatMap((f) => readFileSync(join(dir, f), 'utf8').trim().split('\n'));
    expect(records.length).toBe(300 + 60);
    // Merged calls are logged per client request (x-grove-request-ids), so every id joins its rows.
    const byId = new Map(
      records.map((l) => JSON.parse(l) as { id: string; inputs: unknown[] }).map((r) => [r.id, r]),
    );
    for (let i = 0; i < 60; i++) expect(byId.get(`concurrent-${i}`)?.inputs.length).toBe(1 + (i % 2));
  });
});
