// A local worker killed with SIGKILL under load costs no failed client request, and grove serve
// forks a replacement; the default split comes from models/{m}/config.json; the workers run at a
// lower CPU priority than the gateway (shared/process-priority.ts).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/** The nice value of every thread of `pid` (field 19 of /proc/PID/task/TID/stat). */
function niceOf(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((t) => {
    const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after its closing parenthesis.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

describe('grove serve: resilience', () => {
  it.runIf(process.platform === 'linux')(
    'runs every thread of its workers 10 nice steps below the gateway',
    async () => {
      const own = niceOf(s.proc.pid!)[0]!;
      for (const w of await workers()) {
        const nices = niceOf(w.pid);
        expect(nices.length).toBeGreaterThan(1);
        expect(new Set(nices)).toEqual(new Set([Math.min(19, own + 10)]));
      }
      expect(new Set(niceOf(s.proc.pid!))).toEqual(new Set([own]));
    },
  );

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
    let result!: Promise<autocannon.Result>;
    // Kill once the load is flowing (200 answers in), then wait for grove serve to report the
    // worker that took the dead one's place (a booted standby, or a new fork).
    await new Promise<void>((flowing) => {
      let answered = 0;
      result = new Promise((resolve, reject) => {
        const run = autocannon(
          {
            url: `${s.url}/v1/models/churn:predict`,
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ instances: [ROW] }),
            connections: 32,
            duration: 5,
          },
          (err, r) => (err ? reject(err) : resolve(r)),
        );
        run.on('response', () => {
          if (++answered === 200) flowing();
        });
      });
    });
    const replaced = s.nextLog(/^grove serve: (standby worker \d+ now serving|worker \d+ listening)/);
    process.kill(victim, 'SIGKILL');
    const killedAt = Date.now();
    await replaced;
    const respawnMs = Date.now() - killedAt;
    const done = await result;
    process.stdout.write(
      `kill under load: ${done.requests.total} requests, ${done.non2xx} non-2xx, ${done.errors} errors; replacement serving after ${respawnMs} ms\n`,
    );
    expect(done.requests.total).toBeGreaterThan(100);
    expect(done.errors).toBe(0);
    expect(done.timeouts).toBe(0);
    expect(done.non2xx).toBe(0);
    const after = await workers();
    expect(after).toHaveLength(2);
    expect(after.map((w) => w.pid)).not.toContain(victim);
    expect(after.every((w) => w.healthy)).toBe(true);
  });

  it('stops gracefully on SIGTERM with exit code 0', async () => {
    expect(await s.stop()).toBe(0);
  });
});
