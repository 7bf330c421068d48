import { describe, expect, it } from 'vitest';
import { DEFAULT_MONITOR_CONFIG, monitorConfigFrom } from '../../shared/monitor/monitor-config.js';
import { mergeMonitorResponses } from '../../shared/monitor/monitor-merge.js';
import { buildProfile } from '../../shared/profile/build-profile.js';
import { mulberry32 } from '../../shared/random/seeded-rng.js';
import { WebhookSender } from '../../shared/webhook/webhook-sender.js';
import type { PredictionEvent } from '../observer.js';
import { VersionMonitor } from './version-monitor.js';

const F = 3;
const names = ['a', 'b', 'c'];
function rows(
  n: number,
  rng: () => number,
  tweak?: (row: Float64Array) => void,
): { input: Float64Array; output: Float64Array } {
  const input = new Float64Array(n * F);
  const output = new Float64Array(n);
  const row = new Float64Array(F);
  for (let r = 0; r < n; r++) {
    row[0] = rng() * 10;
    row[1] = rng() * 2 - 1;
    row[2] = Math.floor(rng() * 4); // categorical 0..3
    tweak?.(row);
    input.set(row, r * F);
    output[r] = 1 / (1 + Math.exp(-(row[0]! - 5)));
  }
  return { input, output };
}
function event(input: Float64Array, output: Float64Array): PredictionEvent {
  return {
    requestId: 'x',
    requestIds: null,
    model: 'm',
    version: '1',
    sha256: 's',
    input,
    namedRows: null,
    rows: output.length,
    numFeatures: F,
    output,
    numOutputs: 1,
    raw: false,
    at: 0,
  };
}
function monitor(window = 1000) {
  const rng = mulberry32(1);
  const train = rows(5000, rng);
  const profile = buildProfile({
    featureNames: names,
    task: 'regression',
    outputNames: ['prediction'],
    data: train.input,
    rows: 5000,
    predictions: train.output,
  });
  return new VersionMonitor({
    model: 'm',
    version: '1',
    sha256: 's',
    featureNames: names,
    profile,
    config: { ...DEFAULT_MONITOR_CONFIG, window_rows: window },
    outputIndex: 0,
  });
}
const firing = (m: VersionMonitor) =>
  m
    .activeAlarms()
    .map((a) => `${a.feature}:${a.kind}`)
    .sort();

