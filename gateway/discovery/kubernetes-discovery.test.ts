import { KubeConfig } from '@kubernetes/client-node';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeWorker, startFakeWorker } from '../../test/support/fake-gateway-upstream.js';
import { type FakeKubeApi, startFakeKubeApi } from '../../test/support/fake-kube-api.js';
import { startGateway } from '../gateway.js';
import { WorkerSet } from '../upstream/worker-set.js';
import {
  type EndpointSliceLike,
  KubernetesDiscovery,
  parseKubernetesTarget,
  workersFromSlices,
} from './kubernetes-discovery.js';

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

describe('parseKubernetesTarget', () => {
  it('kubernetes[:SERVICE[:PORT]], PORT a name or a number', () => {
    expect(parseKubernetesTarget('kubernetes')).toEqual({ service: 'grove-worker', port: 'http' });
    expect(parseKubernetesTarget('kubernetes:models')).toEqual({ service: 'models', port: 'http' });
    expect(parseKubernetesTarget('kubernetes:models:9000')).toEqual({ service: 'models', port: '9000' });
    expect(parseKubernetesTarget('kubernetes:models:grpc')).toEqual({ service: 'models', port: 'grpc' });
    for (const bad of [
      'kube',
      'kubernetes:',
      'kubernetes:Models',
      'kubernetes:a:b:c',
      'kubernetes:-a',
      'dns:a:1',
    ])
      expect(parseKubernetesTarget(bad), bad).toBeNull();
  });
});

describe('workersFromSlices', () => {
  const slice = (over: Partial<EndpointSliceLike>): EndpointSliceLike => ({
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 9000 }],
    endpoints: [],
    ...over,
  });
  it('every address of every endpoint not marked unready, on the named (or numbered) port', () => {
    const slices = [
      slice({
        endpoints: [
          { addresses: ['10.0.0.1'], conditions: { ready: true } },
          { addresses: ['10.0.0.2'], conditions: { ready: null } }, // nil means ready
          { addresses: ['10.0.0.3'], conditions: {} },
          { addresses: ['10.0.0.4'], conditions: { ready: false } }, // terminating or failing readiness
        ],
      }),
      slice({ addressType: 'IPv6', endpoints: [{ addresses: ['fd00::5'] }] }),
      slice({ addressType: 'FQDN', endpoints: [{ addresses: ['w.example'] }] }),
      slice({ ports: [{ name: 'metrics', port: 9100 }], endpoints: [{ addresses: ['10.0.0.6'] }] }),
      slice({ ports: [{ name: 'http', port: 9001 }], endpoints: [{ addresses: ['10.0.0.7'] }] }),
    ];
    expect([...workersFromSlices(slices, 'http')]).toEqual([
      ['k8s-10.0.0.1:9000', 'http://10.0.0.1:9000'],
      ['k8s-10.0.0.2:9000', 'http://10.0.0.2:9000'],
      ['k8s-10.0.0.3:9000', 'http://10.0.0.3:9000'],
      ['k8s-[fd00::5]:9000', 'http://[fd00::5]:9000'],
      ['k8s-10.0.0.7:9001', 'http://10.0.0.7:9001'],
    ]);
    expect([...workersFromSlices(slices, '9100').keys()]).toEqual(['k8s-10.0.0.6:9100']);
    expect(workersFromSlices(slices, 'http', 2).size).toBe(2);
    expect(
      workersFromSlices(
        [slice({ ports: [{ name: 'http', port: 0 }], endpoints: [{ addresses: ['1.1.1.1'] }] })],
        'http',
      ).size,
    ).toBe(0);
  });
});

function kubeConfigFor(api: FakeKubeApi): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(api.kubeconfig());
  return kc;
}

