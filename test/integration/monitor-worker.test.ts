// A real worker (`node dist/cli/grove.js worker`) on a repository whose version has a profile:
// normal rows raise no alarm; rows with one feature always missing raise `missing` on that feature
// only; rows with one feature shifted raise `drift` on it (and the missing alarm resolves). Checked
// on the monitor endpoint, /metrics (and promtool when installed) and an in-test webhook receiver;
// the prediction log holds every request after a graceful stop.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fixtureRows,
  makeRepository,
  postJson,
  profileVersion,
  ROOT,
  removeRepository,
  startWorkerProcess,
  type WorkerProcess,
} from './worker-harness.js';

const FIXTURE = 'xgboost/xgb-binary-100x4';
const CLI = join(ROOT, 'dist', 'cli', 'grove.js');
const WINDOW = 500;

let repo: string;
let worker: WorkerProcess;
let receiver: http.Server;
let hookUrl: string;
const notices: Array<Record<string, unknown>> = [];
const { header, rows } = fixtureRows(FIXTURE);
const F = header.length;
let requests = 0;

async function send(batch: (number | null)[][]): Promise<void> {
  for (let i = 0; i < batch.length; i += 25) {
    const chunk = batch.slice(i, i + 25);
    const r = await postJson(`${worker.url}/v2/models/churn/versions/1/infer`, {
      inputs: [{ name: 'input-0', shape: [chunk.length, F], datatype: 'FP64', data: chunk.flat() }],
    });
    expect(r.status).toBe(200);
    requests++;
  }
}

async function monitor(): Promise<any> {
  const r = await fetch(`${worker.url}/v2/models/churn/versions/1/monitor`);
  expect(r.status).toBe(200);
  expect(r.headers.get('x-request-id')).toBeTruthy();
  expect(r.headers.get('x-grove-model-sha256')).toMatch(/^[0-9a-f]{64}$/);
  return r.json();
}

async function metrics(): Promise<string> {
  return (await fetch(`${worker.url}/metrics`)).text();
}

function alarmsOf(m: any): string[] {
  const out: string[] = [];
  for (const f of m.features) for (const k of f.alarms) out.push(`${f.name}:${k}`);
  for (const k of m.prediction.alarms) out.push(`__prediction__:${k}`);
  return out.sort();
}

async function waitFor(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !pred(); i++) {
    await fetch(`${worker.url}/v2/models/churn/versions/1/monitor`); // reading evaluates alarms
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(pred(), what).toBe(true);
}

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      notices.push(JSON.parse(body));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

  repo = makeRepository({ churn: { '1': FIXTURE } });
  // The profile comes from the first 1000 fixture rows; live traffic uses the other 1000.
  profileVersion(repo, 'churn', '1', FIXTURE, 1000);
  writeFileSync(
    join(repo, 'churn/config.json'),
    JSON.stringify({ monitor: { window_rows: WINDOW, min_rows: 200 } }),
  );
  worker = await startWorkerProcess(repo, [
    '--alert-webhook',
    hookUrl,
    '--prediction-log',
    join(repo, 'plog'),
  ]);
  // A fresh model file loads once it has settled (the worker waits for writers to finish).
  for (let i = 0; i < 200; i++) {
    if ((await fetch(`${worker.url}/v2/models/churn/versions/1/ready`)).status === 200) break;
    await new Promise((r) => setTimeout(r, 50));
  }
});

afterAll(async () => {
  await worker?.stop();
  receiver?.close();
  if (repo) removeRepository(repo);
});

