// Durable jobs on `grove serve` with the embedded store (PGlite in --state-dir): the CLI's submit
// --wait, results equal to `grove predict` on the same rows, lookups by key, the split choosing the
// version, NDJSON, bad rows (fail and skip), refused submissions that store nothing, webhooks.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { type ExpectAnswer, expectContinuePost } from '../support/expect-continue.js';
import { freshStateDir } from '../support/pglite-template.js';
import {
  CLI,
  expectedPredictions,
  type GroveProcess,
  http,
  jobsSuite,
  keyedCsv,
  startGroveProcess,
} from './jobs-harness.js';
import { FIXTURES } from './worker-harness.js';

const run = promisify(execFile);
let gw: GroveProcess;
const suite = jobsSuite({
  models: {
    churn: { '1': 'xgboost/xgb-binary-100x4', '2': 'lightgbm/lgb-binary-100x4' },
    multi: { '1': 'xgboost/xgb-multiclass' },
  },
  tmpPrefix: 'grove-jobs-serve-',
  async before({ repo, dir, hooks, procs }) {
    // The split sends every unversioned request (and job) to version 2.
    writeFileSync(join(repo, 'churn', 'config.json'), JSON.stringify({ split: { weights: { '2': 100 } } }));
    gw = await startGroveProcess(
      [
        'serve',
        '--models',
        repo,
        '--port',
        '0',
        '--admin-port',
        '0',
        '--workers',
        '1',
        '--spares',
        '0',
        '--state-dir',
        await freshStateDir(dir),
        '--job-chunk-rows',
        '300',
        '--max-job-bytes',
        '1MiB',
        '--job-webhook',
        `${hooks.url}/all`,
        '--job-notify-private',
      ],
      procs,
    );
  },
  stop: async () => gw?.kill(),
});
const { hooks } = suite;

/** A CSV upload as curl sends it: `Expect: 100-continue`, the body only after the 100. */
function expectUpload(path: string, body: string): Promise<ExpectAnswer> {
  return expectContinuePost(gw.url, path, 'text/csv', body, true);
}

async function listed(): Promise<string[]> {
  return (await http(`${gw.url}/v1/jobs?limit=1000`)).json.jobs.map((j: { id: string }) => j.id);
}