describe('KubernetesDiscovery against a fake API server', () => {
  it('lists then watches EndpointSlices: adds ready pods, drains unready and deleted ones, rides out an API outage', async () => {
    const api = await startFakeKubeApi();
    cleanup.push(() => api.close());
    const fakes: FakeWorker[] = await Promise.all([
      startFakeWorker({ m: ['1'] }),
      startFakeWorker({ m: ['1'] }),
    ]);
    cleanup.push(() => Promise.all(fakes.map((f) => f.close())).then(() => {}));
    const port = (f: FakeWorker) => Number(new URL(f.url).port);
    // Pods whose named port resolves to different numbers get slices of their own.
    api.set({
      name: 'w-a',
      service: 'grove-worker',
      ports: [{ name: 'http', port: port(fakes[0]!) }],
      endpoints: [{ addresses: ['127.0.0.1'], ready: true }],
    });
    api.set({
      name: 'other',
      service: 'something-else',
      ports: [{ name: 'http', port: 1 }],
      endpoints: [{ addresses: ['127.0.0.9'] }],
    });

    const gw = await startGateway({ port: 0, admin: false, healthIntervalMs: 200 });
    const logs: string[] = [];
    const disc = new KubernetesDiscovery({ service: 'grove-worker', port: 'http' }, gw.workers, {
      kubeConfig: kubeConfigFor(api),
      retryMs: 50,
      maxRetryMs: 200,
      onAdded: (w) => void gw.health.check(w),
      log: (m) => logs.push(m),
    });
    cleanup.push(async () => {
      disc.stop();
      await gw.close();
    });
    await disc.start();
    expect(disc.namespace).toBe('grove');
    expect(gw.workers.all.map((w) => w.url)).toEqual([fakes[0]!.url]);
    await until(() => gw.workers.versionsOf('m')?.has('1') === true);
    const r = await request(`${gw.url}/v1/models/m:predict`, {
      method: 'POST',
      body: '{"instances":[[1,2]]}',
    });
    expect(r.statusCode).toBe(200);
    await r.body.dump();
    expect(api.auth.every((a) => a === 'Bearer test-token')).toBe(true);
    await until(() => api.watching() === 1);

    // A new pod becomes ready: the watch event adds it.
    api.set({
      name: 'w-b',
      service: 'grove-worker',
      ports: [{ name: 'http', port: port(fakes[1]!) }],
      endpoints: [{ addresses: ['127.0.0.1'], ready: true }],
    });
    await until(() => gw.workers.all.length === 2);
    // Pod a terminates: not ready at once, drained from routing.
    const a = gw.workers.get(`k8s-127.0.0.1:${port(fakes[0]!)}`)!;
    api.set({
      name: 'w-a',
      service: 'grove-worker',
      ports: [{ name: 'http', port: port(fakes[0]!) }],
      endpoints: [{ addresses: ['127.0.0.1'], ready: false }],
    });
    await until(() => gw.workers.all.length === 1);
    expect(a.removed).toBe(true);
    expect(gw.workers.all[0]!.url).toBe(fakes[1]!.url);

    // The API server goes away: nothing changes; it comes back with pod b gone and pod a back: the
    // resumed watch brings both changes.
    api.failing = true;
    await until(() => logs.some((l) => /keeping the last known workers/.test(l)));
    expect(gw.workers.all.map((w) => w.url)).toEqual([fakes[1]!.url]);
    api.delete('w-b');
    api.set({
      name: 'w-a',
      service: 'grove-worker',
      ports: [{ name: 'http', port: port(fakes[0]!) }],
      endpoints: [{ addresses: ['127.0.0.1'], ready: true }],
    });
    api.failing = false;
    await until(() => gw.workers.all.length === 1 && gw.workers.all[0]!.url === fakes[0]!.url);
    await until(() => logs.some((l) => /watching endpointslices of grove-worker again/.test(l)));
  });

  it('lists again when its resourceVersion expired (410 Gone), dropping what vanished meanwhile', async () => {
    const api = await startFakeKubeApi();
    cleanup.push(() => api.close());
    const slice = (name: string, port: number) => ({
      name,
      service: 'grove-worker',
      ports: [{ name: 'http', port }],
      endpoints: [{ addresses: ['127.0.0.1'] }],
    });
    api.set(slice('a', 9001));
    api.set(slice('b', 9002));
    const workers = new WorkerSet();
    const disc = new KubernetesDiscovery({ service: 'grove-worker', port: 'http' }, workers, {
      kubeConfig: kubeConfigFor(api),
      retryMs: 50,
      maxRetryMs: 200,
    });
    cleanup.push(async () => {
      disc.stop();
      await workers.close();
    });
    await disc.start();
    expect(workers.all.map((w) => w.id).sort()).toEqual(['k8s-127.0.0.1:9001', 'k8s-127.0.0.1:9002']);
    await until(() => api.watching() === 1);
    api.failing = true;
    await until(() => disc.failures > 0);
    api.delete('b');
    api.set(slice('c', 9003));
    api.compact();
    api.failing = false;
    await until(
      () =>
        workers.all
          .map((w) => w.id)
          .sort()
          .join() === 'k8s-127.0.0.1:9001,k8s-127.0.0.1:9003',
    );
    expect(api.requests.filter((r) => r === 'list')).toHaveLength(2);
  });
});
