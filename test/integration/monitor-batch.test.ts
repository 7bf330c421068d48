import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fixtureRows,
  makeRepository,
  postJson,
  profileVersion,
  removeRepository,
  startWorkerProcess,
  type WorkerProcess,
} from './worker-harness.js';

const FIXTURE = 'xgboost/xgb-binary-100x4';
const WINDOW = 400;

let repo: string;
let worker: WorkerProcess;
const { header, rows } = fixtureRows(FIXTURE);

async function counts(): Promise<{ rows: number; columns: unknown[] }> {
  const r = await fetch(`${worker.url}/v2/models/churn/versions/1/monitor`);
  expect(r.status).toBe(200);
  const m = (await r.json()) as { rows: number; counts: { columns: unknown[] } };
  return { rows: m.rows, columns: m.counts.columns };
}

beforeAll(async () => {
  repo = makeRepository({ churn: { '1': FIXTURE } });
  profileVersion(repo, 'churn', '1', FIXTURE, 1000);
  writeFileSync(join(repo, 'churn/config.json'), JSON.stringify({ monitor: { window_rows: WINDOW } }));
  worker = await startWorkerProcess(repo);
  for (let i = 0; i < 200; i++) {
    if ((await fetch(`${worker.url}/v2/models/churn/versions/1/ready`)).status === 200) break;
    await new Promise((r) => setTimeout(r, 50));
  }
});

afterAll(async () => {
  await worker?.stop();
  if (repo) removeRepository(repo);
});

describe('monitor on :batch rows', () => {
  it('counts a CSV batch as it counts the same rows sent to /infer', async () => {
    const sent = rows.slice(1000, 1000 + WINDOW);
    for (let i = 0; i < sent.length; i += 50) {
      const chunk = sent.slice(i, i + 50);
      const r = await postJson(`${worker.url}/v2/models/churn/versions/1/infer`, {
        inputs: [
          { name: 'input-0', shape: [chunk.length, header.length], datatype: 'FP64', data: chunk.flat() },
        ],
      });
      expect(r.status).toBe(200);
    }
    const byInfer = await counts();
    expect(byInfer.rows).toBe(WINDOW);

    // Other rows first, so the window changes only if the batch's rows are counted as rows.
    const other = rows.slice(1500, 1500 + WINDOW).map((r) => r.map(() => null));
    for (const batch of [other, sent]) {
      const body = `${header.join(',')}\n${batch.map((r) => r.map((v) => (v === null ? '' : v)).join(',')).join('\n')}\n`;
      const r = await fetch(`${worker.url}/v1/models/churn/versions/1:batch`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv' },
        body,
      });
      expect(r.status).toBe(200);
      expect((await r.text()).trim().split('\n').length).toBe(WINDOW + 1);
    }
    expect(await counts()).toEqual(byInfer);
  });
});
