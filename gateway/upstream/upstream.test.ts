import { describe, expect, it, vi } from 'vitest';
import { OutlierState } from './outlier-detector.js';
import { RetryBudget } from './retry-budget.js';
import { UpstreamWorker } from './upstream-worker.js';

describe('outlier ejection', () => {
  it('ejects after N consecutive failures for base * times-ejected, and decays', () => {
    const o = new OutlierState({ consecutive: 3, baseEjectionMs: 100, maxEjectionMs: 250 });
    expect(o.failure(0)).toBe(false);
    o.success();
    expect(o.failure(0)).toBe(false);
    expect(o.failure(0)).toBe(false);
    expect(o.failure(0)).toBe(true);
    expect(o.isEjected(99)).toBe(true);
    expect(o.isEjected(100)).toBe(false);
    for (let i = 0; i < 3; i++) o.failure(100);
    expect(o.isEjected(299)).toBe(true); // second ejection: 2 x base
    expect(o.isEjected(300)).toBe(false);
    for (let i = 0; i < 3; i++) o.failure(300);
    expect(o.ejectedUntil).toBe(550); // capped at max
    o.tick(600);
    o.tick(600);
    expect(o.timesEjected).toBe(1);
    expect(o.failure(600, true)).toBe(true);
    expect(o.ejectedUntil).toBe(800);
    expect(o.ejections).toBe(4);
  });
});

describe('retry budget', () => {
  it('allows max(min, 20% of active) retries in flight', () => {
    const b = new RetryBudget(0.2, 3);
    b.active = 100;
    let ok = 0;
    for (let i = 0; i < 50; i++) if (b.tryRetry()) ok++;
    expect(ok).toBe(20);
    b.active = 1;
    for (let i = 0; i < 20; i++) b.endRetry();
    let small = 0;
    for (let i = 0; i < 10; i++) if (b.tryRetry()) small++;
    expect(small).toBe(3);
  });
});

describe('latency estimate for p2c', () => {
  it('is the peak EWMA of answers, or the age of the oldest call in flight when that is longer', async () => {
    let now = 1000;
    const spy = vi.spyOn(performance, 'now').mockImplementation(() => now);
    try {
      const w = new UpstreamWorker('w', 'http://127.0.0.1:1');
      w.callStarted(1000);
      now = 1002;
      w.callEnded(1000, 2);
      expect(w.latencyMs).toBe(2); // peak: jumps up to a slower answer at once
      w.callEnded(-1, 1);
      expect(w.latencyMs).toBeCloseTo(1.9); // decays by 10% of the gap per faster answer
      w.callStarted(1002);
      now = 1052; // a call stuck for 50 ms rates the worker 50 ms slow before it answers
      expect(w.latencyMs).toBe(50);
      w.callEnded(1002, 50);
      now = 2000;
      expect(w.latencyMs).toBe(50);
      w.destroy();
    } finally {
      spy.mockRestore();
    }
  });
});

describe('UpstreamWorker.usesData', () => {
  it('keeps data connections for POST predict/infer calls the fast front serves, the rest on the agent', async () => {
    const w = new UpstreamWorker('w', 'http://127.0.0.1:1');
    try {
      expect(w.usesData('POST', '/v2/models/m/infer', 100)).toBe(true);
      expect(w.usesData('POST', '/v2/models/m/versions/2/infer?x=1', 100)).toBe(true);
      expect(w.usesData('POST', '/v1/models/m:predict', 100)).toBe(true);
      expect(w.usesData('POST', '/v1/models/m:predict', 10 * 1024 * 1024)).toBe(false);
      expect(w.usesData('POST', '/v1/models/m:batch', 100)).toBe(false);
      expect(w.usesData('GET', '/v2/models/m', 0)).toBe(false);
    } finally {
      await w.close();
    }
  });
});
