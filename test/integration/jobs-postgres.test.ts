// Jobs on a real PostgreSQL server shared by two gateways: they split one job's chunks between
// them (SELECT ... FOR UPDATE SKIP LOCKED) with every row stored once, either serves the other's
// results, and when one is SIGKILLed mid-job the other takes its chunks over once their leases run out.
import { describe, expect, it } from 'vitest';
import { createDatabase, type TestDatabase } from '../support/pg-database.js';
import { postgresAvailable, type Service, skipReason, usePostgres } from '../support/services.js';
import {
  expectedPredictions,
  type GroveProcess,
  http,
  jobsSuite,
  keyedCsv,
  startGroveProcess,
} from './jobs-harness.js';
import { waitFor } from './worker-harness.js';

const hasPg = postgresAvailable();
let pg: Service | null = null;

describe.skipIf(!hasPg)(
  hasPg ? 'jobs on PostgreSQL, two gateways' : skipReason('PostgreSQL', 'postgresql'),
  () => {
    let db: TestDatabase;
    let worker: GroveProcess;
    let a: GroveProcess;
    let b: GroveProcess;

    const gateway = () =>
      startGroveProcess(
        [
          'gateway',
          '--upstreams',
          worker.url,
          '--port',
          '0',
          '--admin-port',
          '0',
          '--jobs-db',
          db.url,
          '--job-chunk-rows',
          '50',
          '--job-concurrency',
          '1',
          '--job-lease',
          '2',
          '--job-webhook',
          `${hooks.url}/all`,
        ],
        procs,
      );

    const suite = jobsSuite({
      models: { churn: { '1': 'xgboost/xgb-binary-100x4' } },
      tmpPrefix: 'grove-jobs-pg-',
      async before({ repo, procs }) {
        pg = await usePostgres();
        db = await createDatabase(pg!.url, 'grove_jobs_it');
        worker = await startGroveProcess(['worker', '--models', repo, '--port', '0'], procs, false);
        [a, b] = await Promise.all([gateway(), gateway()]);
        for (const g of [a, b])
          await waitFor(async () => (await http(`${g.url}/v2/models/churn`)).status === 200);
      },
      async after() {
        await db?.drop();
        await pg?.stop();
      },
    });
    const { procs, hooks } = suite;

    async function scoredChunks(g: GroveProcess): Promise<number> {
      const text = (await http(`${g.url}/metrics`)).text;
      let n = 0;
      for (const l of text.split('\n'))
        if (l.startsWith('grove_job_chunks_total{') && l.includes('outcome="scored"'))
          n += Number(l.split(' ').pop());
      return n;
    }

    async function checkResults(g: GroveProcess, id: string, rows: number, plain: string): Promise<void> {
      const lines = (await http(`${g.url}/v1/jobs/${id}/results`)).text.trimEnd().split('\n');
      const expected = expectedPredictions('xgboost/xgb-binary-100x4', plain, suite.dir);
      expect(lines).toHaveLength(rows + 1);
      expect(lines.slice(1)).toEqual(expected.map((p, i) => `r${i + 1},${p}`));
    }

    it('two gateways share one job: each scores some chunks, no chunk twice, every row once', async () => {
      // Enough chunks (320 of 50 rows, one at a time on each gateway) that the gateway the upload came
      // to is still scoring when the other one's idle look for work (every second) finds the job: with
      // 80, a fast machine finished them all in under a second.
      const { csv, rows, plain } = keyedCsv('xgboost/xgb-binary-100x4', 0, 8);
      const r = await http(`${a.url}/v1/models/churn/versions/1/jobs?key=id`, 'POST', csv, {
        'content-type': 'text/csv',
      });
      expect(r.status).toBe(202);
      const end = await hooks.ended(r.json.id);
      expect(end.job).toMatchObject({ status: 'succeeded', rows_done: rows });
      const [na, nb] = [await scoredChunks(a), await scoredChunks(b)];
      expect(na).toBeGreaterThan(0);
      expect(nb).toBeGreaterThan(0);
      expect(na + nb).toBe(rows / 50);
      await checkResults(b, r.json.id, rows, plain);
      const hit = await http(`${b.url}/v1/models/churn/predictions/r10`);
      expect(hit.json).toMatchObject({ key: 'r10', job_id: r.json.id });
    }, 180_000);

    it('a gateway SIGKILLed mid-job: the other takes its chunks over and every row is stored once', async () => {
      const { csv, rows, plain } = keyedCsv('xgboost/xgb-binary-100x4', 0, 3);
      const r = await http(`${a.url}/v1/models/churn/versions/1/jobs?key=id`, 'POST', csv, {
        'content-type': 'text/csv',
      });
      expect(r.status).toBe(202);
      await waitFor(async () => (await http(`${a.url}/v1/jobs/${r.json.id}`)).json.rows_done >= 500);
      await a.kill('SIGKILL');
      const end = await hooks.ended(r.json.id);
      expect(end.job).toMatchObject({ status: 'succeeded', rows_done: rows, rows_failed: 0 });
      await checkResults(b, r.json.id, rows, plain);
    }, 180_000);
  },
);
