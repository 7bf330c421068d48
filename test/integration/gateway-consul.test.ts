// Multi-host mode against the in-process fake Consul: real `grove worker --consul` processes
// register with a health check and their versions; two `grove gateway --consul` processes discover
// them with blocking queries and agree on split weights kept in Consul KV.
import type { ChildProcess } from 'node:child_process';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeConsul, startFakeConsul } from '../support/fake-consul.js';
import { predict, startGrove } from './gateway-harness.js';
import { makeRepository, removeRepository, waitFor } from './worker-harness.js';

let consul: FakeConsul;
let repo: string;
const procs: ChildProcess[] = [];

const start = (args: string[], ready: RegExp) => startGrove(procs, args, ready);

const until = (cond: () => Promise<boolean>) => waitFor(cond, 20_000, 50);

async function workerCount(adminUrl: string): Promise<number> {
  const res = await request(`${adminUrl}/admin/workers`, {
    headers: { authorization: 'Bearer consul-test' },
  });
  return ((await res.body.json()) as { workers: unknown[] }).workers.length;
}

beforeAll(async () => {
  consul = await startFakeConsul({ checkIntervalMs: 100 });
  repo = makeRepository({ churn: { '1': 'xgboost/xgb-binary-100x4', '2': 'lightgbm/lgb-binary-100x4' } });
});
afterAll(async () => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  await consul?.close();
  removeRepository(repo);
});

describe('gateway --consul', () => {
  it('discovers registered workers, shares KV weights across gateways, drops a deregistered worker', async () => {
    const workers = await Promise.all(
      [0, 1].map(() =>
        start(
          ['worker', '--models', repo, '--port', '0', '--consul', consul.address, '--log-level', 'warn'],
          /listening on (\S+)/,
        ),
      ),
    );
    const gwArgs = [
      'gateway',
      '--consul',
      consul.address,
      '--port',
      '0',
      '--admin-port',
      '0',
      '--admin-token',
      'consul-test',
    ];
    const ready = /gateway listening on (\S+)\n[\s\S]*admin listening on (\S+)/;
    const [g1, g2] = await Promise.all([start(gwArgs, ready), start(gwArgs, ready)]);
    const [url1, admin1] = [g1.m[1]!, g1.m[2]!];
    const [url2, admin2] = [g2.m[1]!, g2.m[2]!];
    await until(async () => (await workerCount(admin1)) === 2 && (await workerCount(admin2)) === 2);
    const models = (await (await request(`${url2}/v2/models`)).body.json()) as {
      models: { name: string; versions: string[] }[];
    };
    expect(models.models).toEqual([{ name: 'churn', versions: ['1', '2'] }]);

    const put = await request(`${admin1}/admin/models/churn/split`, {
      method: 'PUT',
      headers: { authorization: 'Bearer consul-test' },
      body: JSON.stringify({ weights: { '1': 0, '2': 100 } }),
    });
    expect(put.statusCode).toBe(200);
    await put.body.dump();
    expect(JSON.parse(consul.kv('grove/splits/churn')!)).toMatchObject({ weights: { '1': 0, '2': 100 } });
    await until(async () => (await predict(url2)).version === '2');
    for (let i = 0; i < 20; i++) expect((await predict(url2)).version).toBe('2');

    // A worker that stops deregisters; both gateways drop it and keep serving.
    workers[0]!.proc.kill('SIGTERM');
    await until(async () => (await workerCount(admin1)) === 1 && (await workerCount(admin2)) === 1);
    expect(consul.services()).toHaveLength(1);
    expect((await predict(url1)).status).toBe(200);
  });
});