describe('monitor on a live worker', () => {
  it('raises no alarm on normal rows', async () => {
    await send(rows.slice(1000, 1000 + WINDOW));
    const m = await monitor();
    expect(m.model_name).toBe('churn');
    expect(m.model_version).toBe('1');
    expect(m.window_rows).toBe(WINDOW);
    expect(m.rows).toBe(WINDOW);
    expect(m.features.map((f: any) => f.name)).toEqual(header);
    expect(alarmsOf(m)).toEqual([]);
    for (const f of m.features) {
      expect(f.psi).toBeLessThan(0.25);
      expect(f.missing_ratio).toBeLessThan(0.2);
    }
    expect(typeof m.prediction.psi).toBe('number');
    const text = await metrics();
    expect(text).toMatch(/grove_monitor_alarm\{model="churn",version="1",feature="f3",kind="missing"\} 0/);
    expect(text).not.toMatch(/grove_monitor_alarm\{[^}]*\} 1/);
    expect(notices).toEqual([]);
  });

  it('raises missing on the feature that goes missing, and on no other feature', async () => {
    await send(rows.slice(1500, 1500 + WINDOW).map((r) => r.map((v, i) => (i === 3 ? null : v))));
    const m = await monitor();
    const f3 = m.features.find((f: any) => f.name === 'f3');
    expect(f3.missing_ratio).toBe(1);
    expect(f3.alarms).toEqual(['missing']);
    for (const f of m.features) if (f.name !== 'f3') expect(f.alarms).toEqual([]);
    const text = await metrics();
    expect(text).toMatch(/grove_monitor_alarm\{model="churn",version="1",feature="f3",kind="missing"\} 1/);
    expect(text).toMatch(/grove_monitor_missing_ratio\{model="churn",version="1",feature="f3"\} 1/);
    // The only alarm firing anywhere (the output's, too, is quiet: inhibited by the input's alarm).
    expect(text.match(/^grove_monitor_alarm\{.*\} 1$/gm)).toEqual([
      'grove_monitor_alarm{model="churn",version="1",feature="f3",kind="missing"} 1',
    ]);
    await waitFor(
      () => notices.some((n) => n.feature === 'f3' && n.kind === 'missing' && n.state === 'firing'),
      'webhook firing',
    );
    const firing = notices.find((n) => n.feature === 'f3' && n.state === 'firing')!;
    // The notice may come from the once-a-second evaluation while the rows were still arriving.
    expect(firing).toMatchObject({ model: 'churn', version: '1', kind: 'missing' });
    expect(firing.threshold).toBeGreaterThan(0.2);
    expect(firing.value).toBeGreaterThan(firing.threshold as number);
    expect(Number.isNaN(Date.parse(firing.at as string))).toBe(false);
    expect(
      notices
        .filter((n) => n.state === 'firing' && n.feature !== '__prediction__')
        .map((n) => `${n.feature}:${n.kind}`),
    ).toEqual(['f3:missing']);
  });

  it('raises drift on a shifted feature, and the missing alarm resolves', async () => {
    await send(
      rows.slice(1000, 1000 + WINDOW).map((r) => r.map((v, i) => (i === 5 && v !== null ? v + 25 : v))),
    );
    const m = await monitor();
    const f5 = m.features.find((f: any) => f.name === 'f5');
    expect(f5.psi).toBeGreaterThan(0.25);
    expect(f5.alarms).toContain('drift');
    expect(m.features.find((f: any) => f.name === 'f3').alarms).toEqual([]);
    for (const f of m.features) if (f.name !== 'f5') expect(f.alarms).toEqual([]);
    const text = await metrics();
    expect(text).toMatch(/grove_monitor_alarm\{model="churn",version="1",feature="f5",kind="drift"\} 1/);
    expect(text).toMatch(/grove_monitor_psi\{model="churn",version="1",feature="f5"\} /);
    await waitFor(
      () => notices.some((n) => n.feature === 'f3' && n.kind === 'missing' && n.state === 'resolved'),
      'webhook resolved',
    );
    await waitFor(
      () => notices.some((n) => n.feature === 'f5' && n.kind === 'drift' && n.state === 'firing'),
      'webhook drift',
    );
    if (spawnSync('promtool', ['--version']).status === 0) {
      // Only the monitor's families: the rest of /metrics belongs to the worker's own checks.
      const mine = text
        .split('\n')
        .filter((l) => /^(# (HELP|TYPE) )?grove_(monitor|prediction_log)_/.test(l))
        .join('\n');
      const check = spawnSync('promtool', ['check', 'metrics'], { input: `${mine}\n`, encoding: 'utf8' });
      expect(check.stderr + check.stdout).toBe('');
      expect(check.status).toBe(0);
    }
    // One log line each way.
    expect(worker.stderr()).toMatch(/monitor alarm firing: missing on f3/);
    expect(worker.stderr()).toMatch(/monitor alarm resolved: missing on f3/);
  });

  it('writes every request to the prediction log by the graceful stop', async () => {
    expect(await worker.stop()).toBe(0);
    const dir = join(repo, 'plog');
    expect(existsSync(dir)).toBe(true);
    const records = readdirSync(dir).flatMap((f) =>
      readFileSync(join(dir, f), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    );
    expect(records.length).toBe(requests);
    const r = records[0];
    expect(Object.keys(r).sort()).toEqual(['id', 'inputs', 'model', 'outputs', 'sha256', 'time', 'version']);
    expect(r.inputs.length).toBe(25);
    expect(r.inputs[0].length).toBe(F);
    expect(r.sha256).toMatch(/^[0-9a-f]{64}$/);
    // The log feeds `grove ab-report`: label every logged row (`<id>:<row>`) and join them back.
    const labels = ['id,label'];
    for (const rec of records)
      for (const [i, row] of (rec.inputs as (number | null)[][]).entries()) {
        labels.push(`${rec.id}:${i},${(row[0] ?? 0) + (row[1] ?? 0) > 0 ? 1 : 0}`);
      }
    writeFileSync(join(repo, 'labels.csv'), `${labels.join('\n')}\n`);
    const out = execFileSync(
      process.execPath,
      [CLI, 'ab-report', '--log', dir, '--labels', join(repo, 'labels.csv'), '--json', '-'],
      { encoding: 'utf8' },
    );
    const report = JSON.parse(out);
    expect(report.joined_rows).toBe(requests * 25);
    expect(report.models[0].versions[0]).toMatchObject({ version: '1', n: requests * 25 });
    expect(report.models[0].versions[0].sha256).toEqual([r.sha256]);
    expect(typeof report.models[0].versions[0].metrics.auc).toBe('number');
  });
});
