// Consul discovery and KV splits in one process against the fake Consul agent (test/support/
// fake-consul.ts answers as Consul documents): passing instances only (warning and critical are
// left out), versions from the service meta, a blocking index that goes backwards, an unreachable
// agent (the last known state stays), and the client settings (ACL token, TLS with CONSUL_CACERT).
import { once } from 'node:events';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { ConsulDiscovery, ConsulSplitBackend } from '../../gateway/discovery/consul-discovery.js';
import type { ConsulWatch } from '../../gateway/discovery/consul-watch.js';
import { type FakeWorker, startFakeWorker } from '../../gateway/fake-worker.test-helper.js';
import { type Gateway, startGateway } from '../../gateway/gateway.js';
import { type ConsulClient, consulClient, consulSettings } from '../../shared/consul/consul-client.js';
import { encodeVersionsMeta, registerWorker } from '../../shared/consul/worker-registration.js';
import { type FakeConsul, startFakeConsul } from '../support/fake-consul.js';

const TLS = join(import.meta.dirname, '..', 'fixtures', 'tls');
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

/** Resolves once `cond()` holds, checked now and at every 'change' of the gateway's worker set. */
function workersWhen(gw: Gateway, cond: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (cond()) return resolve();
    const check = () => {
      if (!cond()) return;
      gw.workers.off('change', check);
      resolve();
    };
    gw.workers.on('change', check);
  });
}

/** Resolves once the watch has failed `n` times in a row (Consul unreachable, state kept). */
async function failuresReach<T>(watch: ConsulWatch<T>, n: number): Promise<void> {
  while (watch.failures < n) await once(watch, 'failure');
}

function client(consul: FakeConsul, env: NodeJS.ProcessEnv = {}): ConsulClient {
  const c = consulClient(consulSettings(env.CONSUL_HTTP_ADDR ? undefined : consul.address, env));
  cleanup.push(() => c.destroy());
  return c;
}

async function consulGateway(c: ConsulClient) {
  const backend = new ConsulSplitBackend(c, { waitMs: 2000, maxBackoffMs: 200 });
  const gw = await startGateway({
    port: 0,
    adminPort: 0,
    adminToken: 't',
    splitBackend: backend,
    healthIntervalMs: 200,
  });
  const disc = new ConsulDiscovery(c, gw.workers, { waitMs: 2000, maxBackoffMs: 200 });
  disc.start();
  cleanup.push(async () => {
    disc.stop();
    backend.close();
    await gw.close();
  });
  return { gw, disc, backend };
}

async function fakeWorkers(versions: Record<string, string[]>[]): Promise<FakeWorker[]> {
  const fakes = await Promise.all(versions.map((v) => startFakeWorker(v)));
  cleanup.push(() => Promise.all(fakes.map((f) => f.close())).then(() => {}));
  return fakes;
}

function register(c: ConsulClient, f: FakeWorker, id: string) {
  return registerWorker({
    consul: c,
    id,
    address: '127.0.0.1',
    port: Number(new URL(f.url).port),
    meta: encodeVersionsMeta(f.versions),
  });
}