describe('VersionMonitor', () => {
  it('stays quiet on normal rows, fires missing on the missing feature only, then drift on a shifted one, and clears', () => {
    const m = monitor();
    const rng = mulberry32(2);
    const send = (n: number, tweak?: (row: Float64Array) => void) => {
      const { input, output } = rows(n, rng, tweak);
      for (let i = 0; i < n; i++)
        m.observe(event(input.subarray(i * F, i * F + F), output.subarray(i, i + 1)));
    };
    send(1000);
    expect(m.evaluate(0)).toEqual([]);
    send(400, (r) => {
      r[1] = Number.NaN;
    });
    const t1 = m.evaluate(1);
    expect(t1.map((t) => `${t.feature}:${t.kind}:${t.state}`)).toEqual(['b:missing:firing']);
    expect(t1[0]!.value).toBeCloseTo(0.4, 12);
    expect(t1[0]!.threshold).toBeCloseTo(0.2, 12);
    send(1000, (r) => {
      r[0] = r[0]! + 20;
    });
    const t2 = m.evaluate(2).map((t) => `${t.feature}:${t.kind}:${t.state}`);
    expect(t2).toContain('b:missing:resolved');
    expect(firing(m)).toContain('a:drift');
    expect(firing(m)).toContain('a:out_of_range');
    expect(firing(m).filter((x) => x.startsWith('b:') || x.startsWith('c:'))).toEqual([]);
    send(1000);
    m.evaluate(3);
    expect(firing(m)).toEqual([]);
  });

  it('does not fire before min_rows and clears with hysteresis', () => {
    const m = monitor();
    const rng = mulberry32(3);
    const { input, output } = rows(150, rng, (r) => {
      r[2] = Number.NaN;
    });
    m.observe(event(input, output));
    expect(m.evaluate(0)).toEqual([]); // 150 rows < min_rows 200, although 100% missing
    const more = rows(100, rng);
    m.observe(event(more.input, more.output));
    expect(firing(m.evaluate(1) && m)).toEqual(['c:missing']); // 150/250 = 0.6
    // Missing ratio 0.17 (< 0.2 but not < 0.16): still firing; 0.15: cleared.
    const big = rows(632, rng);
    m.observe(event(big.input, big.output)); // 150 / 882 = 0.170
    m.evaluate(2);
    expect(firing(m)).toEqual(['c:missing']);
    const last = rows(118, rng);
    m.observe(event(last.input, last.output)); // 150 / 1000 = 0.15
    m.evaluate(3);
    expect(firing(m)).toEqual([]);
  });

  it('flags unseen categories as out of range', () => {
    const m = monitor();
    const { input, output } = rows(500, mulberry32(4), (r) => {
      r[2] = 7;
    });
    m.observe(event(input, output));
    m.evaluate(0);
    expect(firing(m)).toEqual(['c:drift', 'c:out_of_range']);
  });

  it('merges workers exactly: two half windows equal one window', () => {
    const a = monitor(500);
    const b = monitor(500);
    const all = monitor(1000);
    const d = rows(1000, mulberry32(5), (r) => {
      if (r[1]! > 0.5) r[1] = Number.NaN;
    });
    a.observe(event(d.input.subarray(0, 500 * F), d.output.subarray(0, 500)));
    b.observe(event(d.input.subarray(500 * F), d.output.subarray(500)));
    all.observe(event(d.input, d.output));
    const merged = mergeMonitorResponses([a.response(), b.response(), { junk: true }]) as any;
    const one = all.response() as any;
    expect(merged.rows).toBe(1000);
    for (let f = 0; f < F; f++) {
      expect(merged.features[f].missing_ratio).toBeCloseTo(one.features[f].missing_ratio, 12);
      expect(merged.features[f].psi).toBeCloseTo(one.features[f].psi, 12);
    }
    expect(merged.prediction.psi).toBeCloseTo(one.prediction.psi, 12);
    expect(mergeMonitorResponses([])).toBeNull();
  });

  it('the merged answer has active_alarms as a worker has them, and each window as configured', () => {
    const a = monitor(500);
    const b = monitor(500);
    const missing = rows(500, mulberry32(6), (r) => {
      if (r[1]! > 0.5) r[1] = Number.NaN;
    });
    const clean = rows(500, mulberry32(7));
    a.observe(event(missing.input, missing.output));
    b.observe(event(clean.input, clean.output));
    a.evaluate(Date.UTC(2026, 0, 1));
    b.evaluate(Date.UTC(2026, 0, 2));
    const ra = a.response() as any;
    // Missing values in b: the missing ratio and, through the missing bin, PSI.
    expect(ra.active_alarms.map((x: any) => `${x.feature}:${x.kind}`)).toEqual(['b:missing', 'b:drift']);
    const merged = mergeMonitorResponses([ra, b.response()]) as any;
    expect(merged.window_rows).toBe(500);
    expect(merged.counts.workers).toBe(2);
    // Listed with the worker's start, its threshold, and the value over both windows.
    const fb = merged.features[1];
    expect(merged.active_alarms).toEqual([
      { ...ra.active_alarms[0], value: fb.missing_ratio },
      { ...ra.active_alarms[1], value: fb.psi },
    ]);
    expect(fb.missing_ratio).toBeCloseTo(ra.features[1].missing_ratio / 2, 12);
    expect(Object.keys(merged.active_alarms[0]).sort()).toEqual(Object.keys(ra.active_alarms[0]).sort());
  });
});

