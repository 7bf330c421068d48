import { afterEach, describe, expect, it } from 'vitest';
import { WorkerSet } from '../upstream/worker-set.js';
import { DnsDiscovery, type DnsResolver, parseDnsTarget, systemResolver } from './dns-discovery.js';

/** Answers what the test sets: addresses, or a DNS error code. */
class FakeResolver implements DnsResolver {
  a: string[] | string = [];
  aaaa: string[] | string = 'ENODATA';
  calls = 0;
  private answer(v: string[] | string): Promise<string[]> {
    if (typeof v === 'string')
      return Promise.reject(Object.assign(new Error(`query failed ${v}`), { code: v }));
    return Promise.resolve([...v]);
  }
  resolve4(): Promise<string[]> {
    this.calls++;
    return this.answer(this.a);
  }
  resolve6(): Promise<string[]> {
    return this.answer(this.aaaa);
  }
}

/** A clock and a timer queue the test advances by hand. */
class FakeClock {
  t = 0;
  timers: { at: number; fn: () => void; live: boolean }[] = [];
  now = () => this.t;
  schedule = (fn: () => void, ms: number) => {
    const timer = { at: this.t + ms, fn, live: true };
    this.timers.push(timer);
    return () => {
      timer.live = false;
    };
  };
  /** Delay of the one pending timer from now. */
  pending(): number {
    const live = this.timers.filter((x) => x.live);
    expect(live).toHaveLength(1);
    return live[0]!.at - this.t;
  }
  /** Moves to the pending timer and runs it. */
  fire(): void {
    const live = this.timers.filter((x) => x.live).sort((a, b) => a.at - b.at)[0]!;
    live.live = false;
    this.t = live.at;
    live.fn();
  }
}

const sets: WorkerSet[] = [];
afterEach(async () => {
  for (const s of sets.splice(0)) await s.close();
});

function setup(opts: { intervalMs?: number; maxWorkers?: number } = {}) {
  const resolver = new FakeResolver();
  const clock = new FakeClock();
  const workers = new WorkerSet();
  sets.push(workers);
  const added: string[] = [];
  const logs: string[] = [];
  const disc = new DnsDiscovery({ host: 'grove-workers', port: 9000 }, workers, {
    resolver,
    schedule: clock.schedule,
    now: clock.now,
    intervalMs: opts.intervalMs ?? 5000,
    maxWorkers: opts.maxWorkers,
    onAdded: (w) => added.push(w.id),
    log: (m) => logs.push(m),
  });
  const urls = () => workers.all.map((w) => w.url).sort();
  /** Runs the pending timer and waits for the pass it starts. */
  const tick = async () => {
    clock.fire();
    await disc.refresh();
  };
  return { resolver, clock, workers, disc, added, logs, urls, tick };
}

describe('parseDnsTarget', () => {
  it('takes dns:HOST:PORT and nothing else', () => {
    expect(parseDnsTarget('dns:grove-workers.ml.svc.cluster.local:9000')).toEqual({
      host: 'grove-workers.ml.svc.cluster.local',
      port: 9000,
    });
    for (const bad of ['dns:host', 'dns::9000', 'dns:host:0', 'dns:host:70000', 'host:9000', 'dns:a b:1'])
      expect(parseDnsTarget(bad), bad).toBeNull();
  });
});

