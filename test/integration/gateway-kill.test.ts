// A local worker killed with SIGKILL under load costs no failed client request, and grove serve
// forks a replacement; the default split comes from models/{m}/config.json.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, predict, ROW, type Serve, startServe, twoVersionRepository } from './gateway-harness.js';
import { removeRepository } from './worker-harness.js';

let repo: string;
let s: Serve;

beforeAll(async () => {
  repo = twoVersionRepository();
  writeFileSync(
    join(repo, 'churn', 'config.json'),
    JSON.stringify({ split: { weights: { '1': 50, '2': 50 }, sticky: 'x-user-id' } }),
  );
  s = await startServe(repo, ['--workers', '2', '--admin-token', 'kill-test-token']);
});
afterAll(async () => {
  await s?.stop();
  removeRepository(repo);
});

type WorkerView = { pid: number; url: string; healthy: boolean };

async function workers(): Promise<WorkerView[]> {
  return (await admin(s, 'GET', '/admin/workers')).body.workers as WorkerView[];
}

describe('grove serve: resilience', () => {
  it('starts the split from config.json', async () => {
    expect((await admin(s, 'GET', '/admin/models/churn/split')).body).toMatchObject({
      weights: { '1': 50, '2': 50 },
      sticky: 'x-user-id',
    });
    const r = await predict(s.url, { 'x-user-id': 'someone' });
    expect(r.status).toBe(200);
  });

  it('a worker killed with SIGKILL under load costs zero failed requests and is respawned', async () => {
    const before = await workers();
    expect(before).toHaveLength(2);
    const victim = before[0]!.pid;
    let killedAt = 0;
    let respawnMs = -1;
    const load = autocannon({
      url: `${s.url}/v1/models/churn:predict`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: [ROW] }),
      connections: 32,
      duration: 5,
    });
    const watcher = (async () => {
      await new Promise((r) => setTimeout(r, 1500));
      process.kill(victim, 'SIGKILL');
      killedAt = Date.now();
      while (Date.now() - killedAt < 20_000) {
        const ws = await workers();
        if (ws.length === 2 && ws.every((w) => w.pid !== victim && w.healthy)) {
          respawnMs = Date.now() - killedAt;
          return;
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    const result = await load;
    await watcher;
    process.stdout.write(
      `kill under load: ${result.requests.total} requests, ${result.non2xx} non-2xx, ${result.errors} errors; replacement serving after ${respawnMs} ms\n`,
    );
    expect(result.requests.total).toBeGreaterThan(100);
    expect(result.errors).toBe(0);
    expect(result.timeouts).toBe(0);
    expect(result.non2xx).toBe(0);
    expect(respawnMs).toBeGreaterThanOrEqual(0); // a replacement was forked and is healthy
    const after = await workers();
    expect(after.map((w) => w.pid)).not.toContain(victim);
  });

  it('stops gracefully on SIGTERM with exit code 0', async () => {
    expect(await s.stop()).toBe(0);
  });
});
