import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { ConsulDiscovery, ConsulSplitBackend } from '../../gateway/discovery/consul-discovery.js';
import { type FakeWorker, startFakeWorker } from '../../gateway/fake-worker.test-helper.js';
import { type Gateway, startGateway } from '../../gateway/gateway.js';
import { encodeVersionsMeta, registerWorker } from '../../shared/consul/worker-registration.js';
import { type FakeConsul, startFakeConsul } from '../support/fake-consul.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function consulGateway(consul: FakeConsul): Promise<{ gw: Gateway; disc: ConsulDiscovery }> {
  const backend = new ConsulSplitBackend(consul.address, { waitMs: 2000 });
  const gw = await startGateway({
    port: 0,
    adminPort: 0,
    adminToken: 't',
    splitBackend: backend,
    healthIntervalMs: 200,
  });
  const disc = new ConsulDiscovery(consul.address, gw.workers, { waitMs: 2000 });
  disc.start();
  cleanup.push(async () => {
    disc.stop();
    backend.close();
    await gw.close();
  });
  return { gw, disc };
}

describe('consul discovery and KV splits (fake consul)', () => {
  it('discovers passing workers with their versions, follows changes, survives consul outages', async () => {
    const consul = await startFakeConsul({ checkIntervalMs: 100 });
    cleanup.push(() => consul.close());
    const fakes: FakeWorker[] = await Promise.all([
      startFakeWorker({ m: ['1'] }),
      startFakeWorker({ m: ['1', '2'] }),
    ]);
    cleanup.push(() => Promise.all(fakes.map((f) => f.close())).then(() => {}));
    const regs = await Promise.all(
      fakes.map((f, i) =>
        registerWorker({
          consul: consul.address,
          id: `w${i}`,
          address: '127.0.0.1',
          port: Number(new URL(f.url).port),
          meta: encodeVersionsMeta(f.versions),
        }),
      ),
    );
    expect(consul.services()[0]!.check).toMatchObject({ HTTP: expect.stringContaining('/v2/health/ready') });
    const { gw } = await consulGateway(consul);
    await until(() => gw.workers.all.length === 2);
    expect(gw.workers.versionsOf('m')).toEqual(new Set(['1', '2']));
    const a = await request(`${gw.url}/v1/models/m:predict`, {
      method: 'POST',
      body: '{"instances":[[1,2]]}',
    });
    expect(((await a.body.json()) as { model_version: string }).model_version).toBe('2');

    // A failing health check drops the instance from the passing list, so from routing.
    consul.setStatus('w1', 'critical');
    await until(() => gw.workers.all.length === 1);
    consul.setStatus('w1', 'passing');
    await until(() => gw.workers.all.length === 2);

    // Meta update (a new version) reaches the gateway.
    fakes[0]!.versions = { m: ['1', '3'] };
    await regs[0]!.update(encodeVersionsMeta(fakes[0]!.versions));
    await until(() => gw.workers.versionsOf('m')?.has('3') === true);

    // Consul unreachable: the last known workers stay, requests keep flowing.
    await consul.stop();
    await new Promise((r) => setTimeout(r, 500));
    expect(gw.workers.all.length).toBe(2);
    const b = await request(`${gw.url}/v1/models/m/versions/1:predict`, {
      method: 'POST',
      body: '{"instances":[[1,2]]}',
    });
    expect(b.statusCode).toBe(200);
    await b.body.dump();
    await consul.restart();
    await regs[1]!.deregister();
    await until(() => gw.workers.all.length === 1, 15_000);
  });

  it('split weights live in KV: a PUT on one gateway reaches the other', async () => {
    const consul = await startFakeConsul({ checkIntervalMs: 100 });
    cleanup.push(() => consul.close());
    const fake = await startFakeWorker({ m: ['1', '2'] });
    cleanup.push(() => fake.close());
    await registerWorker({
      consul: consul.address,
      id: 'w0',
      address: '127.0.0.1',
      port: Number(new URL(fake.url).port),
      meta: encodeVersionsMeta(fake.versions),
    });
    const g1 = (await consulGateway(consul)).gw;
    const g2 = (await consulGateway(consul)).gw;
    await until(() => g1.workers.all.length === 1 && g2.workers.all.length === 1);
    const put = await request(`${g1.adminUrl}/admin/models/m/split`, {
      method: 'PUT',
      headers: { authorization: 'Bearer t' },
      body: JSON.stringify({ weights: { '1': 100, '2': 0 } }),
    });
    expect(put.statusCode).toBe(200);
    await put.body.dump();
    expect(JSON.parse(consul.kv('grove/splits/m')!)).toMatchObject({ weights: { '1': 100, '2': 0 } });
    await until(() => g2.splits.get('m')?.config.weights['1'] === 100);
    const r = await request(`${g2.url}/v1/models/m:predict`, { method: 'POST', body: '{"instances":[[1]]}' });
    expect(((await r.body.json()) as { model_version: string }).model_version).toBe('1');
    // Consul down: weights stay as last known.
    await consul.stop();
    await new Promise((r2) => setTimeout(r2, 300));
    expect(g2.splits.get('m')?.config.weights['1']).toBe(100);
    await consul.restart();
  });
});