describe('consul discovery and KV splits (fake consul)', () => {
  it('routes to passing workers with their versions, follows changes, survives consul outages', async () => {
    const consul = await startFakeConsul({ checkIntervalMs: 100 });
    cleanup.push(() => consul.close());
    const c = client(consul);
    const fakes = await fakeWorkers([{ m: ['1'] }, { m: ['1', '2'] }]);
    const regs = await Promise.all(fakes.map((f, i) => register(c, f, `w${i}`)));
    expect(consul.services()[0]!.check).toMatchObject({ HTTP: expect.stringContaining('/v2/health/ready') });
    const { gw, disc } = await consulGateway(c);
    await workersWhen(gw, () => gw.workers.all.length === 2);
    expect(gw.workers.versionsOf('m')).toEqual(new Set(['1', '2']));
    const a = await request(`${gw.url}/v1/models/m:predict`, {
      method: 'POST',
      body: '{"instances":[[1,2]]}',
    });
    expect(((await a.body.json()) as { model_version: string }).model_version).toBe('2');

    // Failing (critical) and warning checks both take the instance out of the passing list.
    for (const state of ['critical', 'warning'] as const) {
      consul.setStatus('w1', state);
      await workersWhen(gw, () => gw.workers.all.length === 1);
      consul.setStatus('w1', 'passing');
      await workersWhen(gw, () => gw.workers.all.length === 2);
    }

    // Meta update (a new version) reaches the gateway.
    fakes[0]!.versions = { m: ['1', '3'] };
    await regs[0]!.update(encodeVersionsMeta(fakes[0]!.versions));
    await workersWhen(gw, () => gw.workers.versionsOf('m')?.has('3') === true);

    // The blocking index goes backwards (a restored snapshot): the watch starts over and still
    // follows what changes after it.
    consul.resetIndex();
    consul.setStatus('w0', 'critical');
    await workersWhen(gw, () => gw.workers.all.length === 1);
    consul.setStatus('w0', 'passing');
    await workersWhen(gw, () => gw.workers.all.length === 2);

    // Consul unreachable: after failed calls the last known workers stay and requests flow.
    await consul.stop();
    await failuresReach(disc.watch, 2);
    expect(gw.workers.all.length).toBe(2);
    const b = await request(`${gw.url}/v1/models/m/versions/1:predict`, {
      method: 'POST',
      body: '{"instances":[[1,2]]}',
    });
    expect(b.statusCode).toBe(200);
    await b.body.dump();
    const recovered = once(disc.watch, 'recovered');
    await consul.restart();
    await regs[1]!.deregister();
    await recovered;
    await workersWhen(gw, () => gw.workers.all.length === 1);
  });

  it('split weights live in KV: a PUT on one gateway reaches the other, and outlive an outage', async () => {
    const consul = await startFakeConsul({ checkIntervalMs: 100 });
    cleanup.push(() => consul.close());
    const c = client(consul);
    const [fake] = await fakeWorkers([{ m: ['1', '2'] }]);
    await register(c, fake!, 'w0');
    const { gw: g1 } = await consulGateway(c);
    const { gw: g2, backend: b2 } = await consulGateway(c);
    await workersWhen(g1, () => g1.workers.all.length === 1);
    await workersWhen(g2, () => g2.workers.all.length === 1);
    const put = await request(`${g1.adminUrl}/admin/models/m/split`, {
      method: 'PUT',
      headers: { authorization: 'Bearer t' },
      body: JSON.stringify({ weights: { '1': 100, '2': 0 } }),
    });
    expect(put.statusCode).toBe(200);
    await put.body.dump();
    expect(JSON.parse(consul.kv('grove/splits/m')!)).toMatchObject({ weights: { '1': 100, '2': 0 } });
    while (g2.splits.get('m')?.config.weights['1'] !== 100) await once(b2.kvWatch!, 'data');
    const r = await request(`${g2.url}/v1/models/m:predict`, { method: 'POST', body: '{"instances":[[1]]}' });
    expect(((await r.body.json()) as { model_version: string }).model_version).toBe('1');
    // Consul down: after failed calls the weights are still the last known ones.
    await consul.stop();
    await failuresReach(b2.kvWatch!, 2);
    expect(g2.splits.get('m')?.config.weights['1']).toBe(100);
    await consul.restart();
  });

  it('sends CONSUL_HTTP_TOKEN with every call; an agent that requires it refuses calls without', async () => {
    const consul = await startFakeConsul({ token: 's3cret' });
    cleanup.push(() => consul.close());
    const [fake] = await fakeWorkers([{ m: ['1'] }]);
    const c = client(consul, { CONSUL_HTTP_ADDR: consul.address, CONSUL_HTTP_TOKEN: 's3cret' });
    await register(c, fake!, 'w0');
    expect(consul.services().map((s) => s.ID)).toEqual(['w0']);
    expect(consul.requests().every((r) => r.token === 's3cret')).toBe(true);
    const anonymous = client(consul);
    await expect(register(anonymous, fake!, 'w1')).rejects.toMatchObject({ code: 'GROVE_ERR_CONSUL' });
    expect(consul.services().map((s) => s.ID)).toEqual(['w0']);
  });

  it('speaks TLS to an https:// address, trusting the CA in CONSUL_CACERT', async () => {
    const { readFileSync } = await import('node:fs');
    const consul = await startFakeConsul({
      tls: { key: readFileSync(join(TLS, 'agent-key.pem')), cert: readFileSync(join(TLS, 'agent.pem')) },
    });
    cleanup.push(() => consul.close());
    const [fake] = await fakeWorkers([{ m: ['1'] }]);
    const trusted = client(consul, { CONSUL_HTTP_ADDR: consul.url, CONSUL_CACERT: join(TLS, 'ca.pem') });
    await register(trusted, fake!, 'w0');
    expect(consul.services().map((s) => s.ID)).toEqual(['w0']);
    // Without the CA the agent's certificate is not trusted and nothing is registered.
    const untrusted = client(consul, { CONSUL_HTTP_ADDR: consul.url });
    await expect(register(untrusted, fake!, 'w1')).rejects.toMatchObject({ code: 'GROVE_ERR_CONSUL' });
    expect(consul.services().map((s) => s.ID)).toEqual(['w0']);
  });
});
