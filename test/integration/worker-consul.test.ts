// `grove worker --consul`: registers in the (fake) Consul agent's catalog with a health check and
// the live versions in the service meta, registers again when versions change, deregisters on
// SIGTERM; a bare `--consul` takes the agent's address and ACL token from CONSUL_HTTP_ADDR and
// CONSUL_HTTP_TOKEN, as Consul's own tools do.
import { afterEach, describe, expect, it } from 'vitest';
import { decodeVersionsMeta } from '../../shared/consul/worker-registration.js';
import { type FakeConsul, startFakeConsul } from '../support/fake-consul.js';
import { addVersion, makeRepository, removeRepository, startWorkerProcess } from './worker-harness.js';

let consul: FakeConsul | null = null;
let repo = '';

afterEach(async () => {
  await consul?.close();
  consul = null;
  if (repo) removeRepository(repo);
  repo = '';
});

const versionsOf = (c: FakeConsul) => decodeVersionsMeta(c.services()[0]?.Meta ?? {});

describe('worker consul registration', () => {
  it('registers with a health check, updates the versions meta, and deregisters on SIGTERM', async () => {
    consul = await startFakeConsul({ checkIntervalMs: 100 });
    const c = consul;
    repo = makeRepository({ churn: { '1': 'xgboost/xgb-binary-100x4' } });
    const w = await startWorkerProcess(repo, ['--consul', c.address, '--advertise-host', '127.0.0.1']);
    const port = Number(new URL(w.url).port);
    await c.until(() => c.services().length === 1);
    const s = c.services()[0]!;
    expect([s.Service, s.Address, s.Port]).toEqual(['grove-worker', '127.0.0.1', port]);
    expect(s.check?.HTTP).toBe(`http://127.0.0.1:${port}/v2/health/ready`);
    expect(versionsOf(c)).toEqual({ churn: ['1'] });
    // The agent's check reaches the worker's readiness route: the instance turns passing.
    await c.until(() => c.services()[0]?.status === 'passing');
    addVersion(repo, 'churn', '2', 'lightgbm/lgb-binary-100x4');
    await c.until(() => versionsOf(c).churn?.length === 2);
    expect(await w.stop('SIGTERM')).toBe(0);
    expect(c.services()).toEqual([]);
    expect(c.requests().at(-1)?.path).toBe(`/v1/agent/service/deregister/${encodeURIComponent(s.ID)}`);
  });

  it('a bare --consul uses CONSUL_HTTP_ADDR and sends CONSUL_HTTP_TOKEN', async () => {
    consul = await startFakeConsul({ token: 'tok-1' });
    const c = consul;
    repo = makeRepository({ churn: { '1': 'xgboost/xgb-binary-100x4' } });
    const w = await startWorkerProcess(repo, ['--consul', '--advertise-host', '127.0.0.1'], {
      ...process.env,
      CONSUL_HTTP_ADDR: `http://${c.address}`,
      CONSUL_HTTP_TOKEN: 'tok-1',
    });
    await c.until(() => c.services().length === 1);
    expect(await w.stop('SIGTERM')).toBe(0);
    expect(c.services()).toEqual([]);
    expect(c.requests().map((r) => r.token)).toEqual(c.requests().map(() => 'tok-1'));
  });
});
