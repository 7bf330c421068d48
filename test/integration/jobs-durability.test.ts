// A job survives its gateway: SIGKILL in the middle of a job and a restart on the same state dir
// (PGlite) resume it from its last committed chunk, and every input row ends with exactly one
// stored prediction, equal to `grove predict`'s. Cancelling a running job stops it.
import { describe, expect, it } from 'vitest';
import { freshStateDir } from '../support/pglite-template.js';
import {
  expectedPredictions,
  type GroveProcess,
  http,
  jobsSuite,
  keyedCsv,
  startGroveProcess,
} from './jobs-harness.js';
import { waitFor } from './worker-harness.js';

let worker: GroveProcess;
let state: string;
const suite = jobsSuite({
  models: { churn: { '1': 'xgboost/xgb-binary-100x4' } },
  tmpPrefix: 'grove-jobs-kill-',
  async before({ repo, dir, procs }) {
    state = await freshStateDir(dir);
    worker = await startGroveProcess(['worker', '--models', repo, '--port', '0'], procs, false);
  },
});
const { procs, hooks } = suite;

function gateway(): Promise<GroveProcess> {
  return startGroveProcess(
    [
      'gateway',
      '--upstreams',
      worker.url,
      '--port',
      '0',
      '--admin-port',
      '0',
      '--state-dir',
      state,
      '--job-chunk-rows',
      '25',
      '--job-concurrency',
      '1',
      '--job-webhook',
      `${hooks.url}/all`,
    ],
    procs,
  );
}

async function submitted(gw: GroveProcess, csv: string): Promise<string> {
  // The gateway learns the worker's versions from its health checks: wait until it serves the model.
  await waitFor(async () => (await http(`${gw.url}/v2/models/churn`)).status === 200);
  const r = await http(`${gw.url}/v1/models/churn/versions/1/jobs?key=id`, 'POST', csv, {
    'content-type': 'text/csv',
  });
  expect(r.status).toBe(202);
  return r.json.id;
}

describe('jobs survive a killed gateway (PGlite)', () => {
  it('SIGKILL mid-job, restart on the same state dir: the job resumes and stores each row exactly once', async () => {
    const { csv, rows, plain } = keyedCsv('xgboost/xgb-binary-100x4', 0, 5);
    let gw = await gateway();
    const id = await submitted(gw, csv);
    const before = await waitFor(async () => {
      const j = (await http(`${gw.url}/v1/jobs/${id}`)).json;
      return j.rows_done >= 200 && j;
    });
    await gw.kill('SIGKILL');
    expect(before.status).toBe('running');
    expect(before.rows_done).toBeLessThan(rows);

    gw = await gateway();
    const resumed = (await http(`${gw.url}/v1/jobs/${id}`)).json;
    expect(resumed.rows_done).toBeGreaterThanOrEqual(before.rows_done); // committed progress kept
    const end = await hooks.ended(id);
    expect(end.job).toMatchObject({ status: 'succeeded', rows_total: rows, rows_done: rows, rows_failed: 0 });

    const lines = (await http(`${gw.url}/v1/jobs/${id}/results`)).text.trimEnd().split('\n');
    const expected = expectedPredictions('xgboost/xgb-binary-100x4', plain, suite.dir);
    expect(lines).toHaveLength(rows + 1);
    expect(lines.slice(1)).toEqual(expected.map((p, i) => `r${i + 1},${p}`));
    await gw.kill();
  }, 240_000);

  it('cancelling a running job stops it: no results are served, webhooks say cancelled', async () => {
    const gw = await gateway();
    const id = await submitted(gw, keyedCsv('xgboost/xgb-binary-100x4', 0, 5).csv);
    const d = await http(`${gw.url}/v1/jobs/${id}`, 'DELETE');
    expect(d.status).toBe(200);
    expect(d.json.status).toBe('cancelled');
    expect((await hooks.ended(id)).event).toBe('job.cancelled');
    const after = (await http(`${gw.url}/v1/jobs/${id}`)).json;
    expect(after.status).toBe('cancelled');
    expect(after.rows_done).toBeLessThan(after.rows_total);
    expect((await http(`${gw.url}/v1/jobs/${id}/results`)).json.code).toBe('GROVE_ERR_JOB_NOT_SUCCEEDED');
    expect((await http(`${gw.url}/v1/models/churn/predictions/r5`)).json.job_id).not.toBe(id);
    await gw.kill();
  }, 120_000);
});