describe('inhibition', () => {
  it('does not start an output drift alarm while an input alarm fires, but does without one', () => {
    const shifted = rows(1000, mulberry32(11), (r) => {
      r[0] = r[0]! + 20; // moves the output (a sigmoid of feature a) as well
    });
    const m = monitor();
    m.observe(event(shifted.input, shifted.output));
    m.evaluate(0);
    expect(firing(m)).toContain('a:drift');
    expect(firing(m).some((x) => x.startsWith('__prediction__'))).toBe(false);
    expect((m.response() as any).prediction.psi).toBeGreaterThan(0.25);
    // The same output shift with normal inputs: the output alarm fires.
    const normal = rows(1000, mulberry32(12));
    const m2 = monitor();
    m2.observe(event(normal.input, shifted.output));
    m2.evaluate(0);
    expect(firing(m2)).toContain('__prediction__:drift');
    expect(firing(m2).every((x) => x.startsWith('__prediction__:'))).toBe(true);
  });
});

describe('big batches', () => {
  it('keeps exactly the last window rows of a batch larger than the window', () => {
    const d = rows(3000, mulberry32(9), (r) => {
      if (r[0]! > 5) r[1] = Number.NaN;
    });
    const big = monitor(500);
    big.observe(event(d.input, d.output));
    const small = monitor(500);
    small.observe(event(d.input.subarray(2500 * F), d.output.subarray(2500)));
    expect(big.snapshot().columns).toEqual(small.snapshot().columns);
    expect(big.totalRows).toBe(3000);
  });

  it('bins retainable events on read with exactly the counts of binning each as it came', () => {
    const rng = mulberry32(9);
    const eager = monitor(100);
    const lazy = monitor(100);
    // Sizes below, at and above the window; some without input, some raw (no output counted),
    // some with shifted or missing values so the codes differ between events.
    const sizes = [7, 30, 99, 1, 100, 250, 3, 64, 101, 40, 0, 12, 300, 5, 55];
    for (let i = 0; i < sizes.length; i++) {
      const n = sizes[i]!;
      const { input, output } = rows(n, rng, (r) => {
        if (i % 3 === 1) r[0] = r[0]! + 30;
        if (i % 4 === 2) r[1] = Number.NaN;
      });
      const e = event(input, output);
      if (i % 5 === 3) e.input = null;
      if (i % 6 === 4) e.raw = true;
      eager.observe(e);
      // A non-retainable event between retained ones is binned in its turn.
      lazy.observe(i % 7 === 6 ? e : { ...e, retainable: true });
      expect(lazy.totalRows).toBe(eager.totalRows);
      if (i % 4 === 3) expect(lazy.snapshot()).toEqual(eager.snapshot());
    }
    expect(lazy.snapshot()).toEqual(eager.snapshot());
    expect(lazy.snapshot().rows).toBe(100);
    expect(lazy.response()).toEqual(eager.response());
  });
});

describe('monitor config', () => {
  it('reads per-model thresholds and ignores bad values', () => {
    const c = monitorConfigFrom({
      monitor: { window_rows: 50, psi: 0.1, missing: 'x', __proto__: { psi: 9 } },
    });
    expect(c.window_rows).toBe(50);
    expect(c.psi).toBe(0.1);
    expect(c.missing).toBe(0.2);
  });
});

describe('WebhookSender', () => {
  it('retries with exponential backoff, then gives up (bounded)', async () => {
    const delays: number[] = [];
    let calls = 0;
    const s = new WebhookSender({
      url: 'http://x',
      maxAttempts: 4,
      baseDelayMs: 100,
      random: () => 1,
      sleep: async (ms) => {
        delays.push(ms);
      },
      fetchImpl: (async () => {
        calls++;
        throw new Error('down');
      }) as unknown as typeof fetch,
    });
    s.send({ a: 1 });
    await s.drained();
    expect(calls).toBe(4);
    expect(delays).toEqual([100, 200, 400]);
    expect(s.dropped).toBe(1);
  });
  it('drops the oldest notice when the queue is full', async () => {
    const bodies: string[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const s = new WebhookSender({
      url: 'http://x',
      maxQueue: 2,
      fetchImpl: (async (_u: string, init: { body: string }) => {
        await gate;
        bodies.push(init.body);
        return new Response('ok');
      }) as unknown as typeof fetch,
    });
    for (let i = 0; i < 5; i++) s.send({ i }); // 0 in flight; 1,2 queued then 3,4 push them out
    release();
    await s.close();
    expect(bodies.map((b) => JSON.parse(b).i)).toEqual([0, 3, 4]);
    expect(s.dropped).toBe(2);
  });
});
