// `grove gateway --discover kubernetes` as a process: it finds its API server through $KUBECONFIG
// (here a fake one the test runs, test/support/fake-kube-api.ts), watches the workers' EndpointSlices
// and routes to a real worker process; a pod turning unready leaves routing.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { startFakeKubeApi } from '../support/fake-kube-api.js';
import { predict, startGrove } from './gateway-harness.js';
import {
  makeRepository,
  removeRepository,
  spawnWorker,
  type WorkerProcess,
  waitFor,
} from './worker-harness.js';

const procs: ChildProcess[] = [];
const cleanup: (() => unknown)[] = [];
afterAll(async () => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  for (const c of cleanup.reverse()) await c();
});

describe('grove gateway --discover kubernetes', () => {
  it('routes to the ready endpoints of the Service named, found through $KUBECONFIG', async () => {
    const repo = makeRepository({ churn: { '1': 'xgboost/xgb-binary-100x4' } });
    cleanup.push(() => removeRepository(repo));
    const api = await startFakeKubeApi('ml');
    cleanup.push(() => api.close());
    const w: WorkerProcess = await spawnWorker(['--models', repo, '--port', '0', '--threads', '1']);
    cleanup.push(() => w.stop());
    const port = Number(new URL(w.url).port);
    const slice = (ready: boolean) => ({
      name: 'models-abc12',
      service: 'models',
      ports: [{ name: 'api', port }],
      endpoints: [{ addresses: ['127.0.0.1'], ready }],
    });
    api.set(slice(true));
    const dir = mkdtempSync(join(tmpdir(), 'grove-kubeconfig-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'config'), api.kubeconfig());

    process.env.KUBECONFIG = join(dir, 'config');
    let g: Awaited<ReturnType<typeof startGrove>>;
    try {
      g = await startGrove(
        procs,
        [
          'gateway',
          '--discover',
          'kubernetes:models:api',
          '--port',
          '0',
          '--admin-port',
          '0',
          '--admin-token',
          't',
        ],
        /grove gateway listening on (\S+)\ngrove admin listening on (\S+)/,
      );
    } finally {
      delete process.env.KUBECONFIG;
    }
    const [url, adminUrl] = [g.m[1]!, g.m[2]!];
    const r = await waitFor(async () => {
      const p = await predict(url);
      return p.status === 200 ? p : undefined;
    });
    expect(r.version).toBe('1');
    expect(api.auth).toContain('Bearer test-token');
    expect(api.requests).toContain('watch');

    api.set(slice(false));
    await waitFor(async () => {
      const a = await request(`${adminUrl}/admin/workers`, { headers: { authorization: 'Bearer t' } });
      return ((await a.body.json()) as { workers: unknown[] }).workers.length === 0;
    });
    const gone = await predict(url);
    expect(gone.status).toBe(503);
  });
});
