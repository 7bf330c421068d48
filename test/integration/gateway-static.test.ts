// `grove gateway --upstreams` over two real `grove worker` processes: discovery of their versions
// by health checks, forwarding of non-predict routes, 503 when every worker is gone.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predict, startGrove } from './gateway-harness.js';
import { makeRepository, removeRepository } from './worker-harness.js';

let repo: string;
const procs: ChildProcess[] = [];

const start = (args: string[], ready: RegExp) => startGrove(procs, args, ready);

beforeAll(() => {
  repo = makeRepository({ churn: { '1': 'xgboost/xgb-binary-100x4', '2': 'lightgbm/lgb-binary-100x4' } });
});
afterAll(() => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  removeRepository(repo);
});

describe('grove gateway --upstreams', () => {
  it('routes over fixed workers and answers 503 JSON when none is left', async () => {
    const ws = await Promise.all(
      [0, 1].map(() =>
        start(['worker', '--models', repo, '--port', '0', '--log-level', 'warn'], /listening on (\S+)/),
      ),
    );
    const g = await start(
      [
        'gateway',
        '--upstreams',
        ws.map((w) => w.m[1]).join(','),
        '--port',
        '0',
        '--admin-port',
        '0',
        '--admin-token',
        't',
      ],
      /gateway listening on (\S+)/,
    );
    const url = g.m[1]!;
    const r = await predict(url);
    expect(r.status).toBe(200);
    expect(r.version).toBe('2'); // no split: the latest version
    const meta = await request(`${url}/v2/models/churn`);
    expect(meta.statusCode).toBe(200);
    expect(((await meta.body.json()) as { name: string }).name).toBe('churn');
    const infer = await request(`${url}/v2/models/churn/versions/1/infer`, {
      method: 'POST',
      body: JSON.stringify({
        id: 'q1',
        inputs: [{ name: 'input-0', shape: [1, 20], datatype: 'FP64', data: Array(20).fill(0.5) }],
      }),
    });
    const ib = (await infer.body.json()) as {
      id: string;
      model_version: string;
      outputs: { data: number[] }[];
    };
    expect(ib).toMatchObject({ id: 'q1', model_version: '1' });
    expect(ib.outputs[0]!.data).toHaveLength(1);
    await Promise.all(
      ws.map((w) => {
        const gone = once(w.proc, 'exit');
        w.proc.kill('SIGKILL');
        return gone;
      }),
    );
    const gone = await predict(url, {}, '/v1/models/churn/versions/1:predict');
    expect(gone.status).toBe(503);
    expect(gone.body.code).toBe('GROVE_ERR_UNAVAILABLE');
    expect(typeof gone.body.error).toBe('string');
  });
});
