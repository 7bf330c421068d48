// `grove gateway --discover dns:HOST:PORT` over real worker processes, behind a DNS server the test
// controls (test/support/fake-dns.ts) standing in for a Kubernetes headless Service. Each "pod" is a
// worker on its own loopback address (127.0.0.2, 127.0.0.3, and ::1 found through an AAAA record)
// and the same port, as pods share a containerPort. Pods come (scale up), go (a rolling update: the pod leaves DNS, then gets SIGTERM)
// with no failed request, and a DNS outage keeps the last known workers.
import type { ChildProcess } from 'node:child_process';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeDns, startFakeDns } from '../support/fake-dns.js';
import { ROW, startGrove } from './gateway-harness.js';
import {
  makeRepository,
  removeRepository,
  spawnWorker,
  type WorkerProcess,
  waitFor,
} from './worker-harness.js';

const NAME = 'grove-workers.ml.svc.cluster.local';
let repo: string;
let dns: FakeDns;
const procs: ChildProcess[] = [];
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  repo = makeRepository({ churn: { '1': 'xgboost/xgb-binary-100x4' } });
  dns = await startFakeDns();
});
afterAll(async () => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  await dns?.close();
  removeRepository(repo);
});

async function pod(host: string, port: number): Promise<WorkerProcess> {
  const w = await spawnWorker([
    '--models',
    repo,
    '--host',
    host,
    '--port',
    String(port),
    '--threads',
    '1',
    '--log-level',
    'warn',
  ]);
  workers.push(w);
  return w;
}

async function call(url: string): Promise<{ status: number; worker: string; body: Record<string, unknown> }> {
  const r = await request(`${url}/v1/models/churn:predict`, {
    method: 'POST',
    body: JSON.stringify({ instances: [ROW] }),
  });
  return {
    status: r.statusCode,
    worker: String(r.headers['x-grove-worker']),
    body: (await r.body.json()) as Record<string, unknown>,
  };
}

interface AdminWorker {
  name: string;
  url: string;
  healthy: boolean;
  versions: Record<string, string[]>;
}

async function adminWorkers(adminUrl: string): Promise<AdminWorker[]> {
  const r = await request(`${adminUrl}/admin/workers`, { headers: { authorization: 'Bearer t' } });
  return ((await r.body.json()) as { workers: AdminWorker[] }).workers;
}

/** Until stop(): `n` request loops through the gateway; every answer that is not 200 is kept. */
function load(url: string, n = 4) {
  let stop = false;
  const failures: string[] = [];
  const seen = new Map<string, number>();
  let ok = 0;
  const loops = Array.from({ length: n }, async () => {
    while (!stop) {
      try {
        const r = await call(url);
        if (r.status === 200) {
          ok++;
          seen.set(r.worker, (seen.get(r.worker) ?? 0) + 1);
        } else failures.push(`${r.status} ${JSON.stringify(r.body)}`);
      } catch (err) {
        failures.push(String(err));
      }
    }
  });
  return {
    seen,
    failures,
    ok: () => ok,
    async stop() {
      stop = true;
      await Promise.all(loops);
    },
  };
}

describe('grove gateway --discover dns:HOST:PORT', () => {
  it('follows the name as pods come and go, drops no request in a rolling update, survives a DNS outage', async () => {
    const a = await pod('127.0.0.2', 0);
    const port = Number(new URL(a.url).port);
    dns.set(NAME, ['127.0.0.2']);
    const g = await startGrove(
      procs,
      [
        'gateway',
        '--discover',
        `dns:${NAME}:${port}`,
        '--dns-server',
        dns.address,
        '--discover-interval',
        '200',
        '--port',
        '0',
        '--admin-port',
        '0',
        '--admin-token',
        't',
      ],
      /grove gateway listening on (\S+)\ngrove admin listening on (\S+)/,
    );
    const url = g.m[1]!;
    const adminUrl = g.m[2]!;
    const direct = await call(a.url);
    const first = await waitFor(async () => {
      const r = await call(url);
      return r.status === 200 ? r : undefined;
    });
    expect(first.body).toEqual({ ...direct.body });
    // Answers name the worker by the gateway's name for it, never by its address.
    const listed = await adminWorkers(adminUrl);
    expect(listed.map((w) => [w.name, w.url])).toEqual([[first.worker, `http://127.0.0.2:${port}`]]);
    expect(first.worker).not.toContain('127.0.0.2');
    expect(dns.queries.get(`${NAME.toLowerCase()} A`)).toBeGreaterThan(0);

    // Scale up: two more pods (one with an IPv6 address) appear in DNS and take traffic.
    await Promise.all([pod('127.0.0.3', port), pod('::1', port)]);
    dns.set(NAME, ['127.0.0.2', '127.0.0.3', '::1']);
    await waitFor(async () => {
      const ws = await adminWorkers(adminUrl);
      return ws.length === 3 && ws.every((w) => w.healthy && w.versions.churn?.includes('1'));
    });
    const spread = load(url);
    await waitFor(async () => spread.seen.size === 3);
    await spread.stop();
    expect(spread.failures).toEqual([]);

    // Rolling update of pod .2 under load: it leaves the Service (DNS) first; once the gateway has
    // dropped it, it gets SIGTERM (the order preStop + terminationGracePeriod make Kubernetes
    // follow) and exits 0 after finishing what it had.
    const roll = load(url);
    await waitFor(async () => roll.ok() > 20);
    dns.set(NAME, ['127.0.0.3', '::1']);
    await waitFor(async () => (await adminWorkers(adminUrl)).length === 2);
    const before = roll.ok();
    expect(await workers[0]!.stop('SIGTERM')).toBe(0);
    await waitFor(async () => roll.ok() > before + 20);
    await roll.stop();
    expect(roll.failures).toEqual([]);

    // DNS outage (SERVFAIL): the last known workers keep serving.
    dns.failing = true;
    const queried = dns.queries.get(`${NAME.toLowerCase()} A`)!;
    await waitFor(async () => dns.queries.get(`${NAME.toLowerCase()} A`)! > queried + 2);
    expect((await adminWorkers(adminUrl)).map((w) => w.url).sort()).toEqual([
      `http://127.0.0.3:${port}`,
      `http://[::1]:${port}`,
    ]);
    expect((await call(url)).status).toBe(200);
    dns.failing = false;

    // Scaled to zero (no records): no workers, a 503 that names no address.
    dns.set(NAME, []);
    await waitFor(async () => (await adminWorkers(adminUrl)).length === 0);
    const none = await call(url);
    expect(none.status).toBe(503);
    expect(none.body.code).toBe('GROVE_ERR_UNAVAILABLE');
    expect(JSON.stringify(none.body)).not.toMatch(/127\.0\.0\.|::1/);
  });
});
