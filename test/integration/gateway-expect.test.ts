// `Expect: 100-continue` through `grove serve --workers 2`, as users send it: curl adds it to any
// body over 1 MiB and waits for the 100 before sending the body; other clients send the header and
// the body at once. Neither may take a slot of a worker's connection pool, count against a worker,
// stall health checks or keep SIGTERM from completing.
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExpectAnswer, expectContinuePost } from '../support/expect-continue.js';
import { admin, predict, ROW, type Serve, startServe, twoVersionRepository } from './gateway-harness.js';
import { removeRepository } from './worker-harness.js';

let repo: string;
let s: Serve;

beforeAll(async () => {
  repo = twoVersionRepository();
  s = await startServe(repo, ['--workers', '2', '--admin-token', 'expect-test-token']);
});
afterAll(async () => {
  await s?.stop();
  removeRepository(repo);
});

const PATH = '/v1/models/churn/versions/1:predict';
/** About 1.5 MB of rows: the size the reproduction sent with `curl --data-binary`. */
const BIG = JSON.stringify({ instances: Array.from({ length: 15_000 }, () => ROW) });
const SMALL = JSON.stringify({ instances: [ROW] });

/** One prediction with `Expect: 100-continue` (test/support/expect-continue.ts). */
function expectRequest(body: string, waitFor100: boolean): Promise<ExpectAnswer> {
  return expectContinuePost(s.url, PATH, 'application/json', body, waitFor100);
}

describe('grove serve: Expect: 100-continue', () => {
  it('five 1.5 MB curl-style uploads and 32 small raw requests are answered; nothing wedges or is ejected', async () => {
    const big = await Promise.all(Array.from({ length: 5 }, () => expectRequest(BIG, true)));
    for (const r of big) {
      expect(r.statuses).toEqual(['100', '200']);
      expect((JSON.parse(r.body) as { predictions: number[] }).predictions).toHaveLength(15_000);
    }
    const small = await Promise.all(Array.from({ length: 32 }, () => expectRequest(SMALL, false)));
    for (const r of small) {
      expect(r.statuses.at(-1)).toBe('200');
      expect((JSON.parse(r.body) as { predictions: number[] }).predictions).toHaveLength(1);
    }

    // Every model still answers, on both versions, and health checks still complete.
    for (const path of ['/v1/models/churn/versions/1:predict', '/v1/models/churn/versions/2:predict'])
      for (let i = 0; i < 8; i++) expect((await predict(s.url, {}, path)).status).toBe(200);
    const ready = await request(`${s.url}/v2/health/ready`);
    expect(ready.statusCode).toBe(200);
    await ready.body.dump();
    const ws = (await admin(s, 'GET', '/admin/workers')).body.workers as {
      healthy: boolean;
      ejections: number;
      failures: number;
    }[];
    expect(ws).toHaveLength(2);
    for (const w of ws) expect(w).toMatchObject({ healthy: true, ejections: 0, failures: 0 });

    // And SIGTERM completes: grove serve exits 0 (stop() escalates to SIGKILL after 20 s: code null).
    expect(await s.stop()).toBe(0);
  }, 120_000);
});