describe('DnsDiscovery', () => {
  it('adds every A and AAAA address as a worker on PORT, then re-resolves every interval', async () => {
    const s = setup();
    s.resolver.a = ['10.0.0.1', '10.0.0.2'];
    s.resolver.aaaa = ['fd00::7'];
    await s.disc.start();
    expect(s.urls()).toEqual(['http://10.0.0.1:9000', 'http://10.0.0.2:9000', 'http://[fd00::7]:9000']);
    expect(s.added.sort()).toEqual(['dns-10.0.0.1:9000', 'dns-10.0.0.2:9000', 'dns-[fd00::7]:9000']);
    expect(s.clock.pending()).toBe(5000);
    await s.tick();
    expect(s.resolver.calls).toBe(2);
    expect(s.clock.pending()).toBe(5000);
    s.disc.stop();
  });

  it('adds pods that appear and drains pods that go, keeping the workers that stay', async () => {
    const s = setup();
    s.resolver.a = ['10.0.0.1', '10.0.0.2'];
    await s.disc.start();
    const kept = s.workers.get('dns-10.0.0.2:9000')!;
    const gone = s.workers.get('dns-10.0.0.1:9000')!;
    s.resolver.a = ['10.0.0.2', '10.0.0.3'];
    await s.tick();
    expect(s.urls()).toEqual(['http://10.0.0.2:9000', 'http://10.0.0.3:9000']);
    // The same object: its pool, latency estimate and in-flight count carry on.
    expect(s.workers.get('dns-10.0.0.2:9000')).toBe(kept);
    expect(gone.removed).toBe(true);
    expect(s.added).toEqual(['dns-10.0.0.1:9000', 'dns-10.0.0.2:9000', 'dns-10.0.0.3:9000']);
    s.disc.stop();
  });

  it('leaves workers of other sources alone', async () => {
    const s = setup();
    s.workers.add('static-0', 'http://127.0.0.1:1234');
    s.resolver.a = ['10.0.0.1'];
    await s.disc.start();
    s.resolver.a = 'ENOTFOUND';
    await s.tick();
    expect(s.urls()).toEqual(['http://127.0.0.1:1234']);
    s.disc.stop();
  });

  it('keeps the last known workers when lookups fail, retrying 250, 500, 1000 ... ms up to the interval', async () => {
    const s = setup({ intervalMs: 3000 });
    s.resolver.a = ['10.0.0.1'];
    await s.disc.start();
    s.resolver.a = 'ESERVFAIL';
    s.resolver.aaaa = 'ETIMEOUT';
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      await s.tick();
      delays.push(s.clock.pending());
      expect(s.urls()).toEqual(['http://10.0.0.1:9000']);
    }
    expect(delays).toEqual([250, 500, 1000, 2000, 3000, 3000]);
    expect(s.logs.filter((l) => /lookup failed/.test(l))).toHaveLength(1);
    s.resolver.a = ['10.0.0.9'];
    s.resolver.aaaa = 'ENODATA';
    await s.tick();
    expect(s.urls()).toEqual(['http://10.0.0.9:9000']);
    expect(s.clock.pending()).toBe(3000);
    expect(s.disc.failures).toBe(0);
    s.disc.stop();
  });

  it('updates the family that answered and keeps the one whose lookup failed', async () => {
    const s = setup();
    s.resolver.a = ['10.0.0.1'];
    s.resolver.aaaa = ['fd00::1'];
    await s.disc.start();
    s.resolver.a = ['10.0.0.2'];
    s.resolver.aaaa = 'ETIMEOUT';
    await s.tick();
    expect(s.urls()).toEqual(['http://10.0.0.2:9000', 'http://[fd00::1]:9000']);
    s.resolver.a = 'ECONNREFUSED';
    s.resolver.aaaa = [];
    await s.tick();
    expect(s.urls()).toEqual(['http://10.0.0.2:9000']);
    s.disc.stop();
  });

  it('an answer without records (NXDOMAIN, NODATA) removes every worker of the name', async () => {
    const s = setup();
    s.resolver.a = ['10.0.0.1'];
    await s.disc.start();
    s.resolver.a = 'ENOTFOUND';
    s.resolver.aaaa = 'ENODATA';
    await s.tick();
    expect(s.urls()).toEqual([]);
    expect(s.clock.pending()).toBe(5000);
    s.disc.stop();
  });

  it('re-resolves early when one of its workers turns unhealthy, at most once per second', async () => {
    const s = setup();
    s.resolver.a = ['10.0.0.1', '10.0.0.2'];
    await s.disc.start();
    s.clock.t = 400;
    const w = s.workers.get('dns-10.0.0.1:9000')!;
    w.healthy = false;
    s.resolver.a = ['10.0.0.2'];
    s.workers.changed(); // what the health checker does on a health change
    // 400 ms after the last lookup: the next one comes 600 ms later, not 4600.
    expect(s.clock.pending()).toBe(600);
    await s.tick();
    expect(s.resolver.calls).toBe(2);
    expect(s.urls()).toEqual(['http://10.0.0.2:9000']);
    expect(s.clock.pending()).toBe(5000);
    // 1 s after that lookup a new unhealthy worker triggers a lookup at once.
    s.clock.t += 1000;
    s.workers.get('dns-10.0.0.2:9000')!.healthy = false;
    s.workers.changed();
    await s.disc.refresh();
    expect(s.resolver.calls).toBe(3);
    // Health changes of healthy workers trigger nothing.
    s.workers.get('dns-10.0.0.2:9000')!.healthy = true;
    s.workers.changed();
    expect(s.resolver.calls).toBe(3);
    expect(s.clock.pending()).toBe(5000);
    s.disc.stop();
  });

  it('ignores addresses beyond maxWorkers and stops for good on stop()', async () => {
    const s = setup({ maxWorkers: 3 });
    s.resolver.a = Array.from({ length: 10 }, (_, i) => `10.0.1.${i}`);
    await s.disc.start();
    expect(s.workers.all).toHaveLength(3);
    expect(s.logs.some((l) => /more than 3 addresses/.test(l))).toBe(true);
    s.disc.stop();
    expect(s.clock.timers.filter((t) => t.live)).toHaveLength(0);
    await s.disc.refresh();
    expect(s.resolver.calls).toBe(1);
  });
});

describe('DnsDiscovery without callbacks', () => {
  it('adds workers with no onAdded given', async () => {
    const resolver = new FakeResolver();
    resolver.a = ['10.0.0.1'];
    const clock = new FakeClock();
    const workers = new WorkerSet();
    sets.push(workers);
    const disc = new DnsDiscovery({ host: 'w', port: 1 }, workers, { resolver, schedule: clock.schedule });
    await disc.start();
    expect(workers.all.map((w) => w.url)).toEqual(['http://10.0.0.1:1']);
    disc.stop();
  });
});

describe('systemResolver', () => {
  it('without servers asks the system (getaddrinfo: /etc/hosts here); a name that does not exist is ENOTFOUND', async () => {
    const r = systemResolver();
    expect(await r.resolve4('localhost')).toContain('127.0.0.1');
    const err = await r.resolve4('no-such-host.invalid').catch((e: NodeJS.ErrnoException) => e);
    expect((err as NodeJS.ErrnoException).code).toMatch(/^(ENOTFOUND|ENODATA|EAI_AGAIN)$/);
  });
});