describe('jobs on grove serve (PGlite)', () => {
  it('grove jobs submit --wait scores every row once, in order, as grove predict does; rows are served by key', async () => {
    const { csv, rows, plain } = keyedCsv('xgboost/xgb-binary-100x4', 3);
    const input = join(suite.dir, 'churn.csv');
    writeFileSync(input, csv);
    const { stdout } = await run(process.execPath, [
      CLI,
      'jobs',
      'submit',
      '--url',
      gw.url,
      '--model',
      'churn',
      '--version',
      '1',
      '--input',
      input,
      '--key',
      'id',
      '--wait',
      '--notify',
      `${hooks.url}/mine`,
    ]);
    const job = JSON.parse(stdout);
    expect(job).toMatchObject({
      model: 'churn',
      version: '1',
      status: 'succeeded',
      rows_total: rows,
      rows_done: rows,
    });
    expect((await hooks.ended(job.id)).event).toBe('job.succeeded');
    expect((await hooks.ended(job.id, '/mine')).job.status).toBe('succeeded');

    const out = join(suite.dir, 'results.csv');
    await run(process.execPath, [CLI, 'jobs', 'results', job.id, '--url', gw.url, '--output', out]);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('id,prediction');
    const expected = expectedPredictions('xgboost/xgb-binary-100x4', plain, suite.dir);
    expect(lines.slice(1)).toEqual(expected.map((p, i) => `r${i + 1},${p}`));
    // ... which is the library's own output (pred.csv) to 1e-6.
    const lib = readFileSync(join(FIXTURES, 'xgboost/xgb-binary-100x4/pred.csv'), 'utf8')
      .trim()
      .split('\n')
      .map(Number);
    for (const [i, p] of expected.entries()) expect(Math.abs(Number(p) - lib[i]!)).toBeLessThan(1e-6);

    const hit = await http(`${gw.url}/v1/models/churn/predictions/r17`);
    expect(hit.status).toBe(200);
    expect(hit.json).toMatchObject({
      key: 'r17',
      model: 'churn',
      model_version: '1',
      job_id: job.id,
      prediction: Number(expected[16]),
    });
    expect(hit.json.scored_at).toBe(job.finished_at);
    expect((await http(`${gw.url}/v1/models/churn/predictions/r99999`)).json.code).toBe(
      'GROVE_ERR_PREDICTION_NOT_FOUND',
    );

    const status = await run(process.execPath, [CLI, 'jobs', 'status', job.id, '--url', gw.url]);
    expect(JSON.parse(status.stdout).status).toBe('succeeded');
    const ndjson = await http(`${gw.url}/v1/jobs/${job.id}/results`, 'GET', undefined, {
      accept: 'application/x-ndjson',
    });
    expect(JSON.parse(ndjson.text.split('\n')[1]!)).toEqual({ id: 'r2', prediction: Number(expected[1]) });
  }, 120_000);

  it('without a version the split picks it at submission; NDJSON rows of a 3-class model keep their columns', async () => {
    const a = await http(
      `${gw.url}/v1/models/churn/jobs`,
      'POST',
      keyedCsv('xgboost/xgb-binary-100x4').plain,
      { 'content-type': 'text/csv' },
    );
    expect(a.status).toBe(202);
    expect(a.headers.location).toBe(`/v1/jobs/${a.json.id}`);
    expect(a.json.version).toBe('2');
    expect((await hooks.ended(a.json.id)).job).toMatchObject({
      status: 'succeeded',
      version: '2',
      rows_done: 2000,
    });

    const { plain } = keyedCsv('xgboost/xgb-multiclass');
    const [head, ...data] = plain.trimEnd().split('\n');
    const names = head!.split(',');
    const nd = data.slice(0, 50).map((l, i) => {
      const o: Record<string, unknown> = { key: `m${i}` };
      l.split(',').forEach((v, j) => {
        if (v !== '') o[names[j]!] = Number(v);
      });
      return JSON.stringify(o);
    });
    const b = await http(`${gw.url}/v1/models/multi/versions/1/jobs?key=key`, 'POST', nd.join('\n'), {
      'content-type': 'application/x-ndjson',
    });
    expect(b.status).toBe(202);
    expect((await hooks.ended(b.json.id)).job.status).toBe('succeeded');
    const expected = expectedPredictions(
      'xgboost/xgb-multiclass',
      [head, ...data.slice(0, 50)].join('\n'),
      suite.dir,
    );
    const got = (
      await http(`${gw.url}/v1/jobs/${b.json.id}/results`, 'GET', undefined, {
        accept: 'application/x-ndjson',
      })
    ).text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(got).toHaveLength(50);
    const outputs: string[] = (await http(`${gw.url}/v1/jobs/${b.json.id}`)).json.outputs;
    expect(outputs).toHaveLength(3);
    const row7 = Object.fromEntries(expected[7]!.split(',').map((v, k) => [outputs[k]!, Number(v)]));
    expect(got[7]).toEqual({ key: 'm7', ...row7 });
    const hit = await http(`${gw.url}/v1/models/multi/predictions/m7`);
    expect(hit.json).toMatchObject({ key: 'm7', model_version: '1', ...row7 });
  });

  it('a malformed row fails the job with its row number; with on_error=skip it is an error row and the rest is scored', async () => {
    const { csv } = keyedCsv('xgboost/xgb-binary-100x4');
    const lines = csv.trimEnd().split('\n');
    lines[412] = lines[412]!.replace(/,[^,]*$/, ',not-a-number'); // row 412
    lines[1500] = 'r1500,1,2'; // row 1500: 3 fields
    lines[900] = lines[900]!.replace(',', ',\u0000'); // row 900: NUL, refused at upload
    lines[1200] = lines[1200]!.replace(/^r1200,/, ','); // row 1200: an empty key
    const bad = lines.join('\n') + '\n';
    const f = await http(`${gw.url}/v1/models/churn/versions/1/jobs?key=id`, 'POST', bad, {
      'content-type': 'text/csv',
    });
    const failed = (await hooks.ended(f.json.id)).job;
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/^row (412|900|1200|1500): /);
    expect((await http(`${gw.url}/v1/jobs/${f.json.id}/results`)).json.code).toBe(
      'GROVE_ERR_JOB_NOT_SUCCEEDED',
    );

    const s = await http(`${gw.url}/v1/models/churn/versions/1/jobs?key=id&on_error=skip`, 'POST', bad, {
      'content-type': 'text/csv',
    });
    const ok = (await hooks.ended(s.json.id)).job;
    expect(ok).toMatchObject({ status: 'succeeded', rows_done: 2000, rows_failed: 4 });
    const res = (await http(`${gw.url}/v1/jobs/${s.json.id}/results`)).text.trimEnd().split('\n');
    expect(res[0]).toBe('id,prediction,error');
    expect(res).toHaveLength(2001);
    expect(res[412]).toMatch(
      /^r412,,GROVE_ERR_NOT_NUMERIC: value 'not-a-number' at column 'f\d+' is not a number$/,
    );
    expect(res[1500]).toMatch(/^r1500,,GROVE_ERR_BAD_CSV: /);
    expect(res[900]).toBe(',,GROVE_ERR_BAD_INPUT: the row holds a NUL character');
    expect(res[1200]).toBe(",,GROVE_ERR_BAD_KEY: empty key in column 'id'");
    expect(res[411]).toMatch(/^r411,0\.\d+,$/);
    expect((await http(`${gw.url}/v1/models/churn/predictions/r412`)).json.job_id).not.toBe(s.json.id);
  });

  it('refused submissions store nothing', async () => {
    const before = await listed();
    const { csv, plain } = keyedCsv('xgboost/xgb-binary-100x4');
    const cases: [string, string | Buffer, string, number, string][] = [
      ['/v1/models/nope/jobs', csv, 'text/csv', 404, 'GROVE_ERR_MODEL_NOT_FOUND'],
      ['/v1/models/churn/versions/7/jobs', csv, 'text/csv', 404, 'GROVE_ERR_VERSION_NOT_FOUND'],
      ['/v1/models/churn/jobs', 'f0,bogus\n1,2\n', 'text/csv', 400, 'GROVE_ERR_UNKNOWN_FEATURE'],
      ['/v1/models/churn/jobs?key=nokey', csv, 'text/csv', 400, 'GROVE_ERR_BAD_CSV'],
      ['/v1/models/churn/jobs?on_error=maybe', csv, 'text/csv', 400, 'GROVE_ERR_BAD_INPUT'],
      ['/v1/models/churn/jobs?notify=http://169.254.169.254/x', plain, 'text/csv', 202, ''],
      ['/v1/models/churn/jobs', csv, 'application/json', 415, 'GROVE_ERR_UNSUPPORTED_MEDIA_TYPE'],
      ['/v1/models/churn/jobs', '', 'text/csv', 400, 'GROVE_ERR_BAD_CSV'],
      [
        '/v1/models/churn/jobs',
        Buffer.alloc(1024 * 1024 + 10, 'f0\n1\n'),
        'text/csv',
        413,
        'GROVE_ERR_BODY_TOO_LARGE',
      ],
    ];
    for (const [path, body, type, status, code] of cases) {
      const r = await http(gw.url + path, 'POST', body, { 'content-type': type });
      expect(r.status, path).toBe(status);
      if (status !== 202) expect(r.json.code, path).toBe(code);
      else await hooks.ended(r.json.id);
    }
    // --job-notify-private lets the 169.254 URL through here; the one job it made is the only new one.
    expect((await listed()).length).toBe(before.length + 1);
  });

  it('an upload sent as curl sends it (Expect: 100-continue) is bounded by --max-job-bytes alone', async () => {
    const { csv } = keyedCsv('xgboost/xgb-binary-100x4');
    const ok = await expectUpload('/v1/models/churn/versions/1/jobs?key=id', csv);
    expect(ok.statuses).toEqual(['100', '202']);
    await hooks.ended((JSON.parse(ok.body) as { id: string }).id);
    // Over --max-job-bytes (1 MiB here) but under the prediction body limit: refused before the body.
    const big = await expectUpload('/v1/models/churn/jobs', 'f0\n'.padEnd(2 * 1024 * 1024, '1\n'));
    expect(big.statuses).toEqual(['413']);
    expect(JSON.parse(big.body)).toMatchObject({ code: 'GROVE_ERR_BODY_TOO_LARGE' });
    expect(big.body).toContain(`limit of ${1024 * 1024} bytes`);
  });

  it('status, list, cancel and 404s', async () => {
    expect((await http(`${gw.url}/v1/jobs/424242`)).json.code).toBe('GROVE_ERR_JOB_NOT_FOUND');
    expect((await http(`${gw.url}/v1/jobs/abc`)).status).toBe(404);
    expect((await http(`${gw.url}/v1/jobs?status=nope`)).status).toBe(400);
    const done = (await http(`${gw.url}/v1/jobs?status=succeeded&limit=1`)).json;
    expect(done.jobs).toHaveLength(1);
    expect(done.next).toMatch(/before=/);
    const d = await http(`${gw.url}/v1/jobs/${done.jobs[0].id}`, 'DELETE');
    expect([d.status, d.json.code]).toEqual([409, 'GROVE_ERR_JOB_FINISHED']);
    expect((await http(`${gw.url}/v1/jobs/1`, 'PUT')).status).toBe(405);
  });
});
