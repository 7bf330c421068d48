// The influence alarm on a real model: quiet while traffic looks like the profile's rows, firing
// on the feature whose contributions moved when its values do, resolving when they come back;
// sampling at its rate, the time budget, and the config block.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { contributionProfile } from '../../shared/profile/profile-model.js';
import { mulberry32 } from '../../shared/random/seeded-rng.js';
import { fixturePath, readCsv } from '../../shared/runtime/fixtures.test-helper.js';
import { loadModel } from '../../shared/runtime/load.js';
import type { PredictionEvent } from '../observer.js';
import {
  ContributionTracker,
  contributionMonitorConfig,
  DEFAULT_CONTRIBUTION_MONITOR,
} from './contribution-tracker.js';

const dir = fixturePath('xgboost/xgb-binary-100x4/');
const model = loadModel(new Uint8Array(readFileSync(`${dir}model.json`)), { fileName: 'model.json' });
const x = readCsv(`${dir}test.csv`, true);
const F = 20;
const names = model.meta.featureNames;
const baseline = contributionProfile(model, x.data.subarray(0, 1000 * F), 1000)!.mean_abs;

function event(input: Float64Array, rows: number): PredictionEvent {
  return {
    requestId: 'r',
    requestIds: null,
    model: 'm',
    version: '1',
    sha256: 'x',
    input,
    namedRows: null,
    rows,
    numFeatures: F,
    output: new Float64Array(rows),
    numOutputs: 1,
    raw: false,
    at: 0,
  };
}

function tracker(over: Partial<typeof DEFAULT_CONTRIBUTION_MONITOR> = {}, clock?: () => number) {
  return new ContributionTracker({
    model: 'm',
    version: '1',
    featureNames: names,
    explain: model,
    baseline,
    config: { ...DEFAULT_CONTRIBUTION_MONITOR, enabled: true, sample: 1, budget_ms: 1e9, ...over },
    hysteresis: 0.8,
    random: mulberry32(7),
    ...(clock ? { clock } : {}),
  });
}

describe('influence alarm', () => {
  test('quiet on rows like the profile’s, fires on the feature that moved, resolves when it is back', () => {
    const t = tracker({ window_rows: 200, min_rows: 100 });
    const rows = x.data.subarray(1000 * F, 1200 * F);
    t.observe(event(rows, 200));
    expect(t.evaluate(1)).toEqual([]);
    // f18 (the most influential feature) stuck at its median-ish value 0: its contribution shrinks.
    const shifted = rows.slice();
    for (let r = 0; r < 200; r++) shifted[r * F + 18] = 0;
    t.observe(event(shifted, 200));
    const fired = t.evaluate(2);
    expect(fired.map((a) => [a.feature, a.kind, a.state])).toContainEqual(['f18', 'influence', 'firing']);
    expect(fired.find((a) => a.feature === 'f18')!.value).toBeGreaterThan(Math.LN2);
    expect(t.isFiring(18)).toBe(true);
    expect(t.response()).toMatchObject({ rows: 200, baseline: true });
    t.observe(event(rows, 200));
    const resolved = t.evaluate(3);
    expect(resolved.map((a) => [a.feature, a.state])).toContainEqual(['f18', 'resolved']);
    expect(t.isFiring(18)).toBe(false);
  });

  test('no alarms below min_rows, nor without a profile baseline', () => {
    const t = tracker({ min_rows: 300 });
    const shifted = x.data.slice(0, 200 * F);
    for (let r = 0; r < 200; r++) shifted[r * F + 18] = 0;
    t.observe(event(shifted, 200));
    expect(t.evaluate(1)).toEqual([]);
    const none = new ContributionTracker({
      model: 'm',
      version: '1',
      featureNames: names,
      explain: model,
      baseline: null,
      config: { ...DEFAULT_CONTRIBUTION_MONITOR, enabled: true, sample: 1, min_rows: 10 },
      hysteresis: 0.8,
    });
    none.observe(event(shifted, 200));
    expect(none.evaluate(1)).toEqual([]);
    expect(none.response()).toMatchObject({ baseline: false });
    expect(
      (none.response().features as { mean_abs_contribution: number }[])[18]!.mean_abs_contribution,
    ).toBeGreaterThanOrEqual(0);
  });
});

describe('cost controls', () => {
  test('rows are sampled at the configured rate', () => {
    const t = tracker({ sample: 0.1, window_rows: 100_000 });
    const rows = x.data.subarray(0, 2000 * F);
    for (let i = 0; i < 5; i++) {
      t.observe(event(rows, 2000));
      t.drain();
    }
    // 10000 rows at 10%: 1000 expected, binomial sd 30
    expect(t.sampled).toBeGreaterThan(850);
    expect(t.sampled).toBeLessThan(1150);
  });

  test('the budget bounds the work per evaluation; the rest is dropped and counted', () => {
    let now = 0;
    const t = tracker({ budget_ms: 5 }, () => (now += 1));
    t.observe(event(x.data.subarray(0, 50 * F), 50));
    t.drain();
    expect(t.explained).toBeGreaterThan(0);
    expect(t.explained).toBeLessThan(10);
    expect(t.explained + t.dropped).toBe(50);
  });
});

describe('config', () => {
  test('off by default; on with true or an object; bad fields keep defaults', () => {
    expect(contributionMonitorConfig({}).enabled).toBe(false);
    expect(contributionMonitorConfig({ monitor: { psi: 0.3 } }).enabled).toBe(false);
    expect(contributionMonitorConfig({ monitor: { contributions: true } }).enabled).toBe(true);
    const c = contributionMonitorConfig({
      monitor: { contributions: { sample: 0.5, window_rows: -3, influence: 1 } },
    });
    expect(c).toMatchObject({ enabled: true, sample: 0.5, window_rows: 500, influence: 1 });
    expect(contributionMonitorConfig({ monitor: { contributions: { enabled: false } } }).enabled).toBe(false);
  });
});
